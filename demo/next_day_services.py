"""One simulated day at rsj, zjj, jyj and wjj: new insured and status changes, new property registrations and
rental decisions, a school's replaced enrollment workbook, the day's vaccinations; and the manifest's recount."""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import openpyxl

from countyhub.demo import enrollment_book, health, social_insurance
from countyhub.demo.education import COHORT, PRIMARY_TYPES, Application
from countyhub.demo.household import Person
from countyhub.demo.housing import PropertyRegister, certificate_no
from countyhub.demo.sampling import Population, batched, by_key, count, sample_rowids
from countyhub.demo.store import (
    CGJ_DB,
    GAJ_DB,
    JYJ_DB,
    JYJ_DROP,
    RSJ_DB,
    WJJ_DB,
    ZJJ_DB,
    open_for_day,
    rng_for,
)
from countyhub.demo.timeline import day_clock, moment, share

TABLES = {"rsj": (RSJ_DB, ("insured_persons", "talents")), "zjj": (ZJJ_DB, ("property_records", "rental_applications")),
          "wjj": (WJJ_DB, ("clinics", "vaccinations")), "jyj": (JYJ_DB, ("schools",))}


def _rsj(conn: sqlite3.Connection, rng: random.Random, day: int, population: Population) -> None:
    total = count(conn, "insured_persons")
    conn.executemany("UPDATE insured_persons SET status = ?, months_paid = months_paid + 1, updated_at = ? "
                     "WHERE insured_id = ?", by_key([(rng.choice(("参保缴费", "暂停缴费", "终止参保")), moment(rng, day), i)
                                                      for i in sample_rowids(conn, "insured_persons", rng,
                                                                             share(rng, total, 0.007))]))
    first = conn.execute("SELECT coalesce(max(insured_id), 0) FROM insured_persons").fetchone()[0] + 1
    rows = [social_insurance.insured_row(rng, first + n, person, "城乡居民基本医疗保险", None)
            for n, person in enumerate(population.sample(rng, share(rng, total, 0.003)))]
    conn.executemany(f"INSERT INTO insured_persons VALUES ({','.join('?' * 14)})",
                     [(*row[:-1], moment(rng, day)) for row in rows])


def _serials(conn: sqlite3.Connection) -> dict[int, int]:
    """The last certificate serial per registration year, by the primary key's index (serials are zero-padded)."""
    low, high = conn.execute("SELECT min(property_id), max(property_id) FROM property_records").fetchone()
    if low is None:
        return {}
    serials = {}
    for year in range(int(low[2:6]), int(high[2:6]) + 1):
        last = conn.execute("SELECT max(property_id) FROM property_records WHERE property_id >= ? AND property_id < ?",
                            (certificate_no(year, 0)[:7], certificate_no(year + 1, 0)[:7])).fetchone()[0]
        if last is not None:
            serials[year] = int(last[last.index("第") + 1:-1])
    return serials


def _zjj(conn: sqlite3.Connection, rng: random.Random, day: int, population: Population) -> None:
    register = PropertyRegister(_serials(conn))
    total = count(conn, "property_records")
    today = day_clock(day)[0].date()
    new = [register.record(rng, p.id_number, p.name, p.township_code, p.address, "住宅", today)
           for p in population.sample(rng, share(rng, total, 0.005))]
    conn.executemany("INSERT INTO property_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [(*row[:-2], "正常", moment(rng, day)) for row in new])
    held = sample_rowids(conn, "property_records", rng, share(rng, total, 0.005), "status IN ('正常', '抵押')")
    conn.executemany("UPDATE property_records SET status = ?, updated_at = ? WHERE rowid = ?",
                     by_key([(rng.choice(("抵押", "正常", "注销")), moment(rng, day), k) for k in held]))
    waiting = "status IN ('待审核', '轮候中')"
    decided = sample_rowids(conn, "rental_applications", rng,
                            share(rng, count(conn, "rental_applications", waiting), 0.02), waiting)
    conn.executemany("UPDATE rental_applications SET status = ?, updated_at = ? WHERE application_id = ?",
                     [(rng.choice(("轮候中", "已配租", "不予受理")), moment(rng, day), a) for a in decided])


def _book_lines(path: Path) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True)
    lines = list(book[enrollment_book.SHEET].iter_rows(min_row=3, values_only=True))
    book.close()
    return lines


