"""DuckLake's snapshot log says which tables commits touched; registration samples only those again."""

from __future__ import annotations

import os

import pytest

from countyhub.core.settings import Settings
from countyhub.flow import register
from countyhub.flow.runtime import Runtime
from countyhub.lakehouse.lake import Lake
from countyhub.lakehouse.touched import current_snapshot, touched_since
from tests.fixtures.lake_fixtures import raw_tables, write_raw


def test_touched_names_the_tables_written_deleted_from_created_or_replaced(settings: Settings) -> None:
    lake = Lake(settings)
    with lake.writer() as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS lake.raw_t")
        con.execute("CREATE TABLE lake.raw_t.a AS SELECT range AS id FROM range(5)")
        con.execute("CREATE TABLE lake.raw_t.b AS SELECT range AS id FROM range(5)")
        start = current_snapshot(con)
        assert touched_since(con, start) == set()
        con.execute("INSERT INTO lake.raw_t.a VALUES (9)")
        assert touched_since(con, start) == {"raw_t.a"}
        middle = current_snapshot(con)
        con.execute("DELETE FROM lake.raw_t.b WHERE id = 1")
        con.execute("CREATE OR REPLACE TABLE lake.audit.c AS SELECT 1 AS x")
        con.execute("CREATE VIEW lake.staging.v AS SELECT * FROM lake.raw_t.a")
        assert touched_since(con, middle) == {"raw_t.b", "audit.c", "staging.v"}
        assert touched_since(con, start) == {"raw_t.a", "raw_t.b", "audit.c", "staging.v"}


def test_registration_counts_again_only_the_tables_a_commit_touched(settings: Settings,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    rt = Runtime(settings, os.environ)
    tables = raw_tables(persons=30)
    write_raw(rt.lake, {k: tables[k] for k in ("gaj.persons", "gaj.households")})
    sampled: list[str] = []
    real = register._sample

    def counting(con, name):
        sampled.append(name)
        return real(con, name)

    monkeypatch.setattr(register, "_sample", counting)
    register.register_all(rt)
    assert {"raw_gaj.persons", "raw_gaj.households"} <= set(sampled)

    sampled.clear()
    register.register_all(rt)  # nothing written since: both keep their counts and samples
    assert sampled == []
    assert rt.catalog.get_entry("raw_gaj.persons")["row_count"] == len(tables["gaj.persons"])

    write_raw(rt.lake, {"gaj.persons": tables["gaj.persons"][:10]}, load_id="day-2")
    register.register_all(rt)
    assert sampled == ["raw_gaj.persons"]
    assert rt.catalog.get_entry("raw_gaj.persons")["row_count"] == 10
    assert rt.catalog.get_entry("raw_gaj.households")["row_count"] == len(tables["gaj.households"])

    (settings.home / "catalog-registered.json").unlink()  # no record of the last registration: count everything
    sampled.clear()
    register.register_all(rt)
    assert {"raw_gaj.persons", "raw_gaj.households"} <= set(sampled)
