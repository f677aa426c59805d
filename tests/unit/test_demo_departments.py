"""The eight-department demo county: scales, cross-department people, deliberate defects, workbooks, next_day."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from stdnum.cn import ric

from countyhub.demo import Scale, generate, load_manifest, next_day
from countyhub.demo.enrollment_book import HEADERS, SHEET
from countyhub.demo.health import DOSES

PERSONS = 3000
SMALL_COUNTY = Scale("county", persons=2000, grids=40, facilities=700, cases=1500, persons_per_enterprise=20)


def _rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(sql).fetchall()
    conn.close()
    return rows


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("eight")
    generate(home, persons=PERSONS)
    return home / "demo"


def test_county_scale_counts_follow_the_preset(tmp_path: Path) -> None:
    manifest = generate(tmp_path, scale=SMALL_COUNTY)
    assert manifest.scale == "county" and manifest.day == 0
    counts = manifest.counts
    assert (counts["cgj.grids"], counts["cgj.facilities"], counts["cgj.cases"]) == (40, 700, 1500)
    assert counts["gaj.persons"] == 2000 and counts["scjgj.enterprises"] == 100
    reported = _rows(tmp_path / "demo/cgj_urban.db", "SELECT min(reported_at), max(reported_at) FROM cases")[0]
    assert reported[0] >= "2025-11-20" and reported[1] <= "2026-11-20 18:00:00"  # the year before AS_OF


def test_people_elsewhere_are_gaj_people_and_permit_holders_are_not(demo: Path) -> None:
    gaj = dict(_rows(demo / "gaj_household.db", "SELECT id_number, name FROM persons"))
    permits = {r[0] for r in _rows(demo / "gaj_household.db", "SELECT id_number FROM residence_permits")}
    assert permits and not permits & set(gaj)
    for number in permits:
        ric.validate(number)
    insured = {r[0] for r in _rows(demo / "rsj_social_insurance.db", "SELECT id_number FROM insured_persons")}
    assert insured <= set(gaj)
    owners = {r[0] for r in _rows(demo / "zjj_housing.db", "SELECT owner_id_number FROM property_records")}
    assert owners <= set(gaj) | permits and owners & permits
    children = {r[0] for r in _rows(demo / "wjj_health.db", "SELECT child_id_number FROM vaccinations")}
    assert len(children & set(gaj)) > 0.8 * len(children)


def test_defects_at_their_stated_rates(demo: Path) -> None:
    gaj = {r[0]: r[1:] for r in _rows(demo / "gaj_household.db", "SELECT id_number, name, address FROM persons")}
    insured = _rows(demo / "rsj_social_insurance.db", "SELECT insured_id, id_number, name, address, insurance_type "
                                                      "FROM insured_persons")
    renamed = sum(name != gaj[idn][0] for _, idn, name, _, _ in insured) / len(insured)
    stale = sum(address != gaj[idn][1] for _, idn, _, address, _ in insured) / len(insured)
    twice = len(insured) - len({(idn, kind) for _, idn, _, _, kind in insured})
    assert 0.005 < renamed < 0.03
    assert 0.03 < stale < 0.08
    assert 0 < twice / len(insured) < 0.015
    # Children past 6 years and a month were due every dose of the schedule; ~8% missed one.
    children = _rows(demo / "wjj_health.db", "SELECT child_id_number, count(*) FROM vaccinations "
                                             "WHERE birth_date < '2020-10-15' GROUP BY 1")
    assert 0.02 < sum(n < len(DOSES) for _, n in children) / len(children) < 0.2


def test_enrollment_workbooks_as_schools_send_them(demo: Path) -> None:
    books = sorted((demo / "drops/jyj").glob("enrollment_*_2027.xlsx"))
    primary = _rows(demo / "jyj_education.db",
                    "SELECT school_code, school_name FROM schools WHERE school_type IN ('小学', '九年一贯制学校')")
    assert {p.name.split("_")[1] for p in books} == {code for code, _ in primary}
    forms = set()
    for path in books:
        book = openpyxl.load_workbook(path)
        sheet = book[SHEET]
        rows = list(sheet.iter_rows(values_only=True))
        name = dict(primary)[path.name.split("_")[1]]
        assert rows[0][0] == f"{name}2027年秋季一年级新生入学申请表" and rows[1] == HEADERS
        for row in rows[2:]:
            value = row[3]
            forms.add("excel" if not isinstance(value, str) else "年" if "年" in value else "/" if "/" in value else "-")
    assert len(forms) >= 3


def test_next_day_changes_about_one_percent_deterministically(tmp_path: Path) -> None:
    generate(tmp_path / "a", persons=PERSONS)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    before = {r[0]: r for r in _rows(tmp_path / "a/demo/gaj_household.db", "SELECT * FROM persons")}
    cases = _rows(tmp_path / "a/demo/cgj_urban.db", "SELECT count(*) FROM cases")[0][0]
    manifest = next_day(tmp_path / "a")
    next_day(tmp_path / "b")
    assert _digests(tmp_path / "a/demo") == _digests(tmp_path / "b/demo")
    assert manifest.day == 1 and load_manifest(tmp_path / "a").day == 1
    after = {r[0]: r for r in _rows(tmp_path / "a/demo/gaj_household.db", "SELECT * FROM persons")}
    changed = sum(before.get(k) != v for k, v in after.items()) + len(set(before) - set(after))
    assert 0.004 * PERSONS < changed < 0.02 * PERSONS
    gone = set(before) - set(after)
    cancelled = {r[0] for r in _rows(tmp_path / "a/demo/gaj_household.db", "SELECT person_id FROM person_cancellations")}
    assert gone and gone <= cancelled
    assert manifest.counts["cgj.cases"] > cases
    assert next_day(tmp_path / "a").day == 2


def _table_rows(demo: Path) -> dict[str, dict[int, tuple]]:
    tables: dict[str, dict[int, tuple]] = {}
    for db in sorted(demo.glob("*.db")):
        with sqlite3.connect(db) as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for name in names:
                tables[f"{db.stem}.{name}"] = {r[0]: r[1:] for r in conn.execute(f"SELECT rowid, * FROM {name}")}
        conn.close()
    return tables


def test_next_day_touches_a_small_share_of_rows_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # County-shaped but cheap; every table is sampled by rowid probes as at real county scale.
    monkeypatch.setattr("countyhub.demo.sampling.SMALL_TABLE", 100)
    generate(tmp_path, scale=Scale("county", persons=6000, grids=40, facilities=3000, cases=4000,
                                   persons_per_enterprise=20))
    before = _table_rows(tmp_path / "demo")
    next_day(tmp_path)
    after = _table_rows(tmp_path / "demo")
    touched = {}
    for table, rows in before.items():
        new_rows = after[table]
        touched[table] = (sum(rows.get(k) != v for k, v in new_rows.items()) + len(rows.keys() - new_rows.keys()),
                          len(rows))
    # Open cases move a step fast (0.3 of them a day), every other table changes by about 1% or less.
    for table, (changed, total) in touched.items():
        assert changed <= (0.15 if table.endswith(".cases") else 0.05) * max(total, 20), (table, changed, total)
    for table in ("gaj_household.persons", "cgj_urban.facilities", "cgj_urban.cases", "rsj_social_insurance.insured_persons",
                  "zjj_housing.property_records", "wjj_health.vaccinations"):
        assert touched[table][0] > 0, table
    assert sum(c for c, _ in touched.values()) < 0.03 * sum(t for _, t in touched.values())
