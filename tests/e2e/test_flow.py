"""The whole flow on the demo county: counts, catalog, incremental re-runs, one unreachable department leaving the
rest of the county published, source changes reaching the shared datasets, and a shrunken source failing the volume
rule while the last good version stays served."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from countyhub.catalog.store import Catalog
from countyhub.cli.demo import demo_api, run_demo
from countyhub.contracts.publish import current_publication
from countyhub.core.settings import Settings, load_settings
from countyhub.demo import Manifest, load_manifest
from countyhub.demo.divisions import TOWNSHIP_BY_CODE
from countyhub.demo.generate import CGJ_DB, ENTERPRISES_JSON, GAJ_DB, RSJ_DB, WJJ_DB, ZJJ_DB, demo_dir
from countyhub.demo.subsidy import ENCODING, roll_file_name
from countyhub.flow.run import FlowReport, run_flow
from countyhub.flow.runtime import Runtime
from countyhub.lakehouse import Lake

pytestmark = pytest.mark.e2e
PERSONS = 800
# Cursor streams and the demo database each is read from.
CURSOR_STREAMS = {"gaj.persons": GAJ_DB, "gaj.households": GAJ_DB, "gaj.residence_permits": GAJ_DB,
                  "gaj.person_cancellations": GAJ_DB, "cgj.facilities": CGJ_DB, "cgj.cases": CGJ_DB,
                  "rsj.insured_persons": RSJ_DB, "rsj.talents": RSJ_DB, "zjj.property_records": ZJJ_DB,
                  "zjj.rental_applications": ZJJ_DB, "wjj.vaccinations": WJJ_DB}
SNAPSHOT_STREAMS = ("cgj.grids", "scjgj.enterprises", "jyj.schools", "wjj.clinics")
FILES_STREAMS = ("mzj.subsidy_roll", "mzj.elderly_allowances", "jyj.enrollment_applications")
RAW_STREAMS = (*CURSOR_STREAMS, *SNAPSHOT_STREAMS, *FILES_STREAMS)
# The load mode each stream resolves to with no `mode:` line (enterprises: the deliberate snapshot in scjgj.yml).
MODES = {**dict.fromkeys(CURSOR_STREAMS, "incremental"), **dict.fromkeys(SNAPSHOT_STREAMS, "snapshot"),
         **dict.fromkeys(FILES_STREAMS, "files")}
# The streams the `changes` fixture leaves alone: the next run reads them as an unchanged county.
UNTOUCHED = ("gaj.residence_permits", "gaj.person_cancellations", "rsj.insured_persons", "rsj.talents",
             "zjj.property_records", "zjj.rental_applications", "wjj.vaccinations")


def _fresh_settings(tmp_path_factory: pytest.TempPathFactory, mp: pytest.MonkeyPatch, name: str) -> Settings:
    mp.setenv("COUNTYHUB_HOME", str(tmp_path_factory.mktemp(name) / "home"))
    return load_settings()


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Manifest, FlowReport, FlowReport]]:
    """The demo run twice over the same home, as a user running `make demo` a second time."""
    with pytest.MonkeyPatch.context() as mp:
        settings = _fresh_settings(tmp_path_factory, mp, "twice")
        rt = Runtime(settings, os.environ)
        first = run_demo(rt, persons=PERSONS)
        second = run_demo(rt, persons=PERSONS)
        yield settings, load_manifest(settings.home), first, second


def _count(settings: Settings, table: str) -> int:
    with Lake(settings).reader() as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _source(settings: Settings, db: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Ask the demo's SQLite source itself: expected numbers never come from the code under test."""
    with sqlite3.connect(demo_dir(settings.home) / db) as conn:
        rows = conn.execute(sql, params).fetchall()
    conn.close()
    return rows


