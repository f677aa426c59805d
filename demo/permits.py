"""gaj residence permits (居住证) of people registered elsewhere, and cancelled registrations (户口注销)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from countyhub.demo.divisions import COUNTY_CODE, COUNTY_CODE_SINCE, FORMER_COUNTY_CODE, TOWNSHIPS
from countyhub.demo.draws import choice, randint
from countyhub.demo.household import Person, address_in, person_name
from countyhub.demo.identifiers import mobile, resident_id
from countyhub.demo.timeline import AS_OF, random_date, random_datetime, stamp, years_before

PERMIT_SHARE = 0.04  # permit holders per registered resident
CHILD_SHARE = 0.15  # permit holders who brought a child born in the current school-entry cohorts
CANCELLED_SHARE = 0.005  # registrations cancelled before AS_OF (deaths, moves out), kept as history
# Where Dazhu's newcomers are registered: neighbouring counties of Dazhou, with the code an ID number born
# there carries before 1999 (达川地区) and since (达州市), as for Dazhu itself (see divisions.py).
ORIGINS = (("四川省达州市宣汉县", "513022", "511722"), ("四川省达州市开江县", "513023", "511723"),
           ("四川省达州市通川区", "513001", "511702"))
PERMITS_DDL = """CREATE TABLE residence_permits (
    permit_no TEXT PRIMARY KEY, id_number TEXT NOT NULL, name TEXT NOT NULL, gender TEXT NOT NULL,
    birth_date TEXT NOT NULL, township_code TEXT NOT NULL, address TEXT NOT NULL, issued_on TEXT NOT NULL,
    valid_until TEXT NOT NULL, status TEXT NOT NULL, updated_at TEXT NOT NULL)"""
CANCELLATIONS_DDL = """CREATE TABLE person_cancellations (
    person_id INTEGER PRIMARY KEY, id_number TEXT NOT NULL, reason TEXT NOT NULL, cancelled_on TEXT NOT NULL,
    updated_at TEXT NOT NULL)"""


@dataclass
class Newcomer:
    """A permit holder or their child: not in gaj persons, but in other departments' records."""

    id_number: str
    name: str
    gender: str
    birth_date: str
    township_code: str
    address: str  # where they live in Dazhu
    origin_address: str  # where their household is registered
    phone: str
    guardian: Newcomer | None = None


@dataclass
class Permits:
    rows: list[tuple]
    holders: list[Newcomer]
    children: list[Newcomer]


def permit_no(year: int, serial: int) -> str:
    return f"{COUNTY_CODE}{year}{serial:06d}"


def _newcomer(rng: random.Random, birth: date, origin: tuple[str, str, str], taken: set[str],
              township_code: str, address: str, phone: str) -> Newcomer:
    male = rng.random() < 0.5
    division = origin[1] if birth.year < COUNTY_CODE_SINCE else origin[2]
    return Newcomer(resident_id(rng, division, birth, male, taken), person_name(rng, male), "男" if male else "女",
                    birth.isoformat(), township_code, address,
                    f"{origin[0]}{choice(rng, ('城关镇', '新华镇', '南坝镇'))}{randint(rng, 1, 12)}组{randint(rng, 1, 80)}号",
                    phone)


def build_permits(rng: random.Random, persons: int, cohort: tuple[date, date]) -> Permits:
    """Permits for ~4% as many newcomers as residents; some brought a child born in `cohort` (school entry)."""
    taken: set[str] = set()
    rows: list[tuple] = []
    holders: list[Newcomer] = []
    children: list[Newcomer] = []
    serials: dict[int, int] = {}
    today = AS_OF.date()
    for _ in range(max(1, round(persons * PERMIT_SHARE))):
        township = choice(rng, TOWNSHIPS)
        birth = random_date(rng, years_before(today, 56), years_before(today, 20))
        origin = choice(rng, ORIGINS)
        holder = _newcomer(rng, birth, origin, taken, township.code, address_in(rng, township),
                           mobile(rng))
        holders.append(holder)
        issued = random_date(rng, date(2019, 1, 1), today)
        serials[issued.year] = serials.get(issued.year, 0) + 1
        valid_until = issued + timedelta(days=3 * 365)
        status = "注销" if rng.random() < 0.03 else ("有效" if valid_until >= today else "过期")
        rows.append((permit_no(issued.year, serials[issued.year]), holder.id_number, holder.name, holder.gender,
                     holder.birth_date, township.code, holder.address, issued.isoformat(), valid_until.isoformat(),
                     status, stamp(random_datetime(rng, datetime.combine(issued, datetime.min.time()), AS_OF))))
        if rng.random() < CHILD_SHARE and birth.year < cohort[0].year - 20:  # old enough to be the parent
            child = _newcomer(rng, random_date(rng, *cohort), origin, taken, township.code, holder.address,
                              holder.phone)
            child.origin_address, child.guardian = holder.origin_address, holder
            children.append(child)
    return Permits(rows, holders, children)


def build_cancellations(rng: random.Random, people: list[Person]) -> list[tuple]:
    """Registrations cancelled before AS_OF: the people are gone from persons; their ids follow persons'."""
    taken = {p.id_number for p in people}
    rows = []
    first_id = len(people) + 1
    for n in range(max(1, round(len(people) * CANCELLED_SHARE))):
        died = rng.random() < 0.6
        birth = random_date(rng, date(1930, 1, 1), date(1960, 12, 31)) if died else \
            random_date(rng, date(1970, 1, 1), date(2004, 12, 31))
        division = FORMER_COUNTY_CODE if birth.year < COUNTY_CODE_SINCE else COUNTY_CODE
        cancelled = random_datetime(rng, datetime(2024, 1, 1), AS_OF)
        rows.append((first_id + n, resident_id(rng, division, birth, rng.random() < 0.5, taken),
                     "死亡" if died else "迁出", cancelled.date().isoformat(),
                     stamp(min(cancelled + timedelta(days=randint(rng, 0, 20)), AS_OF))))
    return rows
