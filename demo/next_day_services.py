"""One simulated day at rsj, zjj, jyj and wjj: new insured and status changes, new property registrations and
rental decisions, a school's replaced enrollment workbook, the day's vaccinations; and the manifest's recount."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import openpyxl

from countyhub.demo import enrollment_book, health, social_insurance
from countyhub.demo.education import COHORT, PRIMARY_TYPES, Application
from countyhub.demo.household import Person
from countyhub.demo.housing import PropertyRegister
from countyhub.demo.store import CGJ_DB, ENTERPRISES_JSON, GAJ_DB, JYJ_DB, JYJ_DROP, RSJ_DB, WJJ_DB, ZJJ_DB, rng_for
from countyhub.demo.timeline import day_clock, moment, share

TABLES = {"rsj": (RSJ_DB, ("insured_persons", "talents")), "zjj": (ZJJ_DB, ("property_records", "rental_applications")),
          "wjj": (WJJ_DB, ("clinics", "vaccinations")), "jyj": (JYJ_DB, ("schools",))}


def _rsj(conn: sqlite3.Connection, rng: random.Random, day: int, persons: list[Person]) -> None:
    ids = [r[0] for r in conn.execute("SELECT insured_id FROM insured_persons")]
    conn.executemany("UPDATE insured_persons SET status = ?, months_paid = months_paid + 1, updated_at = ? "
                     "WHERE insured_id = ?", [(rng.choice(("参保缴费", "暂停缴费", "终止参保")), moment(rng, day), i)
                                               for i in rng.sample(ids, share(rng, len(ids), 0.007))])
    first = max(ids, default=0) + 1
    rows = [social_insurance.insured_row(rng, first + n, person, "城乡居民基本医疗保险", None)
            for n, person in enumerate(rng.sample(persons, share(rng, len(ids), 0.003)))]
    conn.executemany(f"INSERT INTO insured_persons VALUES ({','.join('?' * 14)})",
                     [(*row[:-1], moment(rng, day)) for row in rows])


def _zjj(conn: sqlite3.Connection, rng: random.Random, day: int, persons: list[Person]) -> None:
    serials: dict[int, int] = {}
    for (number,) in conn.execute("SELECT property_id FROM property_records"):
        year, serial = int(number[2:6]), int(number[number.index("第") + 1:-1])
        serials[year] = max(serials.get(year, 0), serial)
    register = PropertyRegister(serials)
    total = conn.execute("SELECT count(*) FROM property_records").fetchone()[0]
    today = day_clock(day)[0].date()
    new = [register.record(rng, p.id_number, p.name, p.township_code, p.address, "住宅", today)
           for p in rng.sample(persons, share(rng, total, 0.005))]
    conn.executemany("INSERT INTO property_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [(*row[:-2], "正常", moment(rng, day)) for row in new])
    keys = [r[0] for r in conn.execute("SELECT property_id FROM property_records WHERE status IN ('正常', '抵押')")]
    conn.executemany("UPDATE property_records SET status = ?, updated_at = ? WHERE property_id = ?",
                     [(rng.choice(("抵押", "正常", "注销")), moment(rng, day), k)
                      for k in rng.sample(keys, share(rng, total, 0.005))])
    waiting = [r[0] for r in conn.execute("SELECT application_id FROM rental_applications "
                                          "WHERE status IN ('待审核', '轮候中')")]
    conn.executemany("UPDATE rental_applications SET status = ?, updated_at = ? WHERE application_id = ?",
                     [(rng.choice(("轮候中", "已配租", "不予受理")), moment(rng, day), a)
                      for a in rng.sample(waiting, share(rng, len(waiting), 0.02))])


def _jyj(out: Path, rng: random.Random, day: int, persons: list[Person]) -> None:
    """One school sends its workbook again with the applications that came in since."""
    with sqlite3.connect(out / JYJ_DB) as conn:
        schools = conn.execute("SELECT school_code, school_name, township_code FROM schools WHERE school_type IN "
                               f"({','.join('?' * len(PRIMARY_TYPES))}) ORDER BY school_code", PRIMARY_TYPES).fetchall()
    conn.close()
    code, name, township_code = rng.choice(schools)
    path = out / JYJ_DROP / enrollment_book.file_name(code)
    book = openpyxl.load_workbook(path, read_only=True)
    lines = list(book[enrollment_book.SHEET].iter_rows(min_row=3, values_only=True))
    book.close()
    applied = set()
    for p in (out / JYJ_DROP).glob("enrollment_*.xlsx"):
        other = openpyxl.load_workbook(p, read_only=True)
        applied |= {row[4] for row in other[enrollment_book.SHEET].iter_rows(min_row=3, values_only=True)}
        other.close()
    first, last = COHORT[0].isoformat(), COHORT[1].isoformat()
    waiting = [p for p in persons if first <= p.birth_date <= last and p.township_code == township_code
               and p.id_number not in applied]
    today = day_clock(day)[0].date()
    kept = [Application(r[1], r[2], _as_date(r[3]), r[4], r[5], r[6], r[7], r[8], r[9], r[10], _as_date(r[11]))
            for r in lines]
    households = {child.household_id for child in waiting}
    adults = {}
    for p in persons:  # the eldest member of the child's household signs, as the head usually does
        if p.household_id in households and p.birth_date < "2000" and p.household_id not in adults:
            adults[p.household_id] = p
    for child in rng.sample(waiting, min(len(waiting), share(rng, max(len(lines), 10), 0.1))):
        if (guardian := adults.get(child.household_id)) is None:
            continue
        kept.append(Application(child.name, child.gender, date.fromisoformat(child.birth_date), child.id_number,
                                guardian.name, guardian.id_number, "父亲" if guardian.gender == "男" else "母亲",
                                child.address, child.address, guardian.phone, today))
    enrollment_book.write_workbook(path, rng, name, kept)


def _as_date(value: object) -> date:
    """A date cell back from a school's workbook, whichever way it was written."""
    if isinstance(value, date):
        return value if type(value) is date else value.date()  # type: ignore[attr-defined]
    text = str(value).replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-")
    year, month, day = (int(part) for part in text.split("-"))
    return date(year, month, day)


