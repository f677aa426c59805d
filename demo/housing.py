"""zjj housing (不动产登记 and 公租房): property records of households and newcomers, public-rental applications.

Defects on purpose: owner names spelled differently from gaj (~1.5%), property addresses older than the owner's
gaj address (~5%).
"""

from __future__ import annotations

import random
from datetime import date, datetime

from countyhub.demo.defects import maybe_stale, spelled
from countyhub.demo.divisions import TOWNSHIP_BY_CODE
from countyhub.demo.draws import choice, pick, randint
from countyhub.demo.household import Household, Person
from countyhub.demo.permits import Newcomer
from countyhub.demo.timeline import AS_OF, random_date, random_datetime, stamp

OWNER_SHARE = 0.7  # households whose home is registered property
NEWCOMER_OWNER_SHARE = 0.2  # permit holders who bought a home here
SHOP_SHARE = 0.05  # households that also own a shop
RENTAL_SHARE = 0.005  # persons who applied for public rental housing
PROPERTY_STATUSES = (("正常", 80), ("抵押", 17), ("查封", 1), ("注销", 2))
RENTAL_STATUSES = (("待审核", 15), ("轮候中", 35), ("已配租", 35), ("已退出", 8), ("不予受理", 7))
ESTATES = ("竹海公租房小区", "东柳公租房小区", "白塔安居苑")
AREAS = {"住宅": (55.0, 160.0), "商业": (20.0, 300.0), "工业": (500.0, 5000.0)}
PROPERTY_DDL = """CREATE TABLE property_records (
    property_id TEXT PRIMARY KEY, owner_id_number TEXT NOT NULL, owner_name TEXT NOT NULL,
    township_code TEXT NOT NULL, address TEXT NOT NULL, area_m2 REAL NOT NULL, usage TEXT NOT NULL,
    registered_on TEXT NOT NULL, status TEXT NOT NULL, updated_at TEXT NOT NULL)"""
RENTAL_DDL = """CREATE TABLE rental_applications (
    application_id INTEGER PRIMARY KEY, applicant_id_number TEXT NOT NULL, applicant_name TEXT NOT NULL,
    household_size INTEGER NOT NULL, monthly_income_per_person REAL NOT NULL, township_code TEXT NOT NULL,
    applied_on TEXT NOT NULL, status TEXT NOT NULL, unit_address TEXT, updated_at TEXT NOT NULL)"""


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return pick(rng, table)


def certificate_no(year: int, serial: int) -> str:
    """不动产权证书号 as printed: 川(年份)大竹县不动产权第0001234号."""
    return f"川({year})大竹县不动产权第{serial:07d}号"


class PropertyRegister:
    """Hands out certificate numbers per registration year, so new registrations on later days continue them."""

    def __init__(self, serials: dict[int, int] | None = None) -> None:
        self.serials = serials or {}

    def record(self, rng: random.Random, owner_id: str, owner_name: str, township_code: str, address: str,
               usage: str, registered: date) -> tuple:
        self.serials[registered.year] = self.serials.get(registered.year, 0) + 1
        low, high = AREAS[usage]
        return (certificate_no(registered.year, self.serials[registered.year]), owner_id, owner_name, township_code,
                address, round(rng.uniform(low, high), 2), usage, registered.isoformat(),
                _weighted(rng, PROPERTY_STATUSES),
                stamp(random_datetime(rng, datetime.combine(registered, datetime.min.time()), AS_OF)))


def build_properties(rng: random.Random, households: list[Household], persons: list[Person],
                     newcomers: list[Newcomer]) -> list[tuple]:
    """Homes of ~70% of households (owned by the head), some shops, and homes of ~20% of permit holders."""
    names = {p.id_number: p.name for p in persons}
    register = PropertyRegister()
    rows = []
    for household in households:
        if rng.random() >= OWNER_SHARE:
            continue
        registered = random_date(rng, max(date.fromisoformat(household.registered_on), date(2016, 1, 1)),
                                 AS_OF.date())
        name = spelled(rng, names[household.head_id_number])
        rows.append(register.record(rng, household.head_id_number, name, household.township_code,
                                    maybe_stale(rng, household.address), "住宅", registered))
        if rng.random() < SHOP_SHARE:
            township = TOWNSHIP_BY_CODE[household.township_code]
            rows.append(register.record(rng, household.head_id_number, name, household.township_code,
                                        f"{township.full_address_prefix}商业街{randint(rng, 1, 200)}号门市",
                                        "商业", random_date(rng, date(2016, 1, 1), AS_OF.date())))
    for holder in newcomers:
        if rng.random() < NEWCOMER_OWNER_SHARE:
            rows.append(register.record(rng, holder.id_number, holder.name, holder.township_code, holder.address,
                                        "住宅", random_date(rng, date(2019, 1, 1), AS_OF.date())))
    rows.sort(key=lambda r: (r[7], r[0]))
    return rows


def build_rentals(rng: random.Random, persons: list[Person], household_sizes: dict[int, int],
                  newcomers: list[Newcomer]) -> list[tuple]:
    """Applications of low-income residents and of permit holders (新市民 may apply too)."""
    applicants: list[tuple[str, str, int, str]] = [
        (p.id_number, spelled(rng, p.name), household_sizes[p.household_id], p.township_code)
        for p in rng.sample(persons, max(1, round(len(persons) * RENTAL_SHARE)))]
    applicants += [(n.id_number, n.name, randint(rng, 1, 4), n.township_code)
                   for n in rng.sample(newcomers, min(len(newcomers), max(1, len(applicants) // 4)))]
    rows = []
    for number, (id_number, name, size, township_code) in enumerate(applicants, start=1):
        applied = random_date(rng, date(2020, 1, 1), AS_OF.date())
        status = _weighted(rng, RENTAL_STATUSES)
        unit = (f"大竹县{choice(rng, ESTATES)}{randint(rng, 1, 12)}栋{randint(rng, 1, 3)}单元"
                f"{randint(rng, 1, 18)}{randint(rng, 1, 4):02d}室") if status in ("已配租", "已退出") else None
        rows.append((number, id_number, name, size, round(rng.uniform(300.0, 3000.0), 2), township_code,
                     applied.isoformat(), status, unit,
                     stamp(random_datetime(rng, datetime.combine(applied, datetime.min.time()), AS_OF))))
    return rows