def _at_cursor(settings: Settings, stream: str) -> int:
    """Rows an unchanged cursor stream reads again: those at the saved cursor (keyed streams re-read with >=)."""
    table = stream.split(".")[1]
    return _source(settings, CURSOR_STREAMS[stream],
                   f"SELECT count(*) FROM {table} WHERE updated_at = (SELECT max(updated_at) FROM {table})")[0][0]


def _loads(report: FlowReport) -> dict[str, tuple[str, int, int, int, int]]:
    """`dept.stream` -> (mode, read, inserted, updated, deleted) as the load results report them."""
    return {f"{r.department}.{r.stream}": (r.mode, r.rows_read, r.rows_inserted, r.rows_updated, r.rows_deleted)
            for r in report.loads}


def _logged(settings: Settings, report: FlowReport) -> dict[str, tuple[str, int, int, int, int]]:
    """The same numbers as lake.meta.loads recorded them for this run's loads."""
    ids = [r.load_id for r in report.loads]
    with Lake(settings).reader() as con:
        rows = con.execute("SELECT department || '.' || stream, mode, rows_read, rows_inserted, rows_updated, "
                           f"rows_deleted, status FROM lake.meta.loads WHERE load_id IN ({', '.join('?' * len(ids))})",
                           ids).fetchall()
    assert {r[-1] for r in rows} == {"success"}
    return {r[0]: tuple(r[1:-1]) for r in rows}


def test_shared_datasets_match_what_the_generator_produced(twice) -> None:
    settings, manifest, first, second = twice
    assert first.ok and second.ok, [(d.dataset, d.reason) for d in first.datasets + second.datasets]
    for report in (first, second):  # the same counts after the first and after the incremental second run
        for stream in RAW_STREAMS:
            dept, name = stream.split(".")
            assert report.raw_rows[f"lake.raw_{dept}.{name}"] == manifest.counts[stream], stream
        served = {d.dataset: d.rows for d in report.datasets}
        assert served["shared.resident_profile"] == manifest.counts["gaj.persons"] == PERSONS
        assert served["shared.township_overview"] == manifest.townships
        assert served["shared.urban_grids"] == manifest.counts["cgj.grids"]
        assert served["shared.urban_cases"] == manifest.counts["cgj.cases"]
        assert served["shared.enterprise_registry"] == manifest.counts["scjgj.enterprises"]
    for stream in RAW_STREAMS:
        dept, name = stream.split(".")
        assert _count(settings, f"lake.raw_{dept}.{name}") == manifest.counts[stream], stream
    with Lake(settings).reader() as con:
        # Subsidy recipients in the mart are exactly the distinct ID numbers on the roll the generator wrote.
        recipients = con.execute("SELECT count(*) FROM lake.shared.resident_profile WHERE receives_subsidy").fetchone()[0]
        roll_ids = con.execute('SELECT count(DISTINCT "身份证号") FROM lake.raw_mzj.subsidy_roll').fetchone()[0]
    assert recipients == roll_ids > 0


def test_second_run_of_an_unchanged_county_is_incremental(twice) -> None:
    settings, manifest, first, second = twice
    assert _loads(first) == {s: (MODES[s], n, n, 0, 0) for s, n in manifest.counts.items()}
    expected = {
        # cursor streams read again only the rows at the saved cursor, find them unchanged and write nothing
        **{s: ("incremental", _at_cursor(settings, s), 0, 0, 0) for s in CURSOR_STREAMS},
        # snapshots read everything and find no difference; unchanged files (roll, workbooks) are not read at all
        **{s: ("snapshot", manifest.counts[s], 0, 0, 0) for s in SNAPSHOT_STREAMS},
        **{s: ("files", 0, 0, 0, 0) for s in FILES_STREAMS},
    }
    assert _loads(second) == expected
    assert _logged(settings, second) == expected
    assert all(n < 10 for s in CURSOR_STREAMS for n in expected[s][1:])  # far fewer than the tables hold