def _wjj(conn: sqlite3.Connection, rng: random.Random, day: int, persons: list[Person]) -> None:
    """The day's births get their birth doses; children due a dose get it."""
    today = day_clock(day)[0].date()
    first = conn.execute("SELECT coalesce(max(record_id), 0) FROM vaccinations").fetchone()[0] + 1
    newborn = [health.Child(p.id_number, p.name, p.birth_date, p.township_code) for p in persons
               if p.birth_date == today.isoformat()]
    since = (today - timedelta(days=7 * 365)).isoformat()
    children = [health.Child(p.id_number, p.name, p.birth_date, p.township_code) for p in persons
                if since <= p.birth_date < today.isoformat()]
    total = conn.execute("SELECT count(*) FROM vaccinations").fetchone()[0]
    rows: list[tuple] = []
    for child in newborn + rng.sample(children, min(len(children), share(rng, total, 0.01))):
        have = {(c, d) for c, d in conn.execute("SELECT vaccine_code, dose_no FROM vaccinations "
                                                "WHERE child_id_number = ?", (child.id_number,))}
        for row in health.vaccination_rows(random.Random(child.id_number), child, 0, today):
            if (row[4], row[6]) not in have:
                rows.append((first + len(rows), *row[1:7], today.isoformat(), row[8], moment(rng, day)))
                break
    conn.executemany(f"INSERT INTO vaccinations VALUES ({','.join('?' * 10)})", rows)


def advance(out: Path, seed: int, day: int, persons: list[Person]) -> None:
    for db, change in ((RSJ_DB, _rsj), (ZJJ_DB, _zjj), (WJJ_DB, _wjj)):
        with sqlite3.connect(out / db) as conn:
            if db == WJJ_DB:
                conn.execute("CREATE INDEX IF NOT EXISTS vaccinations_child ON vaccinations (child_id_number)")
            change(conn, rng_for(seed, f"day{day}:{db}"), day, persons)
        conn.close()
    _jyj(out, rng_for(seed, f"day{day}:jyj"), day, persons)


def recount(out: Path, counts: dict[str, int]) -> dict[str, int]:
    """The manifest's counts after a day, from the systems themselves."""
    fresh = dict(counts)
    tables = {**TABLES, "gaj": (GAJ_DB, ("persons", "households", "residence_permits", "person_cancellations")),
              "cgj": (CGJ_DB, ("grids", "facilities", "cases"))}
    for dept, (db, names) in tables.items():
        with sqlite3.connect(out / db) as conn:
            for name in names:
                fresh[f"{dept}.{name}"] = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        conn.close()
    fresh["scjgj.enterprises"] = len(json.loads((out / ENTERPRISES_JSON).read_text(encoding="utf-8")))
    rows = 0
    for path in (out / JYJ_DROP).glob("enrollment_*.xlsx"):
        book = openpyxl.load_workbook(path, read_only=True)
        rows += sum(1 for _ in book[enrollment_book.SHEET].iter_rows(min_row=3))
        book.close()
    fresh["jyj.enrollment_applications"] = rows
    return fresh
