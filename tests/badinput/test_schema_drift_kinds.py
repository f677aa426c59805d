"""Schema drift of each kind between two loads of a department's SQLite table: refused or evolved, nothing lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from countyhub.connectors import get_connector
from countyhub.core.departments import Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake
from countyhub.lakehouse.drift import SchemaDriftError
from countyhub.lakehouse.load import LoadResult
from tests.badinput.lake_probe import load

FIRST = ("pid INTEGER PRIMARY KEY, name TEXT, grade INTEGER", [(1, "张三", 1), (2, "李四", 2)])
REFUSED = "The load stopped and nothing changed; set `allow_schema_evolution: true`"


def _load(settings: Settings, db: Path, table: tuple[str, list[tuple]], evolve: bool) -> LoadResult:
    columns, rows = table
    with sqlite3.connect(db) as con:
        con.execute("DROP TABLE IF EXISTS insured")
        con.execute(f"CREATE TABLE insured ({columns})")
        con.executemany(f"INSERT INTO insured VALUES ({', '.join('?' * len(rows[0]))})", rows)
    con.close()
    stream = Stream(name="insured", primary_key=["pid"], allow_schema_evolution=evolve)
    return load(settings, stream, get_connector("sql")({"url": f"sqlite:///{db}"}))


def _lake(settings: Settings) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """(columns and types, rows, meta.schema_changes) of raw_mzj.insured, read on one connection."""
    with Lake(settings).reader() as con:
        return (con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'lake' AND "
                            "schema_name = 'raw_mzj' AND table_name = 'insured' AND column_name NOT LIKE '\\_%' "
                            "ESCAPE '\\' ORDER BY column_index").fetchall(),
                con.execute("SELECT * EXCLUDE (_load_id, _loaded_at) FROM raw_mzj.insured ORDER BY pid").fetchall(),
                con.execute("SELECT column_name, change, old_type, new_type FROM meta.schema_changes ORDER BY 1"
                            ).fetchall())


def _refused(settings: Settings, db: Path, first: tuple, second: tuple, what: str) -> None:
    _load(settings, db, first, evolve=False)
    before = _lake(settings)
    with pytest.raises(SchemaDriftError) as failure:
        _load(settings, db, second, evolve=False)
    assert f"department mzj, stream insured: schema drift: {what}. {REFUSED}" in str(failure.value)
    assert _lake(settings) == before  # the first load's rows and types stand, no change recorded


def test_a_column_added_is_added_and_recorded(settings: Settings, tmp_path: Path) -> None:
    _load(settings, tmp_path / "si.db", FIRST, evolve=False)
    second = _load(settings, tmp_path / "si.db", ("pid INTEGER PRIMARY KEY, name TEXT, grade INTEGER, phone TEXT",
                                                  [(1, "张三", 1, "13800000001"), (2, "李四", 2, None)]), evolve=False)
    assert second.schema_changes == ["phone added"]
    assert _lake(settings) == ([("pid", "BIGINT"), ("name", "VARCHAR"), ("grade", "BIGINT"), ("phone", "VARCHAR")],
                               [(1, "张三", 1, "13800000001"), (2, "李四", 2, None)],
                               [("phone", "added", None, "VARCHAR")])


def test_a_column_removed_is_refused_without_evolution(settings: Settings, tmp_path: Path) -> None:
    _refused(settings, tmp_path / "si.db", FIRST, ("pid INTEGER PRIMARY KEY, name TEXT", [(1, "张三")]),
             "column 'grade' dropped")


def test_a_column_removed_with_evolution_keeps_the_column_for_old_values(settings: Settings, tmp_path: Path) -> None:
    _load(settings, tmp_path / "si.db", FIRST, evolve=True)
    _load(settings, tmp_path / "si.db", ("pid INTEGER PRIMARY KEY, name TEXT", [(1, "张三"), (2, "李四")]), evolve=True)
    # The column stays (time travel and the first load's rows still have it); current rows have no value for it.
    assert _lake(settings) == ([("pid", "BIGINT"), ("name", "VARCHAR"), ("grade", "BIGINT")],
                               [(1, "张三", None), (2, "李四", None)], [("grade", "dropped", "BIGINT", None)])


def test_a_column_renamed_is_refused_as_a_drop_without_evolution(settings: Settings, tmp_path: Path) -> None:
    _refused(settings, tmp_path / "si.db", FIRST,
             ("pid INTEGER PRIMARY KEY, name TEXT, level INTEGER", [(1, "张三", 1)]), "column 'grade' dropped")


def test_a_column_renamed_with_evolution_is_recorded_as_added_and_dropped(settings: Settings, tmp_path: Path) -> None:
    _load(settings, tmp_path / "si.db", FIRST, evolve=True)
    _load(settings, tmp_path / "si.db", ("pid INTEGER PRIMARY KEY, name TEXT, level INTEGER",
                                         [(1, "张三", 1), (2, "李四", 2)]), evolve=True)
    assert _lake(settings) == ([("pid", "BIGINT"), ("name", "VARCHAR"), ("grade", "BIGINT"), ("level", "BIGINT")],
                               [(1, "张三", None, 1), (2, "李四", None, 2)],
                               [("grade", "dropped", "BIGINT", None), ("level", "added", None, "BIGINT")])


def test_a_type_widened_is_promoted_in_place_without_evolution(settings: Settings, tmp_path: Path) -> None:
    first = ("pid INTEGER PRIMARY KEY, name TEXT, amount DECIMAL(10,2)", [(1, "张三", "560.50")])
    _load(settings, tmp_path / "si.db", first, evolve=False)
    second = _load(settings, tmp_path / "si.db", ("pid INTEGER PRIMARY KEY, name TEXT, amount DECIMAL(14,2)",
                                                  [(1, "张三", "560.50"), (2, "李四", "123456789012.25")]), evolve=False)
    assert second.schema_changes == ["amount widened"]
    columns, rows, changes = _lake(settings)
    assert columns == [("pid", "BIGINT"), ("name", "VARCHAR"), ("amount", "DECIMAL(14,2)")]
    assert [(pid, name, str(amount)) for pid, name, amount in rows] == [(1, "张三", "560.50"),
                                                                       (2, "李四", "123456789012.25")]
    assert changes == [("amount", "widened", "DECIMAL(10,2)", "DECIMAL(14,2)")]


NARROW = (("pid INTEGER PRIMARY KEY, name TEXT, amount DECIMAL(14,2)", [(1, "张三", "560.50")]),
          ("pid INTEGER PRIMARY KEY, name TEXT, amount DECIMAL(10,2)", [(1, "张三", "560.50")]))
INCOMPATIBLE = (("pid INTEGER PRIMARY KEY, name TEXT, grade TEXT", [(1, "张三", "一级")]),
                ("pid INTEGER PRIMARY KEY, name TEXT, grade INTEGER", [(1, "张三", 1)]))


@pytest.mark.parametrize(("tables", "what"), [
    (NARROW, "column 'amount' retyped from DECIMAL(14,2) to DECIMAL(10,2)"),
    (INCOMPATIBLE, "column 'grade' retyped from VARCHAR to BIGINT")], ids=["narrowed", "incompatible"])
def test_a_type_narrowed_or_incompatible_is_refused_without_evolution(settings: Settings, tmp_path: Path,
                                                                      tables: tuple, what: str) -> None:
    _refused(settings, tmp_path / "si.db", *tables, what)


@pytest.mark.parametrize(("tables", "what"), [
    (NARROW, "column 'amount' cannot change from DECIMAL(14,2) to DECIMAL(10,2) in place"),
    (INCOMPATIBLE, "column 'grade' cannot change from VARCHAR to BIGINT in place")],
    ids=["narrowed", "incompatible"])
def test_a_type_narrowed_or_incompatible_with_evolution_stops_without_loss(settings: Settings, tmp_path: Path,
                                                                           tables: tuple, what: str) -> None:
    # DuckLake only promotes types in place: evolution cannot apply it, so the load stops and asks for a full refresh.
    _load(settings, tmp_path / "si.db", tables[0], evolve=True)
    before = _lake(settings)
    with pytest.raises(SchemaDriftError) as failure:
        _load(settings, tmp_path / "si.db", tables[1], evolve=True)
    assert what in str(failure.value) and "run the load with --full-refresh" in str(failure.value)
    assert _lake(settings) == before