def test_after_a_run_that_changed_nothing_no_gate_has_anything_to_judge(twice, tmp_path: Path) -> None:
    """What lets county_build in Airflow skip its gates: every dataset keeps the version served. A contract whose
    text changed since its version was published must be gated again, unless its dataset is held back."""
    import dataclasses
    import shutil

    from countyhub.contracts.odcs import load_contract
    from countyhub.flow.run import nothing_to_publish
    from countyhub.flow.runtime import Runtime

    settings = twice[0]
    assert nothing_to_publish(Runtime(settings, os.environ))
    edited = tmp_path / "contracts"
    shutil.copytree(settings.contracts_dir, edited)
    changed = min(edited.glob("*/*.odcs.yaml"))
    changed.write_text(changed.read_text(encoding="utf-8") + "\n# reviewed again\n", encoding="utf-8")
    runtime = Runtime(dataclasses.replace(settings, contracts_dir=edited), os.environ)
    assert not nothing_to_publish(runtime)
    assert nothing_to_publish(runtime, held_back={load_contract(changed).dataset})


def test_a_gate_task_takes_what_the_build_planned_unless_its_contract_changed_since(twice) -> None:
    """county_build's build_models plans the gates once (plan_gates) and hands each gate task its line as XCom
    JSON. A gate trusts that line only while the contract's text is the one planned: otherwise it looks at the
    lake itself."""
    import dataclasses
    import json

    from countyhub.flow.run import PlannedGate, gate_and_publish_dataset, plan_gates
    from countyhub.flow.runtime import Runtime
    from countyhub.lakehouse.meta_gates import publications

    settings = twice[0]
    runtime = Runtime(settings, os.environ)
    planned = plan_gates(runtime)
    with Lake(settings).reader() as con:
        served = {dataset: publications(con, dataset)[0] for dataset in planned}
    assert {d: p.served for d, p in planned.items()} == served  # nothing changed since the second run published
    assert {d: PlannedGate.from_json(json.loads(json.dumps(p.to_json()))) for d, p in planned.items()} == planned

    dataset = min(planned)
    # A version number no real publication has: it shows whether the gate used the plan or looked itself.
    marked = dataclasses.replace(planned[dataset], served=dataclasses.replace(served[dataset], version=99))
    trusted = gate_and_publish_dataset(runtime, dataset, planned=marked)
    assert (trusted.status, trusted.published_version, trusted.published_now) == ("unchanged", 99, False)
    stale = dataclasses.replace(marked, contract_digest="0" * 64)
    looked = gate_and_publish_dataset(runtime, dataset, planned=stale)
    assert (looked.status, looked.published_version, looked.published_now) == (
        "unchanged", served[dataset].version, False)


