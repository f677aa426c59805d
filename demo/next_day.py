"""Advance the demo county by one simulated day, in place: ~1% of each system's rows new, changed or deleted.

Deterministic from (seed, day). Each system changes the way it really does: gaj births, deaths and moves (the
person row deleted, a person_cancellations row written), new and lapsing residence permits; cgj new cases and
cases moving a step, facilities edited, removed or added; scjgj registrations and 注销; the mzj rolls re-exported
when the month rolls over; rsj, zjj, jyj and wjj as in next_day_services.
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import timedelta
from pathlib import Path

from countyhub.demo import elderly, enterprises, household, next_day_services, subsidy
from countyhub.demo.case_steps import DEADLINE_HOURS, DEPARTMENTS_BY_CATEGORY
from countyhub.demo.divisions import TOWNSHIP_BY_CODE, id_division_code
from countyhub.demo.generate import Manifest, load_manifest
from countyhub.demo.identifiers import resident_id
from countyhub.demo.sampling import Population, by_key, count, rows_at, sample_rowids
from countyhub.demo.store import (
    CGJ_DB,
    ENTERPRISES_JSON,
    GAJ_DB,
    MZJ_DROP,
    demo_dir,
    open_for_day,
    rng_for,
    write_json,
)
from countyhub.demo.timeline import day_clock, moment, share, years_before
from countyhub.demo.urban import facility


def _gaj(conn: sqlite3.Connection, rng: random.Random, day: int) -> None:
    """Moves within the county (address, phone), births into existing households, deaths and moves out."""
    total = count(conn, "persons")
    moved = sample_rowids(conn, "persons", rng, share(rng, total, 0.009))
    conn.executemany("UPDATE persons SET phone = ?, updated_at = ? WHERE person_id = ?",
                     by_key([(f"1{rng.choice('3589')}{rng.randrange(10**9):09d}", moment(rng, day), pid)
                             for pid in moved]))
    # Dazhu has ~8 births and ~7 deaths per 1,000 residents a year, and about as many moves out as deaths.
    gone = sample_rowids(conn, "persons", rng, share(rng, total, 0.00004))
    rows = rows_at(conn, "persons", "id_number, birth_date", gone)
    conn.executemany("INSERT INTO person_cancellations VALUES (?, ?, ?, ?, ?)",
                     [(pid, idn, "死亡" if born < "1960" or rng.random() < 0.4 else "迁出",
                       day_clock(day)[0].date().isoformat(), moment(rng, day)) for pid, idn, born in rows])
    conn.executemany("DELETE FROM persons WHERE person_id = ?", [(pid,) for pid in gone])
    today = day_clock(day)[0].date()
    # An ID number carries the birth date, so a newborn's can only clash with one born on the same days.
    since = today - timedelta(days=31)
    taken = {r[0] for r in conn.execute("SELECT id_number FROM persons WHERE birth_date >= ?", (since.isoformat(),))}
    taken |= {r[0] for r in conn.execute("SELECT id_number FROM person_cancellations")}
    next_id = conn.execute("SELECT max(m) FROM (SELECT max(person_id) m FROM persons UNION ALL "
                           "SELECT max(person_id) FROM person_cancellations)").fetchone()[0] + 1
    registered = share(rng, total, 0.00003)
    homes = rows_at(conn, "households", "household_id, township_code, address",
                    sample_rowids(conn, "households", rng, registered))
    births = []
    for n, (_, household_id, township_code, address) in enumerate(homes):
        born = today - timedelta(days=rng.randint(0, 30))  # registered within a month
        male = rng.random() < 0.5
        births.append((next_id + n, resident_id(rng, id_division_code(born.year), born, male, taken),
                       household.person_name(rng, male), "男" if male else "女", born.isoformat(), "汉族", household_id,
                       township_code, address, None, moment(rng, day)))
    conn.executemany(f"INSERT INTO persons VALUES ({','.join('?' * 11)})", births)
    conn.executemany("UPDATE households SET updated_at = ? WHERE household_id = ?",
                     [(b[-1], b[6]) for b in births])
    valid = "status = '有效'"
    lapsing = sample_rowids(conn, "residence_permits", rng, share(rng, count(conn, "residence_permits", valid)), valid)
    conn.executemany("UPDATE residence_permits SET status = ?, updated_at = ? WHERE rowid = ?",
                     [(rng.choice(("过期", "注销")), moment(rng, day), p) for p in lapsing])


def _cgj(conn: sqlite3.Connection, rng: random.Random, day: int) -> None:
    """A day of new cases, open cases moving a step, facilities repaired, broken, removed or added."""
    cases = count(conn, "cases")
    grids = conn.execute("SELECT grid_code, township_code FROM grids ORDER BY grid_code").fetchall()
    next_id = conn.execute("SELECT coalesce(max(case_id), 0) FROM cases").fetchone()[0] + 1
    new = []
    for n in range(max(1, cases // 365)):
        grid_code, township_code = rng.choice(grids)
        category = rng.choice(tuple(DEADLINE_HOURS))
        reported = moment(rng, day)
        new.append((next_id + n, grid_code, category, f"{TOWNSHIP_BY_CODE[township_code].name}群众上报{category}",
                    reported, "open", None, reported, None, None, None, DEADLINE_HOURS[category]))
    conn.executemany(f"INSERT INTO cases VALUES ({','.join('?' * 12)})", new)
    is_open = "status = 'open'"
    stepping = sample_rowids(conn, "cases", rng, share(rng, count(conn, "cases", is_open), 0.3), is_open,
                             indexed=True)
    dispatched, disposed, closed = [], [], []
    for case_id, category, dispatched_at, disposed_at in rows_at(conn, "cases", "category, dispatched_at, disposed_at",
                                                                 stepping):
        at = moment(rng, day)
        if dispatched_at is None:
            dispatched.append((at, rng.choice(DEPARTMENTS_BY_CATEGORY[category]), at, case_id))
        elif disposed_at is None:
            disposed.append((at, at, case_id))
        else:
            closed.append((at, at, case_id))
    conn.executemany("UPDATE cases SET dispatched_at = ?, handling_department = ?, updated_at = ? WHERE case_id = ?",
                     by_key(dispatched))
    conn.executemany("UPDATE cases SET disposed_at = ?, updated_at = ? WHERE case_id = ?", by_key(disposed))
    conn.executemany("UPDATE cases SET status = 'closed', closed_at = ?, updated_at = ? WHERE case_id = ?",
                     by_key(closed))
    facilities = count(conn, "facilities")
    edited = sample_rowids(conn, "facilities", rng, share(rng, facilities))
    conn.executemany("UPDATE facilities SET status = ?, updated_at = ? WHERE facility_id = ?",
                     by_key([(rng.choice(("正常", "损坏", "维修中")), moment(rng, day), f) for f in edited]))
    first = conn.execute("SELECT coalesce(max(facility_id), 0) FROM facilities").fetchone()[0] + 1
    removed = sample_rowids(conn, "facilities", rng, share(rng, facilities, 0.001))
    conn.executemany("DELETE FROM facilities WHERE facility_id = ?", [(f,) for f in removed])
    added = []
    for n in range(len(removed)):
        grid_code, township_code = rng.choice(grids)
        township = TOWNSHIP_BY_CODE[township_code]
        row = facility(rng, first + n, township, grid_code, township.longitude, township.latitude)
        added.append((*row[:-1], moment(rng, day)))
    conn.executemany("INSERT INTO facilities VALUES (?, ?, ?, ?, ?, ?, ?, ?)", added)


def _scjgj(path: Path, rng: random.Random, day: int, population: Population) -> int:
    """New registrations, 注销 and edits in the registry the API serves; the registry's size after the day."""
    records = json.loads(path.read_text(encoding="utf-8"))
    for record in rng.sample(records, share(rng, len(records), 0.004)):
        record.update(status="注销", updated_at=moment(rng, day))
    for record in rng.sample(records, share(rng, len(records), 0.003)):
        record.update(registered_capital=round(record["registered_capital"] * rng.uniform(1.0, 2.0), 2),
                      updated_at=moment(rng, day))
    taken = {r["uscc"][8:17] for r in records}
    adult = years_before(day_clock(day)[0].date(), 18).isoformat()
    # One new enterprise per sampled adult: each is its legal representative's (build_enterprises picks among them).
    founders = population.sample(rng, share(rng, len(records), 0.003), "birth_date <= ?", (adult,))
    for record in enterprises.build_enterprises(rng, founders, 1):
        if record["uscc"][8:17] not in taken:
            record.update(status="存续", established_date=day_clock(day)[0].date().isoformat(),
                          updated_at=moment(rng, day))
            records.append(record)
    write_json(path, records)
    return len(records)


