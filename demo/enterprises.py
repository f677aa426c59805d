"""scjgj enterprise registry (市场主体登记): the records the Market Regulation API serves."""

from __future__ import annotations

import random
from datetime import date, datetime

from faker.providers.company.zh_CN import Provider as CompanyTables

from countyhub.demo.divisions import COUNTY_CODE, TOWNSHIP_BY_CODE
from countyhub.demo.draws import choice, randint
from countyhub.demo.household import Person
from countyhub.demo.identifiers import credit_code
from countyhub.demo.timeline import AS_OF, random_date, random_datetime, stamp, years_before

PERSONS_PER_ENTERPRISE = 12
# (enterprise_type, weight, USCC registrar+type code, capital range in 10k CNY)
TYPES = (
    ("有限责任公司", 35, "91", (10.0, 2000.0)),
    ("个体工商户", 40, "92", (1.0, 50.0)),
    ("个人独资企业", 10, "91", (1.0, 200.0)),
    ("农民专业合作社", 10, "93", (5.0, 500.0)),
    ("股份有限公司", 5, "91", (500.0, 20000.0)),
)
# (industry, business word for company names, shop word for sole traders)
INDUSTRIES = (
    ("批发和零售业", "商贸", "便利店"),
    ("农、林、牧、渔业", "农业开发", "种养殖场"),
    ("制造业", "竹制品加工", "加工厂"),
    ("住宿和餐饮业", "餐饮管理", "餐馆"),
    ("建筑业", "建筑工程", "装修队"),
    ("交通运输、仓储和邮政业", "物流", "货运部"),
    ("信息传输、软件和信息技术服务业", "信息技术", "电脑维修部"),
    ("居民服务、修理和其他服务业", "家政服务", "理发店"),
)
STATUSES = (("存续", 85), ("注销", 10), ("吊销", 5))
# Two-character trade names only: faker's longer ones carry other cities and industries (济南亿次元, 戴硕电子).
_SITES = {True: ("商业街", "竹海路", "滨河路", "工业园区"), False: ("场镇街", "场镇老街", "工业集中区")}
_TRADE_NAMES = tuple(p for p in CompanyTables.company_prefixes if len(p) == 2)


def _name(rng: random.Random, kind: str, business: str, shop: str, rep: Person, township: str) -> str:
    prefix = choice(rng, _TRADE_NAMES)
    if kind == "个体工商户":
        return f"{township}{rep.name[0]}记{shop}"
    if kind == "农民专业合作社":
        return f"大竹县{township}{prefix}种养殖专业合作社"
    if kind == "个人独资企业":
        return f"大竹县{prefix}{business}经营部"
    if kind == "股份有限公司":
        return f"四川{prefix}{business}股份有限公司"
    return f"大竹县{prefix}{business}有限公司"


def build_enterprises(rng: random.Random, persons: list[Person], per: int = PERSONS_PER_ENTERPRISE) -> list[dict]:
    """One enterprise per `per` (~12) residents; each legal representative is an adult resident."""
    adult_cutoff = years_before(AS_OF.date(), 18).isoformat()
    adults = [p for p in persons if p.birth_date <= adult_cutoff]
    taken: set[str] = set()
    records: list[dict] = []
    for _ in range(max(1, len(persons) // per) if adults else 0):
        kind, _weight, registrar, (low, high) = rng.choices(TYPES, weights=[t[1] for t in TYPES])[0]
        # Cooperatives are farming by law (农民专业合作社法); other types trade in any industry.
        industry, business, shop = INDUSTRIES[1] if kind == "农民专业合作社" else choice(rng, INDUSTRIES)
        rep = choice(rng, adults)
        township = TOWNSHIP_BY_CODE[rep.township_code]
        of_age = years_before(date.fromisoformat(rep.birth_date), -18)
        established = random_date(rng, max(of_age, date(1995, 1, 1)), AS_OF.date())
        records.append({
            "uscc": credit_code(rng, registrar, COUNTY_CODE, taken),
            "name": _name(rng, kind, business, shop, rep, township.name),
            "legal_representative": rep.name,
            "legal_rep_id_number": rep.id_number,
            "enterprise_type": kind,
            "industry": industry,
            "registered_capital": round(rng.uniform(low, high), 2),
            "established_date": established.isoformat(),
            "township_code": township.code,
            "address": f"{township.full_address_prefix}{choice(rng, _SITES[township.is_urban])}"
                       f"{randint(rng, 1, 200)}号",
            "status": rng.choices([s[0] for s in STATUSES], weights=[s[1] for s in STATUSES])[0],
            "updated_at": stamp(random_datetime(rng, datetime.combine(established, datetime.min.time()), AS_OF)),
        })
    return records