def _jyj(out: Path, rng: random.Random, day: int, population: Population) -> int:
    """One school sends its workbook again with the applications that came in since; how many lines it gained.

    Children apply to a primary school of their own township, so only that township's workbooks say who applied.
    """
    with sqlite3.connect(out / JYJ_DB) as conn:
        schools = conn.execute("SELECT school_code, school_name, township_code FROM schools WHERE school_type IN "
                               f"({','.join('?' * len(PRIMARY_TYPES))}) ORDER BY school_code", PRIMARY_TYPES).fetchall()
    conn.close()
    code, name, township_code = rng.choice(schools)
    path = out / JYJ_DROP / enrollment_book.file_name(code)
    lines = _book_lines(path)
    applied = {line[4] for line in lines}
    for other, _, township in schools:
        if township == township_code and other != code and (book := out / JYJ_DROP / enrollment_book.file_name(other)).exists():
            applied |= {line[4] for line in _book_lines(book)}
    waiting = [p for p in population.where("birth_date BETWEEN ? AND ? AND township_code = ?",
                                           (COHORT[0].isoformat(), COHORT[1].isoformat(), township_code))
               if p.id_number not in applied]
    today = day_clock(day)[0].date()
    kept = [Application(r[1], r[2], _as_date(r[3]), r[4], r[5], r[6], r[7], r[8], r[9], r[10], _as_date(r[11]))
            for r in lines]
    children = rng.sample(waiting, min(len(waiting), share(rng, max(len(lines), 10), 0.1)))
    households = sorted({child.household_id for child in children})
    adults: dict[int, Person] = {}
    for p in population.where(f"household_id IN ({','.join('?' * len(households))}) AND birth_date < '2000'",
                              households):  # the first adult member of the child's household signs, as the head
        adults.setdefault(p.household_id, p)
    for child in children:
        if (guardian := adults.get(child.household_id)) is None:
            continue
        kept.append(Application(child.name, child.gender, date.fromisoformat(child.birth_date), child.id_number,
                                guardian.name, guardian.id_number, "父亲" if guardian.gender == "男" else "母亲",
                                child.address, child.address, guardian.phone, today))
    enrollment_book.write_workbook(path, rng, name, kept)
    return len(kept) - len(lines)


def _as_date(value: object) -> date:
    """A date cell back from a school's workbook, whichever way it was written."""
    if isinstance(value, date):
        return value if type(value) is date else value.date()  # type: ignore[attr-defined]
    text = str(value).replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-")
    year, month, day = (int(part) for part in text.split("-"))
    return date(year, month, day)


def _wjj(conn: sqlite3.Connection, rng: random.Random, day: int, population: Population) -> None:
    """The day's births get their birth doses; children due a dose get it."""
    today = day_clock(day)[0].date()
    first = conn.execute("SELECT coalesce(max(record_id), 0) FROM vaccinations").fetchone()[0] + 1
    newborn = population.where("birth_date = ?", (today.isoformat(),))
    since = (today - timedelta(days=7 * 365)).isoformat()
    children = population.ids_where("birth_date >= ? AND birth_date < ?", (since, today.isoformat()))
    due = population.at(rng.sample(children, min(len(children), share(rng, count(conn, "vaccinations"), 0.01))))
    have: dict[str, set[tuple[str, int]]] = {}
    for chunk in batched([p.id_number for p in newborn + due]):  # by the child_id_number index
        for child_id, code, dose in conn.execute("SELECT child_id_number, vaccine_code, dose_no FROM vaccinations "
                                                 f"WHERE child_id_number IN ({','.join('?' * len(chunk))})", chunk):
            have.setdefault(child_id, set()).add((code, dose))
    rows: list[tuple] = []
    for person in newborn + due:
        child = health.Child(person.id_number, person.name, person.birth_date, person.township_code)
        given = have.get(child.id_number, set())
        for row in health.vaccination_rows(random.Random(child.id_number), child, 0, today):
            if (row[4], row[6]) not in given:
                rows.append((first + len(rows), *row[1:7], today.isoformat(), row[8], moment(rng, day)))
                break
    conn.executemany(f"INSERT INTO vaccinations VALUES ({','.join('?' * 10)})", rows)


def advance(out: Path, seed: int, day: int, population: Population) -> int:
    """Advance rsj, zjj and wjj in place (one transaction each) and resend one school's workbook; return how many
    lines the enrollment workbooks gained."""
    for db, change in ((RSJ_DB, _rsj), (ZJJ_DB, _zjj), (WJJ_DB, _wjj)):
        with open_for_day(out / db) as conn:
            change(conn, rng_for(seed, f"day{day}:{db}"), day, population)
        conn.close()
    return _jyj(out, rng_for(seed, f"day{day}:jyj"), day, population)


def recount(out: Path, counts: dict[str, int]) -> dict[str, int]:
    """The manifest's counts of the SQLite tables after a day, from the systems themselves."""
    fresh = dict(counts)
    tables = {**TABLES, "gaj": (GAJ_DB, ("persons", "households", "residence_permits", "person_cancellations")),
              "cgj": (CGJ_DB, ("grids", "facilities", "cases"))}
    for dept, (db, names) in tables.items():
        with sqlite3.connect(out / db) as conn:
            for name in names:
                fresh[f"{dept}.{name}"] = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        conn.close()
    return fresh
