"""wjj health (卫健局): clinics of the county, and the vaccination records (预防接种) of children born in the last 7 years.

Defects on purpose: ~8% of children miss one dose that was due; child names spelled differently from gaj (~1.5%).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from countyhub.demo.defects import spelled
from countyhub.demo.divisions import TOWNSHIP_BY_CODE, TOWNSHIPS, Township
from countyhub.demo.draws import choice, randint
from countyhub.demo.timeline import AS_OF, random_datetime, stamp

MISSED_DOSE_SHARE = 0.08
# The national immunization schedule up to age 6: (code, name, age in months at each dose).
SCHEDULE = (
    ("HepB", "乙肝疫苗", (0, 1, 6)),
    ("BCG", "卡介苗", (0,)),
    ("IPV", "脊灰疫苗", (2, 3, 4, 48)),
    ("DTaP", "百白破疫苗", (3, 4, 5, 18)),
    ("MMR", "麻腮风疫苗", (8, 18)),
    ("JE-L", "乙脑减毒活疫苗", (8, 24)),
    ("MPSV-A", "A群流脑多糖疫苗", (6, 9)),
    ("MPSV-AC", "A群C群流脑多糖疫苗", (36, 72)),
    ("HepA-L", "甲肝减毒活疫苗", (18,)),
    ("DT", "白破疫苗", (72,)),
)
DOSES = tuple((code, name, n, months) for code, name, ages in SCHEDULE for n, months in enumerate(ages, start=1))
CLINICS_DDL = """CREATE TABLE clinics (
    clinic_code TEXT PRIMARY KEY, clinic_name TEXT NOT NULL, clinic_type TEXT NOT NULL,
    township_code TEXT NOT NULL, address TEXT NOT NULL, updated_at TEXT NOT NULL)"""
VACCINATIONS_DDL = """CREATE TABLE vaccinations (
    record_id INTEGER PRIMARY KEY, child_id_number TEXT NOT NULL, child_name TEXT NOT NULL, birth_date TEXT NOT NULL,
    vaccine_code TEXT NOT NULL, vaccine_name TEXT NOT NULL, dose_no INTEGER NOT NULL, vaccinated_on TEXT NOT NULL,
    clinic_code TEXT NOT NULL, updated_at TEXT NOT NULL)"""


@dataclass(frozen=True)
class Child:
    id_number: str
    name: str
    birth_date: str
    township_code: str


def clinic_code(township: Township, n: int) -> str:
    return f"{township.code}{n:03d}"


def build_clinics(rng: random.Random) -> list[tuple]:
    """County hospitals in the seat, a 卫生院 or 社区卫生服务中心 per township, village clinics in the towns."""
    rows = []
    seat = TOWNSHIPS[0]
    for n, name in enumerate(("大竹县人民医院", "大竹县中医院", "大竹县妇幼保健院"), start=1):
        rows.append((clinic_code(seat, 900 + n), name, "县级医院", seat.code, f"{seat.full_address_prefix}竹阳大道{n * 100}号"))
    for township in TOWNSHIPS:
        kind = "社区卫生服务中心" if township.is_urban else "乡镇卫生院"
        rows.append((clinic_code(township, 1), f"大竹县{township.name}{kind}", kind, township.code,
                     f"{township.full_address_prefix}{'健康路' if township.is_urban else '场镇街'}{randint(rng, 1, 99)}号"))
        for n in range(2, 2 + (0 if township.is_urban else randint(rng, 2, 4))):
            village = choice(rng, ("新华", "石岭", "双河", "龙门", "太平", "高峰", "青杠", "柏林"))
            rows.append((clinic_code(township, n), f"{township.name}{village}村卫生室", "村卫生室", township.code,
                         f"{township.full_address_prefix}{village}村{randint(rng, 1, 12)}组"))
    return [(*row, stamp(random_datetime(rng, datetime(2023, 1, 1), AS_OF))) for row in rows]


def _due(birth: date, months: int) -> date:
    year, month = divmod(birth.month - 1 + months, 12)
    return birth.replace(year=birth.year + year, month=month + 1, day=min(birth.day, 28))


@cache
def _due_days(birth_date: str) -> tuple[int, ...]:
    """The day (ordinal) each dose of DOSES falls due for a child born on `birth_date` (many children share it)."""
    birth = date.fromisoformat(birth_date)
    return tuple(_due(birth, months).toordinal() for _, _, _, months in DOSES)


def vaccination_rows(rng: random.Random, child: Child, first_id: int, until: date) -> list[tuple]:
    """The doses `child` got up to `until`: each due dose, given 0-30 days late, unless this child missed it."""
    local = clinic_code(TOWNSHIP_BY_CODE[child.township_code], 1)
    hospital = clinic_code(TOWNSHIPS[0], 903)  # the birth doses at the maternity hospital
    due = [(code, vaccine, dose, months, date.fromordinal(day + (randint(rng, 0, 30) if months else 0)))
           for (code, vaccine, dose, months), day in zip(DOSES, _due_days(child.birth_date))]
    due = [d for d in due if d[4] <= until]
    missed = rng.randrange(len(due)) if due and rng.random() < MISSED_DOSE_SHARE else -1
    name = spelled(rng, child.name)
    rows = []
    for index, (code, vaccine, dose, months, given) in enumerate(due):
        if index == missed:
            continue
        day = given.isoformat()
        rows.append((first_id + len(rows), child.id_number, name, child.birth_date, code, vaccine, dose,
                     day, hospital if months == 0 else local,
                     f"{day} {randint(rng, 8, 17):02d}:{randint(rng, 0, 59):02d}:00"))
    return rows


def build_vaccinations(rng: random.Random, children: list[Child]) -> list[tuple]:
    rows: list[tuple] = []
    for child in children:
        rows += vaccination_rows(rng, child, len(rows) + 1, AS_OF.date())
    return rows
