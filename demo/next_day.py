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
from countyhub.demo.store import CGJ_DB, ENTERPRISES_JSON, GAJ_DB, MZJ_DROP, demo_dir, rng_for, write_json
from countyhub.demo.timeline import day_clock, moment, share
from countyhub.demo.urban import facility


def _gaj(conn: sqlite3.Connection, rng: random.Random, day: int) -> None:
    """Moves within the county (address, phone), births into existing households, deaths and moves out."""
    ids = [r[0] for r in conn.execute("SELECT person_id FROM persons")]
    moved = rng.sample(ids, share(rng, len(ids), 0.009))
    conn.executemany("UPDATE persons SET phone = ?, updated_at = ? WHERE person_id = ?",
                     [(f"1{rng.choice('3589')}{rng.randrange(10**9):09d}", moment(rng, day), pid) for pid in moved])
    # Dazhu has ~8 births and ~7 deaths per 1,000 residents a year, and about as many moves out as deaths.
    gone = rng.sample(ids, share(rng, len(ids), 0.00004))
    rows = conn.execute(f"SELECT person_id, id_number, birth_date FROM persons WHERE person_id IN "
                        f"({','.join('?' * len(gone))})", gone).fetchall()
    conn.executemany("INSERT INTO person_cancellations VALUES (?, ?, ?, ?, ?)",
                     [(pid, idn, "死亡" if born < "1960" or rng.random() < 0.4 else "迁出",
                       day_clock(day)[0].date().isoformat(), moment(rng, day)) for pid, idn, born in rows])
    conn.executemany("DELETE FROM persons WHERE person_id = ?", [(pid,) for pid in gone])
    taken = {r[0] for r in conn.execute("SELECT id_number FROM persons UNION ALL "
                                        "SELECT id_number FROM person_cancellations")}
    next_id = conn.execute("SELECT max(m) FROM (SELECT max(person_id) m FROM persons UNION ALL "
                           "SELECT max(person_id) FROM person_cancellations)").fetchone()[0] + 1
    homes = conn.execute("SELECT household_id, township_code, address FROM households ORDER BY household_id").fetchall()
    births = []
    for n in range(share(rng, len(ids), 0.00003)):
        born = day_clock(day)[0].date() - timedelta(days=rng.randint(0, 30))  # registered within a month
        household_id, township_code, address = rng.choice(homes)
        male = rng.random() < 0.5
        births.append((next_id + n, resident_id(rng, id_division_code(born.year), born, male, taken),
                       household.person_name(rng, male), "男" if male else "女", born.isoformat(), "汉族", household_id,
                       township_code, address, None, moment(rng, day)))
    conn.executemany(f"INSERT INTO persons VALUES ({','.join('?' * 11)})", births)
    conn.executemany("UPDATE households SET updated_at = ? WHERE household_id = ?",
                     [(b[-1], b[6]) for b in births])
    permits = [r[0] for r in conn.execute("SELECT permit_no FROM residence_permits WHERE status = '有效'")]
    conn.executemany("UPDATE residence_permits SET status = ?, updated_at = ? WHERE permit_no = ?",
                     [(rng.choice(("过期", "注销")), moment(rng, day), p) for p in rng.sample(permits, share(rng, len(permits)))])