def test_second_run_duplicates_nothing_and_rebuilds_nothing(twice) -> None:
    settings, manifest, first, second = twice
    assert [(d.published_version, d.published_now, d.rebuilt) for d in first.datasets] == [
        (1, True, True)] * len(first.datasets)
    # Nothing changed at any source: dbt does not run, no gate runs, every dataset keeps version 1.
    assert [(d.published_version, d.published_now, d.rebuilt, d.status, d.gate_passed) for d in second.datasets] == [
        (1, False, False, "unchanged", True)] * len(second.datasets)
    assert second.ok
    assert {d.dataset for d in first.datasets} >= {"shared.resident_profile", "shared.township_overview"}
    with Lake(settings).reader() as con:
        dupes = con.execute("SELECT count(*) - count(DISTINCT id_number) FROM lake.shared.resident_profile").fetchone()[0]
        persons, keys = con.execute("SELECT count(*), count(DISTINCT person_id) FROM lake.raw_gaj.persons").fetchone()
    assert dupes == 0 and persons == keys == manifest.counts["gaj.persons"]
    names = [d["name"] for d in Catalog(settings.catalog_url).datasets()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("query,expected,within", [
    ("居民综合画像", "shared.resident_profile", 3),
    ("resident_profile", "shared.resident_profile", 3),
    ("乡镇", "shared.township_overview", 3),
    ("enterprises", "raw_scjgj.enterprises", 3),
    # Words county staff use, not the titles' own (issue 17): a synonym, pinyin of one, a column's word.
    ("营业执照", "shared.enterprise_registry", 3),
    ("yingyezhizhao", "shared.enterprise_registry", 3),
    ("qiye", "shared.enterprise_registry", 3),
    ("低保", "raw_mzj.subsidy_roll", 3),
    ("最低生活保障", "raw_mzj.subsidy_roll", 3),
    # With eight departments (~110 entries) the resident profile, which carries the allowance in two columns, is
    # on the first page but behind the rolls' own raw and staging entries; for shenfenzheng behind the enrollment
    # sheets (a student's and a guardian's 身份证号) and the rolls.
    ("低保", "shared.resident_profile", 10),
    ("最低生活保障", "shared.resident_profile", 10),
    ("shenfenzheng", "shared.resident_profile", 10),
    ("shenfenzheng", "shared.resident_master_index", 10),
])
def test_catalog_finds_the_datasets(twice, query: str, expected: str, within: int) -> None:
    settings = twice[0]
    hits = [h["name"] for h in Catalog(settings.catalog_url).search(query, limit=within)]
    assert expected in hits


def test_catalog_search_leaves_the_audit_zone_out_and_puts_the_published_dataset_first(twice) -> None:
    catalog = Catalog(twice[0].catalog_url, index_dir=twice[0].search_index_dir)
    for query in ("居民综合画像", "城管案件", "市场主体登记信息", "网格", ""):
        assert not [h for h in catalog.search(query, limit=0) if h["name"].startswith("audit.")], query
    assert catalog.search("城市管理网格", limit=1)[0]["name"] == "shared.urban_grids"
    in_audit = [h["name"] for h in catalog.search("城管案件", limit=0, zone="audit")]
    assert in_audit[0] == "audit.urban_cases" and all(n.startswith("audit.") for n in in_audit)


def test_freshness_against_the_contracts_slas(twice) -> None:
    from countyhub.flow.freshness import check_freshness

    settings = twice[0]
    rt, now = Runtime(settings, os.environ), datetime.now(UTC)
    found = {f.dataset: f for f in check_freshness(rt, now)}
    assert "shared.resident_profile" in found and not [f for f in found.values() if f.stale]  # loaded minutes ago
    later = {f.dataset: f for f in check_freshness(rt, now + timedelta(days=2))}
    for dataset in ("shared.resident_profile", "shared.urban_cases"):  # the reason names the oldest stream
        assert later[dataset].stale and re.search(r"raw_\w+\.\w+ last loaded 4[89]\.\d h ago, over its 1d SLA",
                                                   later[dataset].reason)
    assert not later["shared.department_inventory"].stale  # built from the department files, not from loads


def test_catalog_entry_carries_owner_gate_version_and_lineage(twice) -> None:
    catalog = Catalog(twice[0].catalog_url)
    entry = catalog.get("shared.resident_profile")
    assert entry["department_code"] == "dsj" and entry["sharing_type"] == "conditional"
    assert entry["published_version"] == 1 and entry["gate_status"] == "passed"
    assert {c["name"] for c in entry["columns"]} >= {"id_number", "township_code", "receives_subsidy"}
    # Lineage comes from the dbt manifest: the mart reads the staging models straight from raw.
    assert set(catalog.get("audit.resident_profile")["upstream"]) >= {
        "staging.stg_gaj__persons", "staging.stg_scjgj__enterprises", "intermediate.int_subsidies_aggregated_to_persons"}
    # A cancelled registration takes its person out of the staged registry.
    assert set(catalog.get("staging.stg_gaj__persons")["upstream"]) == {"raw_gaj.person_cancellations", "raw_gaj.persons"}


# Set as the household registry's password while it is unreachable: it must appear in no output.
REGISTRY_PASSWORD = "s3cret-registry-pw"


@dataclass
class Broken:
    """`countyhub run` (the real command, in its own process) while gaj's household registry refuses connections."""

    exit_code: int
    output: str
    before: dict[str, tuple[int, int, str]]  # shared dataset -> (version, rows, digest of its rows) before the run
    after: dict[str, tuple[int, int, str]]  # the same after it
    loaded: dict[str, int]  # department -> successful loads the run added to lake.meta.loads


def _served(settings: Settings, datasets: list[str]) -> dict[str, tuple[int, int, str]]:
    lake = Lake(settings)
    served = {}
    with lake.reader() as con:
        for name in datasets:
            rows, digest = con.execute(f"SELECT count(*), md5(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR)) "
                                       f"FROM lake.{name} AS t").fetchone()
            served[name] = (current_publication(lake, name.removeprefix("shared.")).version, rows, digest)
    return served


def _successful_loads(settings: Settings) -> dict[str, int]:
    with Lake(settings).reader() as con:
        return dict(con.execute("SELECT department, count(*) FROM lake.meta.loads WHERE status = 'success' "
                                "GROUP BY department").fetchall())


def _run_with_gaj_unreachable(rt: Runtime, datasets: list[str]) -> Broken:
    before, loads_before = _served(rt.settings, datasets), _successful_loads(rt.settings)
    with socket.socket() as closed, demo_api(rt) as demo:
        closed.bind(("127.0.0.1", 0))  # bound but never listening: a connection to it is refused at once
        registry = f"postgresql+psycopg://registry@127.0.0.1:{closed.getsockname()[1]}/hukou"
        env = {**os.environ, "GAJ_HOUSEHOLD_URL": registry, "GAJ_HOUSEHOLD_PASSWORD": REGISTRY_PASSWORD,
               "SCJGJ_API_URL": demo.environ["SCJGJ_API_URL"], "SCJGJ_API_TOKEN": demo.environ["SCJGJ_API_TOKEN"],
               "COLUMNS": "250"}
        proc = subprocess.run([str(Path(sys.executable).with_name("countyhub")), "run"], env=env,
                              capture_output=True, text=True, check=False)
    loads_after = _successful_loads(rt.settings)
    return Broken(proc.returncode, proc.stdout + proc.stderr, before, _served(rt.settings, datasets),
                  {d: n - loads_before.get(d, 0) for d, n in loads_after.items() if n != loads_before.get(d, 0)})


@dataclass
class Changes:
    """What the changed-county scenario did to the sources, and the runs around it."""

    settings: Settings
    manifest: Manifest
    good: FlowReport
    broken: Broken
    changed: FlowReport
    renamed: dict[str, str]  # id_number -> new name
    old_cursor: str  # persons' max updated_at before the change
    deleted_grid: str
    roll: list[list[str]]  # the roll as it is now (header first)
    added_id: str
    kept_enterprises: int
    lost_reps: set[str]  # legal representatives of the enterprises the broken API no longer returns


def _read_roll(path: Path) -> list[list[str]]:
    """The roll's header and data rows: not the title and 填报单位 lines above it nor the 合计 and signature lines
    the bureau prints below the rows (a line appended after those is a row)."""
    lines = list(csv.reader(io.StringIO(path.read_bytes().decode(ENCODING), newline="")))
    return [line for line in lines[2:] if not line[0].startswith(("合计", "制表人：", "填报日期："))]


@pytest.fixture(scope="module")
def changes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Changes]:
    """A good run; a `countyhub run` while gaj cannot be reached; then the departments change a few rows and the
    enterprise API breaks, and one more run (gaj is back).

    gaj renames 3 persons (newer updated_at), cgj removes one grid cell, mzj re-exports its roll with one
    more line, and the enterprise API suddenly returns only 5% of the registry.
    """
    with pytest.MonkeyPatch.context() as mp:
        settings = _fresh_settings(tmp_path_factory, mp, "changes")
        rt = Runtime(settings, os.environ)
        good = run_demo(rt, persons=PERSONS)
        assert good.ok, [(d.dataset, d.reason) for d in good.datasets]
        broken = _run_with_gaj_unreachable(rt, [d.dataset for d in good.datasets])
        home = demo_dir(settings.home)
        old_cursor = _source(settings, GAJ_DB, "SELECT max(updated_at) FROM persons")[0][0]
        picked = _source(settings, GAJ_DB, "SELECT person_id, id_number FROM persons ORDER BY person_id LIMIT 3 OFFSET 10")
        renamed = {id_number: f"更名{i}" for i, (_, id_number) in enumerate(picked)}
        deleted_grid = _source(settings, CGJ_DB, "SELECT grid_code FROM grids ORDER BY grid_code LIMIT 1")[0][0]
        with sqlite3.connect(home / GAJ_DB) as conn:
            for (person_id, id_number) in picked:
                conn.execute("UPDATE persons SET name = ?, updated_at = '2026-11-21 09:00:00' WHERE person_id = ?",
                             (renamed[id_number], person_id))
        conn.close()
        with sqlite3.connect(home / CGJ_DB) as conn:
            conn.execute("DELETE FROM grids WHERE grid_code = ?", (deleted_grid,))
        conn.close()

        roll_path = home / "drops" / "mzj" / roll_file_name()
        roll = _read_roll(roll_path)
        on_roll = {row[0] for row in roll[1:]}
        person = next(p for p in _source(settings, GAJ_DB, "SELECT id_number, name, township_code FROM persons "
                                         "ORDER BY person_id") if p[0] not in on_roll)
        roll.append([person[0], person[1], "临时救助", "300.00", "2026-11", person[2], TOWNSHIP_BY_CODE[person[2]].name])
        text = io.StringIO(newline="")
        csv.writer(text, lineterminator="\r\n").writerow(roll[-1])
        with roll_path.open("ab") as fh:  # appended, as the bureau's next export of the same month would read
            fh.write(text.getvalue().encode(ENCODING))
        assert _read_roll(roll_path) == roll

        records = json.loads((home / ENTERPRISES_JSON).read_text(encoding="utf-8"))
        kept = math.ceil(len(records) * 0.05)
        lost_reps = {r["legal_rep_id_number"] for r in records[kept:]}
        (home / ENTERPRISES_JSON).write_text(json.dumps(records[:kept], ensure_ascii=False), encoding="utf-8")

        with demo_api(rt) as demo:  # run the flow over the changed sources (run_demo would regenerate them)
            changed = run_flow(demo)
        yield Changes(settings, load_manifest(settings.home), good, broken, changed, renamed, old_cursor, deleted_grid,
                      roll, person[0], kept, lost_reps)


