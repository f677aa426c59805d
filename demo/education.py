"""jyj education (教育局): the county's schools, and the grade-1 applications each primary school collects.

Applicants are mostly gaj children of the 2027 school-entry cohort, with a guardian from their household; children
of residence-permit holders apply with that parent. Defects on purpose: ~2% of applicants are a year too young,
names spelled differently from gaj (~1.5%).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime

from countyhub.demo.defects import spelled
from countyhub.demo.divisions import TOWNSHIPS, Township
from countyhub.demo.household import Person
from countyhub.demo.permits import Newcomer
from countyhub.demo.timeline import AS_OF, random_date, random_datetime, stamp

ENTRY_YEAR = 2027
# Children who turn 6 by 31 August of the entry year start primary school that autumn.
COHORT = (date(ENTRY_YEAR - 7, 9, 1), date(ENTRY_YEAR - 6, 8, 31))
TOO_YOUNG = (date(ENTRY_YEAR - 6, 9, 1), date(ENTRY_YEAR - 6, 12, 31))
APPLY_SHARE = 0.85  # of the cohort, applied so far
TOO_YOUNG_SHARE = 0.02  # of the applicants: parents who try a year early
PRIMARY_TYPES = ("小学", "九年一贯制学校")
SCHOOLS_DDL = """CREATE TABLE schools (
    school_code TEXT PRIMARY KEY, school_name TEXT NOT NULL, school_type TEXT NOT NULL, township_code TEXT NOT NULL,
    address TEXT NOT NULL, grade1_capacity INTEGER, updated_at TEXT NOT NULL)"""
_ORDINALS = "一二三四五六七八九"


@dataclass(frozen=True)
class Application:
    """One line of a school's 新生入学申请表, before the school writes its dates its own way."""

    student_name: str
    gender: str
    birth_date: date
    student_id: str
    guardian_name: str
    guardian_id: str
    relationship: str
    registered_address: str
    current_address: str
    phone: str
    applied_on: date


def school_code(township: Township, n: int) -> str:
    """A 10-digit 学校标识码 style code: 21, the county, the township serial, a school number."""
    return f"21{township.code[2:6]}{township.code[-3:]}{n}"


def build_schools(rng: random.Random) -> list[tuple]:
    """Three primary schools, two middle schools and two kindergartens per 街道; per town a 中心小学 (or a
    九年一贯制学校 in about a third), a middle school and a kindergarten."""
    rows = []
    for township in TOWNSHIPS:
        if township.is_urban:
            place = township.name[:-2]
            named = [(f"大竹县{place}第{_ORDINALS[i]}小学", "小学") for i in range(3)]
            named += [(f"大竹县{place}第{_ORDINALS[i]}初级中学", "初中") for i in range(2)]
            named += [(f"大竹县{place}第{_ORDINALS[i]}幼儿园", "幼儿园") for i in range(2)]
        elif rng.random() < 0.35:
            named = [(f"大竹县{township.name}九年一贯制学校", "九年一贯制学校"), (f"大竹县{township.name}中心幼儿园", "幼儿园")]
        else:
            named = [(f"大竹县{township.name}中心小学", "小学"), (f"大竹县{township.name}初级中学", "初中"),
                     (f"大竹县{township.name}中心幼儿园", "幼儿园")]
        for n, (name, kind) in enumerate(named, start=1):
            capacity = None
            if kind in PRIMARY_TYPES:
                capacity = 45 * rng.randint(6, 8) if township.is_urban else 45 * rng.randint(1, 3)
            rows.append((school_code(township, n), name, kind, township.code,
                         f"{township.full_address_prefix}{'学府路' if kind != '幼儿园' else '育才街'}{rng.randint(1, 200)}号",
                         capacity, stamp(random_datetime(rng, datetime(2023, 1, 1), AS_OF))))
    return rows


def _relationship(guardian: Person | Newcomer, child_birth: str) -> str:
    older = int(child_birth[:4]) - int(guardian.birth_date[:4])
    male = guardian.gender == "男"
    if older >= 45:
        return "祖父" if male else "祖母"
    return "父亲" if male else "母亲"


def build_applications(rng: random.Random, persons: list[Person], newcomers: list[Newcomer],
                       schools: list[tuple]) -> dict[str, list[Application]]:
    """Applications per primary school_code: each child applies to one primary school of their township."""
    primary: dict[str, list[str]] = {}
    for code, _name, kind, township_code, *_ in schools:
        if kind in PRIMARY_TYPES:
            primary.setdefault(township_code, []).append(code)
    first, last = COHORT[0].isoformat(), COHORT[1].isoformat()
    early_first, early_last = TOO_YOUNG[0].isoformat(), TOO_YOUNG[1].isoformat()
    cohort = [p for p in persons if first <= p.birth_date <= last]
    early = [p for p in persons if early_first <= p.birth_date <= early_last]
    members: dict[int, list[Person]] = {}
    for person in persons:
        members.setdefault(person.household_id, []).append(person)
    by_school: dict[str, list[Application]] = {code: [] for codes in primary.values() for code in codes}
    applicants = [p for p in cohort if rng.random() < APPLY_SHARE]
    applicants += rng.sample(early, min(len(early), round(len(applicants) * TOO_YOUNG_SHARE)))
    for child in applicants:
        adults = [m for m in members[child.household_id] if int(m.birth_date[:4]) <= int(child.birth_date[:4]) - 20]
        if not adults:
            continue  # a child registered without an adult in the household applies through another channel
        guardian = adults[0] if rng.random() < 0.7 else rng.choice(adults)
        moved = rng.random() < 0.1
        by_school[rng.choice(primary[child.township_code])].append(Application(
            spelled(rng, child.name), child.gender, date.fromisoformat(child.birth_date), child.id_number,
            spelled(rng, guardian.name), guardian.id_number, _relationship(guardian, child.birth_date),
            child.address, child.address if not moved else f"{child.address[:-1]}附{rng.randint(1, 9)}号",
            guardian.phone, random_date(rng, date(AS_OF.year, AS_OF.month, 1), AS_OF.date())))
    for child in newcomers:
        guardian = child.guardian
        assert guardian is not None
        by_school[rng.choice(primary[child.township_code])].append(Application(
            child.name, child.gender, date.fromisoformat(child.birth_date), child.id_number, guardian.name,
            guardian.id_number, _relationship(guardian, child.birth_date), child.origin_address, child.address,
            guardian.phone, random_date(rng, date(AS_OF.year, AS_OF.month, 1), AS_OF.date())))
    return by_school