def _mzj_month(out: Path, seed: int, day: int, population: Population) -> None:
    """On the first day of a month the bureau exports that month's subsidy roll and elderly allowance roll: the
    roll's recipients sampled from the registry, the allowance for everyone 80 or older (by the birth_date index)."""
    start, end = day_clock(day)
    if start.month == end.month:
        return
    month = end.strftime("%Y-%m")
    drop = out / MZJ_DROP
    rng = rng_for(seed, f"mzj:{month}")
    recipients = population.sample(rng, max(1, round(population.count() * subsidy.RECIPIENT_SHARE)))
    subsidy.write_roll(drop / subsidy.roll_file_name(month), subsidy.roll_rows(rng, recipients, month), month)
    elderly_born = years_before(end.date(), 80).isoformat()
    rows = elderly.build_allowances(rng_for(seed, f"mzj.elderly:{month}"),
                                    population.where("birth_date <= ?", (elderly_born,)), end.date())
    elderly.write_allowances(drop / elderly.file_name(month), rows, month)


def next_day(home: Path) -> Manifest:
    """Advance every source system of the demo county under `home` by one day; return the updated manifest.

    Each system is changed in place in one transaction, reading only the rows it changes (sampled by rowid,
    looked up by the indexes generate() created), so a day costs what changed, not the county's size.
    """
    manifest = load_manifest(home)
    day = manifest.day + 1
    out = demo_dir(home)
    seed = manifest.seed

    with open_for_day(out / GAJ_DB) as conn:
        _gaj(conn, rng_for(seed, f"day{day}:gaj"), day)
    conn.close()
    with open_for_day(out / CGJ_DB) as conn:
        _cgj(conn, rng_for(seed, f"day{day}:cgj"), day)
    conn.close()
    gaj = sqlite3.connect(out / GAJ_DB)
    try:
        population = Population(gaj)
        counts = {"scjgj.enterprises": _scjgj(out / ENTERPRISES_JSON, rng_for(seed, f"day{day}:scjgj"), day,
                                              population)}
        _mzj_month(out, seed, day, population)
        counts["jyj.enrollment_applications"] = manifest.counts.get("jyj.enrollment_applications", 0) + \
            next_day_services.advance(out, seed, day, population)
    finally:
        gaj.close()

    manifest.day = day
    manifest.counts = next_day_services.recount(out, manifest.counts) | counts
    manifest.save(home)
    return manifest