# What is built from gaj: resident_profile and township_overview (both through int_townships_unioned too), the master
# index and its conflicts, household, and what reads the master index: the eligibility marts and property_housing
# (for names). Read from the models' SQL.
FROM_GAJ = {f"shared.{n}" for n in ("resident_profile", "township_overview", "resident_master_index",
                                    "resident_conflicts", "household", "eligibility_primary_school_enrollment",
                                    "eligibility_talent_housing_subsidy", "eligibility_public_rental_housing",
                                    "property_housing")}
NOT_FROM_GAJ = {f"shared.{n}" for n in ("urban_grids", "urban_cases", "enterprise_registry", "grid_facility_inventory",
                                        "urban_case_sla", "department_inventory")}


def test_an_unreachable_department_fails_alone_and_the_rest_of_the_county_is_published(changes: Changes) -> None:
    b = changes.broken
    assert b.exit_code == 2, b.output
    assert "Traceback" not in b.output and REGISTRY_PASSWORD not in b.output
    # One line names the department, its file, the source and the cause.
    failed = [line for line in b.output.splitlines() if line.startswith("department gaj failed to load:")]
    assert len(failed) == 1, b.output
    assert "departments/gaj.yml: source household_registry:" in failed[0] and "Connection refused" in failed[0]
    # every stream of the other departments; none of gaj's
    assert b.loaded == {"cgj": 3, "mzj": 2, "scjgj": 1, "rsj": 2, "zjj": 2, "jyj": 2, "wjj": 2}
    assert set(b.after) == NOT_FROM_GAJ | FROM_GAJ
    for name, (version, rows, digest) in b.after.items():
        if name in NOT_FROM_GAJ:  # their sources loaded and found nothing new: not rebuilt, same version
            assert (version, rows, digest) == b.before[name], name
            assert re.search(rf"{re.escape(name)}\W.*not rebuilt, rows unchanged\W.*not gated\W+v{version} \(kept\)",
                             b.output), b.output
        else:  # not rebuilt: the last good version and its rows stay served, and the summary says so
            assert (version, rows, digest) == b.before[name], name
            assert re.search(rf"{re.escape(name)}\W.*\Wskipped\W+v{version} \(kept\)", b.output), b.output
            assert f"{name} not rebuilt: department gaj failed to load; the last good version stays" in b.output


