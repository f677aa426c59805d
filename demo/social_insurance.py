"""rsj social insurance (社会保险信息系统): insured persons per insurance type, and recognized talents (人才认定).

Defects on purpose: names spelled differently from gaj (~1.5%), addresses older than gaj's (~5%), and ~0.5% of
insured rows entered twice under two insured_ids.
"""

from __future__ import annotations

import random
from datetime import date, datetime

from countyhub.demo.defects import DUPLICATE_RATE, maybe_stale, spelled
from countyhub.demo.draws import choice, pick
from countyhub.demo.household import Person
from countyhub.demo.timeline import AS_OF, ROLL_MONTH, random_date, random_datetime, stamp, years_before

INSURED_SHARE = 0.6  # working-age residents with an insurance record here
EMPLOYEE_SHARE = 0.35  # of them, insured through an employer (职工); the rest as 城乡居民
UNEMPLOYMENT_SHARE = 0.6  # employees also insured against unemployment
TALENT_SHARE = 0.004  # of the 22-45 year olds
STATUSES = (("参保缴费", 88), ("暂停缴费", 8), ("终止参保", 4))
EDUCATIONS = (("本科", 70), ("硕士研究生", 25), ("博士研究生", 5))
CATEGORY_BY_EDUCATION = {"本科": ("C类", "D类"), "硕士研究生": ("B类", "C类"), "博士研究生": ("A类", "B类")}
INSURED_DDL = """CREATE TABLE insured_persons (
    insured_id INTEGER PRIMARY KEY, id_number TEXT NOT NULL, name TEXT NOT NULL, gender TEXT NOT NULL,
    insurance_type TEXT NOT NULL, employer_uscc TEXT, employer_name TEXT, status TEXT NOT NULL,
    start_month TEXT NOT NULL, months_paid INTEGER NOT NULL, township_code TEXT NOT NULL, address TEXT NOT NULL,
    phone TEXT, updated_at TEXT NOT NULL)"""
TALENTS_DDL = """CREATE TABLE talents (
    talent_id INTEGER PRIMARY KEY, id_number TEXT NOT NULL, name TEXT NOT NULL, education TEXT NOT NULL,
    talent_category TEXT NOT NULL, employer_uscc TEXT NOT NULL, recognized_on TEXT NOT NULL,
    updated_at TEXT NOT NULL)"""


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return pick(rng, table)


def employers(records: list[dict]) -> list[tuple[str, str]]:
    """(uscc, name) of the enterprises that employ staff: the registered companies still in business."""
    return [(r["uscc"], r["name"]) for r in records if r["status"] == "存续" and r["enterprise_type"] != "个体工商户"]


def _months(start: str) -> int:
    year, month = map(int, start.split("-"))
    end_year, end_month = map(int, ROLL_MONTH.split("-"))
    return (end_year - year) * 12 + end_month - month + 1


def insured_row(rng: random.Random, insured_id: int, person: Person, kind: str,
                employer: tuple[str, str] | None) -> tuple:
    """One insured row of `person` for insurance `kind`, as the rsj clerk entered it."""
    born = date.fromisoformat(person.birth_date)
    first = max(years_before(born, -18), date(1998, 1, 1))
    start = random_date(rng, first, AS_OF.date()).strftime("%Y-%m") if first < AS_OF.date() else ROLL_MONTH
    status = _weighted(rng, STATUSES)
    paid = max(1, round(_months(start) * (rng.uniform(0.6, 1.0) if status != "参保缴费" else 1.0)))
    uscc, employer_name = employer or (None, None)
    return (insured_id, person.id_number, spelled(rng, person.name), person.gender, kind, uscc, employer_name,
            status, start, paid, person.township_code, maybe_stale(rng, person.address),
            person.phone if rng.random() < 0.8 else None,
            stamp(random_datetime(rng, datetime(2021, 1, 1), AS_OF)))


def build_insured(rng: random.Random, persons: list[Person], jobs: list[tuple[str, str]]) -> list[tuple]:
    """Pension and medical insurance for ~60% of residents aged 18-65; employees also unemployment insurance."""
    today = AS_OF.date()
    young, old = years_before(today, 18).isoformat(), years_before(today, 66).isoformat()
    rows: list[tuple] = []
    for person in persons:
        if not old < person.birth_date <= young or rng.random() >= INSURED_SHARE:
            continue
        employer = choice(rng, jobs) if jobs and rng.random() < EMPLOYEE_SHARE else None
        kinds = (["城镇职工基本养老保险", "职工基本医疗保险"] + (["失业保险"] if rng.random() < UNEMPLOYMENT_SHARE else [])
                 if employer else ["城乡居民基本养老保险", "城乡居民基本医疗保险"])
        for kind in kinds:
            rows.append(insured_row(rng, len(rows) + 1, person, kind, employer))
            if rng.random() < DUPLICATE_RATE:  # entered twice: a second insured_id, typed again later
                again = rows[-1]
                rows.append((len(rows) + 1, *again[1:-1], stamp(random_datetime(rng, datetime(2023, 1, 1), AS_OF))))
    return rows


def build_talents(rng: random.Random, persons: list[Person], jobs: list[tuple[str, str]]) -> list[tuple]:
    """Recognized talents: graduates aged 22-45 working for a county enterprise."""
    today = AS_OF.date()
    young, old = years_before(today, 22).isoformat(), years_before(today, 46).isoformat()
    rows: list[tuple] = []
    for person in persons:
        if not jobs or not old < person.birth_date <= young or rng.random() >= TALENT_SHARE:
            continue
        education = _weighted(rng, EDUCATIONS)
        recognized = random_date(rng, date(2019, 1, 1), today)
        rows.append((len(rows) + 1, person.id_number, spelled(rng, person.name), education,
                     choice(rng, CATEGORY_BY_EDUCATION[education]), choice(rng, jobs)[0], recognized.isoformat(),
                     stamp(random_datetime(rng, datetime.combine(recognized, datetime.min.time()), AS_OF))))
    return rows
