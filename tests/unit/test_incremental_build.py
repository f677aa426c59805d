"""An incremental day: only what changed is rebuilt, re-gated and republished; identical rows keep their version."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from countyhub.core.settings import Settings
from countyhub.flow import changes, register
from countyhub.flow.register import register_all
from countyhub.flow.run import build_models, gate_and_publish_all
from countyhub.flow.runtime import Runtime
from countyhub.lakehouse import meta
from countyhub.lakehouse.fingerprint import content_hash, row_changes
from countyhub.lakehouse.lake import Lake
from tests.fixtures.lake_fixtures import raw_tables, write_raw


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE a AS SELECT * FROM (VALUES (1, 'x'), (2, 'y'), (3, NULL)) t(id, v)")
    return con


def test_content_hash_ignores_row_order_but_sees_every_change(con: duckdb.DuckDBPyConnection) -> None:
    first = content_hash(con, "a")
    con.execute("CREATE TABLE b AS SELECT * FROM a ORDER BY id DESC")
    assert content_hash(con, "b") == first
    con.execute("UPDATE b SET v = 'z' WHERE id = 3")  # NULL -> a value
    assert content_hash(con, "b") != first
    con.execute("CREATE TABLE c AS SELECT * FROM a UNION ALL SELECT * FROM a WHERE id = 1")  # a duplicated row
    assert content_hash(con, "c") != first
    con.execute("CREATE TABLE d AS SELECT id::VARCHAR AS id, v FROM a")  # same values, another type
    assert content_hash(con, "d") != first
    con.execute("CREATE TABLE e AS SELECT id, v AS w FROM a")  # another column name
    assert content_hash(con, "e") != first


def test_row_changes_count_rows_in_and_out(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE b AS SELECT * FROM (VALUES (1, 'x'), (2, 'changed'), (4, 'new'), (4, 'new')) t(id, v)")
    assert row_changes(con, "b", "a") == (3, 2)  # in: the changed row and the new one twice; out: 2 and 3
    assert row_changes(con, "a", "a") == (0, 0)
    assert row_changes(con, "b", "a", where="_b.id < 4") == (1, 2)
    con.execute("CREATE TABLE c AS SELECT id, v, 1 AS extra FROM a")
    assert row_changes(con, "c", "a") is None  # reshaped: not comparable row by row


def _load(lake: Lake, department: str, stream: str, finished: datetime, inserted: int = 0, updated: int = 0,
          deleted: int = 0, mode: str = "incremental") -> None:
    with lake.writer() as con:
        meta.write_load(con, meta.LoadRecord(
            f"{department}-{stream}-{finished.timestamp()}", department, stream, inserted + updated, inserted + updated,
            0, "success", finished - timedelta(seconds=1), finished, "", mode, 0, inserted, updated, deleted))


def test_changed_streams_are_those_a_load_changed_after_the_build(settings: Settings) -> None:
    lake, start = Lake(settings), datetime(2026, 12, 1, tzinfo=UTC)
    _load(lake, "gaj", "persons", start - timedelta(hours=1), updated=5)  # before the build
    _load(lake, "gaj", "households", start + timedelta(hours=1))  # read again, nothing new
    _load(lake, "cgj", "cases", start + timedelta(hours=1), inserted=2)
    _load(lake, "mzj", "subsidy_roll", start + timedelta(hours=2), deleted=1, mode="files")
    _load(lake, "cgj", "grids", start + timedelta(hours=2), mode="replace")  # a replace rewrites the table whole
    with lake.writer() as con:  # a failed load rolled back: it changed nothing
        meta.write_load(con, meta.LoadRecord("x", "scjgj", "enterprises", 0, 0, 0, "failed", start, start
                                             + timedelta(hours=3), "refused", "snapshot", 0, 9, 0, 0))
    assert changes.changed_streams(lake, start) == ["raw_cgj.cases", "raw_cgj.grids", "raw_mzj.subsidy_roll"]


def test_downstream_models_follow_the_child_map(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({
        "sources": {"source.p.raw_gaj.persons": {"source_name": "raw_gaj"},
                    "source.p.raw_cgj.grids": {"source_name": "raw_cgj"}},
        "nodes": {f"model.p.{n}": {"name": n} for n in ("stg_gaj", "profile", "overview", "stg_cgj", "grids")},
        "child_map": {"source.p.raw_gaj.persons": ["model.p.stg_gaj"], "model.p.stg_gaj": ["model.p.profile"],
                      "model.p.profile": ["model.p.overview", "test.p.unique"], "source.p.raw_cgj.grids":
                      ["model.p.stg_cgj"], "model.p.stg_cgj": ["model.p.grids", "model.p.overview"]},
    }), encoding="utf-8")
    assert changes.downstream_models(manifest, {"gaj"}) == {"stg_gaj", "profile", "overview"}
    assert changes.downstream_models(manifest, {"cgj"}) == {"stg_cgj", "grids", "overview"}
    assert changes.downstream_models(manifest, {"wjj"}) == set()


@pytest.mark.dbt
def test_an_incremental_day_rebuilds_regates_and_republishes_only_what_changed(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    lake, rt = Lake(settings), Runtime(settings, os.environ)
    tables = raw_tables(persons=120)
    write_raw(lake, tables)
    built = build_models(rt)  # no build to compare with: everything
    assert {"stg_gaj__persons", "resident_profile", "urban_grids"} <= set(built)
    assert _ran_unit_tests(settings)
    first = {o.dataset: o for o in gate_and_publish_all(rt, built)}
    assert {(o.published_version, o.published_now) for o in first.values()} == {(1, True)}
    assert changes.read_build(settings) is not None and changes.read_build(settings, pending=True) is None

    # Registering twice: the second time column lineage (sqlglot over every model) is not computed again.
    register_all(rt)
    lineage = []
    monkeypatch.setattr(register, "_column_lineage", lambda *args: lineage.append(args))
    register_all(rt)
    assert lineage == []

    # Day 2, nothing changed: dbt does not run, nothing is gated, every version stays.
    assert build_models(rt) == []
    second = gate_and_publish_all(rt, [])
    assert {(o.status, o.published_version, o.published_now, o.rebuilt) for o in second} == {
        ("unchanged", 1, False, False)}

    # Day 3: gaj renames one person; its load says so.
    people = tables["gaj.persons"]
    people[7] = {**people[7], "name": "改名"}
    write_raw(lake, {"gaj.persons": people}, load_id="day-3")
    _load(lake, "gaj", "persons", datetime.now(UTC), updated=1)
    built = set(build_models(rt))
    assert {"stg_gaj__persons", "resident_profile", "township_overview"} <= built
    # dbt unit tests check the models' code on fixed inputs: new rows alone do not run them again
    assert not _ran_unit_tests(settings)
    assert not built & {"urban_grids", "urban_cases", "enterprise_registry", "stg_cgj__grids"}
    third = {o.dataset: o for o in gate_and_publish_all(rt, built)}
    profile = third["shared.resident_profile"]
    assert (profile.published_version, profile.published_now, profile.rows_added, profile.rows_removed) == (
        2, True, 1, 1)
    # township_overview was rebuilt, but one renamed person changes none of its rows: same version, not gated.
    overview = third["shared.township_overview"]
    assert (overview.rebuilt, overview.status, overview.published_version) == (True, "unchanged", 1)
    assert (third["shared.urban_grids"].rebuilt, third["shared.urban_grids"].status) == (False, "unchanged")
    with lake.reader() as con:
        assert con.execute("SELECT name FROM lake.shared.resident_profile WHERE id_number = ?",
                           [people[7]["id_number"]]).fetchone()[0] == "改名"


def _ran_unit_tests(settings: Settings) -> list[str]:
    results = json.loads((settings.home / "dbt" / "target" / "run_results.json").read_text(encoding="utf-8"))
    return [r["unique_id"] for r in results["results"] if r["unique_id"].startswith("unit_test.")]


@pytest.mark.dbt
def test_a_build_that_died_before_its_gates_is_rebuilt_next_time(settings: Settings) -> None:
    lake, rt = Lake(settings), Runtime(settings, os.environ)
    tables = raw_tables(persons=60)
    write_raw(lake, tables)
    gate_and_publish_all(rt, build_models(rt))
    people = tables["gaj.persons"]
    people[3] = {**people[3], "name": "改名"}
    write_raw(lake, {"gaj.persons": people}, load_id="day-2")
    _load(lake, "gaj", "persons", datetime.now(UTC), updated=1)
    assert "resident_profile" in build_models(rt)  # ... and the process dies here, before the gates
    assert changes.read_build(settings, pending=True) is not None
    # The next run finds no new load, yet the build it compares with is still the one before the change.
    assert "resident_profile" in build_models(rt)
    outcome = {o.dataset: o for o in gate_and_publish_all(rt, [])}["shared.resident_profile"]
    assert (outcome.published_version, outcome.rows_added, outcome.rows_removed) == (2, 1, 1)
    assert build_models(rt) == []  # and now it is done


@pytest.mark.dbt
def test_a_changed_model_is_rebuilt_with_what_depends_on_it(settings: Settings) -> None:
    lake, rt = Lake(settings), Runtime(settings, os.environ)
    write_raw(lake, raw_tables(persons=60))
    gate_and_publish_all(rt, build_models(rt))
    project = settings.home / "dbt" / "project"
    # Edit the deployment's copy the way a new release of the project would change it.
    source = settings.dbt_project_dir / "models" / "marts" / "cgj" / "urban_cases.sql"
    edited = settings.home / "dbt-src"
    shutil.copytree(settings.dbt_project_dir, edited)
    (edited / "models" / "marts" / "cgj" / "urban_cases.sql").write_text(
        source.read_text(encoding="utf-8") + "\n-- a comment changes the model's checksum\n", encoding="utf-8")
    rt2 = Runtime(dataclasses.replace(settings, dbt_project_dir=edited), os.environ)
    built = set(build_models(rt2))
    assert {"urban_cases", "urban_case_sla"} <= built and not built & {"resident_profile", "urban_grids"}, built
    # the project changed: the changed model's unit tests run again
    assert any(t.startswith("unit_test.countyhub.urban_cases.") for t in _ran_unit_tests(settings))
    assert project.is_dir()