def test_changed_rows_are_all_the_next_run_loads(changes: Changes) -> None:
    c, counts = changes, changes.manifest.counts
    read_persons = _source(c.settings, GAJ_DB, "SELECT count(*) FROM persons WHERE updated_at >= ?",
                           (c.old_cursor,))[0][0]
    assert read_persons == 3 + _source(c.settings, GAJ_DB, "SELECT count(*) FROM persons WHERE updated_at = ?",
                                       (c.old_cursor,))[0][0]
    lines = len(c.roll) - 1
    expected = {
        # the 3 renamed persons are the updates; rows read again at the old cursor are unchanged
        "gaj.persons": ("incremental", read_persons, 0, 3, 0),
        "gaj.households": ("incremental", _at_cursor(c.settings, "gaj.households"), 0, 0, 0),
        "cgj.facilities": ("incremental", _at_cursor(c.settings, "cgj.facilities"), 0, 0, 0),
        "cgj.cases": ("incremental", _at_cursor(c.settings, "cgj.cases"), 0, 0, 0),
        "cgj.grids": ("snapshot", counts["cgj.grids"] - 1, 0, 0, 1),
        # the re-exported file replaces its own rows: every line in, every old line out
        "mzj.subsidy_roll": ("files", lines, lines, 0, lines - 1),
        "scjgj.enterprises": ("snapshot", c.kept_enterprises, 0, 0, counts["scjgj.enterprises"] - c.kept_enterprises),
        # the departments the fixture does not change: as in an unchanged county
        **{s: ("incremental", _at_cursor(c.settings, s), 0, 0, 0) for s in UNTOUCHED},
        "jyj.schools": ("snapshot", counts["jyj.schools"], 0, 0, 0),
        "wjj.clinics": ("snapshot", counts["wjj.clinics"], 0, 0, 0),
        "mzj.elderly_allowances": ("files", 0, 0, 0, 0),
        "jyj.enrollment_applications": ("files", 0, 0, 0, 0),
    }
    assert _loads(c.changed) == expected
    assert _logged(c.settings, c.changed) == expected
    assert c.changed.raw_rows["lake.raw_cgj.grids"] == counts["cgj.grids"] - 1
    assert c.changed.raw_rows["lake.raw_mzj.subsidy_roll"] == lines
    assert c.changed.raw_rows["lake.raw_gaj.persons"] == counts["gaj.persons"]