def _cgj(conn: sqlite3.Connection, rng: random.Random, day: int) -> None:
    """A day of new cases, open cases moving a step, facilities repaired, broken, removed or added."""
    cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
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
    open_cases = conn.execute("SELECT case_id, category, dispatched_at, disposed_at FROM cases "
                              "WHERE status = 'open'").fetchall()
    for case_id, category, dispatched, disposed in rng.sample(open_cases, share(rng, len(open_cases), 0.3)):
        at = moment(rng, day)
        if dispatched is None:
            department = rng.choice(DEPARTMENTS_BY_CATEGORY[category])
            conn.execute("UPDATE cases SET dispatched_at = ?, handling_department = ?, updated_at = ? "
                         "WHERE case_id = ?", (at, department, at, case_id))
        elif disposed is None:
            conn.execute("UPDATE cases SET disposed_at = ?, updated_at = ? WHERE case_id = ?", (at, at, case_id))
        else:
            conn.execute("UPDATE cases SET status = 'closed', closed_at = ?, updated_at = ? WHERE case_id = ?",
                         (at, at, case_id))
    ids = [r[0] for r in conn.execute("SELECT facility_id FROM facilities")]
    edited = rng.sample(ids, share(rng, len(ids)))
    conn.executemany("UPDATE facilities SET status = ?, updated_at = ? WHERE facility_id = ?",
                     [(rng.choice(("正常", "损坏", "维修中")), moment(rng, day), f) for f in edited])
    removed = rng.sample(ids, share(rng, len(ids), 0.001))
    conn.executemany("DELETE FROM facilities WHERE facility_id = ?", [(f,) for f in removed])
    first = max(ids, default=0) + 1
    added = []
    for n in range(len(removed)):
        grid_code, township_code = rng.choice(grids)
        township = TOWNSHIP_BY_CODE[township_code]
        row = facility(rng, first + n, township, grid_code, township.longitude, township.latitude)
        added.append((*row[:-1], moment(rng, day)))
    conn.executemany("INSERT INTO facilities VALUES (?, ?, ?, ?, ?, ?, ?, ?)", added)


def _scjgj(path: Path, rng: random.Random, day: int, persons: list[household.Person]) -> None:
    """New registrations, 注销 and edits in the registry the API serves."""
    records = json.loads(path.read_text(encoding="utf-8"))
    for record in rng.sample(records, share(rng, len(records), 0.004)):
        record.update(status="注销", updated_at=moment(rng, day))
    for record in rng.sample(records, share(rng, len(records), 0.003)):
        record.update(registered_capital=round(record["registered_capital"] * rng.uniform(1.0, 2.0), 2),
                      updated_at=moment(rng, day))
    taken = {r["uscc"][8:17] for r in records}
    fresh = enterprises.build_enterprises(rng, persons, max(1, len(persons) // share(rng, len(records), 0.003)))
    for record in fresh:
        if record["uscc"][8:17] not in taken:
            record.update(status="存续", established_date=day_clock(day)[0].date().isoformat(),
                          updated_at=moment(rng, day))
            records.append(record)
    write_json(path, records)


def _mzj_month(out: Path, seed: int, day: int, persons: list[household.Person]) -> None:
    """On the first day of a month the bureau exports that month's subsidy roll and elderly allowance roll."""
    start, end = day_clock(day)
    if start.month == end.month:
        return
    month = end.strftime("%Y-%m")
    drop = out / MZJ_DROP
    subsidy.write_roll(drop / subsidy.roll_file_name(month), subsidy.build_roll(rng_for(seed, f"mzj:{month}"),
                                                                               persons, month), month)
    rows = elderly.build_allowances(rng_for(seed, f"mzj.elderly:{month}"), persons, end.date())
    elderly.write_allowances(drop / elderly.file_name(month), rows, month)


def _persons(conn: sqlite3.Connection) -> list[household.Person]:
    return [household.Person(*row) for row in conn.execute("SELECT * FROM persons ORDER BY person_id")]


def next_day(home: Path) -> Manifest:
    """Advance every source system of the demo county under `home` by one day; return the updated manifest."""
    manifest = load_manifest(home)
    day = manifest.day + 1
    out = demo_dir(home)
    seed = manifest.seed

    with sqlite3.connect(out / GAJ_DB) as conn:
        _gaj(conn, rng_for(seed, f"day{day}:gaj"), day)
        persons = _persons(conn)
    conn.close()
    with sqlite3.connect(out / CGJ_DB) as conn:
        _cgj(conn, rng_for(seed, f"day{day}:cgj"), day)
    conn.close()
    _scjgj(out / ENTERPRISES_JSON, rng_for(seed, f"day{day}:scjgj"), day, persons)
    _mzj_month(out, seed, day, persons)
    next_day_services.advance(out, seed, day, persons)

    manifest.day = day
    manifest.counts = next_day_services.recount(out, manifest.counts)
    manifest.save(home)
    return manifest