def test_shared_datasets_reflect_the_changes_exactly(changes: Changes) -> None:
    c = changes
    outcomes = {o.dataset: o for o in c.changed.datasets}
    # Every dataset kept version 1 through the run without gaj (nothing else had changed); the changed ones get v2.
    # urban_cases is not rebuilt (no case changed), but its parent urban_grids lost a cell: it is gated again.
    for name in ("resident_profile", "township_overview", "urban_grids", "urban_cases"):
        assert outcomes[f"shared.{name}"].gate_passed, outcomes[f"shared.{name}"].reason
        assert outcomes[f"shared.{name}"].published_version == 2 and outcomes[f"shared.{name}"].published_now
    assert not outcomes["shared.urban_cases"].rebuilt and outcomes["shared.urban_grids"].rebuilt
    # 3 renamed persons, 1 new on the roll and the legal representatives of the enterprises the broken API dropped
    # (resident_profile counts them from staging): each changed row is one row out and one in.
    registered = {i for (i,) in _source(c.settings, GAJ_DB, "SELECT id_number FROM persons")}
    changed = set(c.renamed) | {c.added_id} | (c.lost_reps & registered)
    profile = outcomes["shared.resident_profile"]
    assert (profile.rows_added, profile.rows_removed) == (len(changed), len(changed)) and len(changed) > 4
    assert (outcomes["shared.urban_grids"].rows_added, outcomes["shared.urban_grids"].rows_removed) == (0, 1)
    persons = _source(c.settings, GAJ_DB, "SELECT count(*) FROM persons")[0][0]
    grids = {g for (g,) in _source(c.settings, CGJ_DB, "SELECT grid_code FROM grids")}
    cases = [g for (g,) in _source(c.settings, CGJ_DB, "SELECT grid_code FROM cases")]
    lines = c.roll[1:]
    with Lake(c.settings).reader() as con:
        names = dict(con.execute("SELECT id_number, name FROM lake.shared.resident_profile WHERE id_number IN (?, ?, ?)",
                                 list(c.renamed)).fetchall())
        recipients = con.execute("SELECT count(*) FROM lake.shared.resident_profile WHERE receives_subsidy").fetchone()[0]
        added = con.execute("SELECT subsidy_types, monthly_subsidy_amount FROM lake.shared.resident_profile "
                            "WHERE id_number = ?", [c.added_id]).fetchone()
        shared_grids = {g for (g,) in con.execute("SELECT grid_code FROM lake.shared.urban_grids").fetchall()}
        overview = con.execute("SELECT sum(residents), sum(grids), sum(monthly_subsidy_total), sum(subsidy_recipients) "
                               "FROM lake.shared.township_overview").fetchone()
    assert _count(c.settings, "lake.shared.resident_profile") == persons == PERSONS
    assert names == c.renamed
    assert recipients == len({line[0] for line in lines})
    assert added == ("临时救助", Decimal("300.00"))
    assert shared_grids == grids and c.deleted_grid not in shared_grids
    # The removed cell's cases are held back by the referential rule, not published dangling.
    assert _count(c.settings, "lake.shared.urban_cases") == sum(g in grids for g in cases) < len(cases)
    assert overview == (persons, len(grids), sum(Decimal(line[3]) for line in lines), len({line[0] for line in lines}))


def test_a_shrunken_source_fails_the_volume_rule_and_keeps_the_served_version(changes: Changes) -> None:
    c, served = changes, changes.manifest.counts["scjgj.enterprises"]
    registry = {o.dataset: o for o in c.changed.datasets}["shared.enterprise_registry"]
    assert not registry.gate_passed and not registry.published_now
    assert registry.published_version == 1 and registry.rows == served  # v1: nothing had changed before
    assert f"{c.kept_enterprises} rows (volume" in registry.reason and f"last published {served}" in registry.reason
    with Lake(c.settings).reader() as con:
        assert con.execute("SELECT count(*) FROM lake.audit.enterprise_registry").fetchone()[0] == c.kept_enterprises
        good = con.execute("SELECT uscc FROM lake.shared.enterprise_registry ORDER BY ALL").fetchall()
    assert len(good) == served
    entry = Catalog(c.settings.catalog_url).get("shared.enterprise_registry")
    assert entry["gate_status"] == "failed" and "volume" in entry["latest_gate"]["reason"]
    assert entry["published_version"] == 1
