"""A first load with repeated keys settles them inside the load's DuckLake transaction, many times over without a
crash: replacing the lake table by a query that read it corrupted DuckDB's memory in about one load in ten."""

from __future__ import annotations

from pathlib import Path

from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake
from countyhub.lakehouse.duplicates import collapse
from countyhub.lakehouse.rejects import RejectSpill

ROUNDS = 100  # before the fix, 2 runs in 4 failed within 60


def test_settling_repeated_keys_in_a_lake_transaction_again_and_again(settings: Settings, tmp_path: Path) -> None:
    lake = Lake(settings)
    for _ in range(ROUNDS):
        spill = RejectSpill(tmp_path)
        with lake.writer() as con:
            con.execute("BEGIN")
            con.execute("CREATE SCHEMA IF NOT EXISTS lake.raw_mzj")
            con.execute("CREATE OR REPLACE TABLE lake.raw_mzj.roll AS SELECT * FROM (VALUES ('P001', 'a', 'L'), "
                        "('P001', 'b', 'L'), ('P002', 'c', 'L'), ('P003', 'd', 'L'), ('P003', 'd', 'L')) "
                        "v(person_code, name, _load_id)")
            assert collapse(con, "lake.raw_mzj.roll", ["person_code"], None, spill, in_lake=True) == 1
            con.execute("COMMIT")
        # P001: two people on one key, one kept and one quarantined; P003's exact copy is one row.
        assert spill.rows == 1
    with lake.reader() as con:
        rows = con.execute("SELECT person_code, count(*) FROM lake.raw_mzj.roll GROUP BY 1 ORDER BY 1").fetchall()
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'lake' "
                                            "AND schema_name = 'raw_mzj'").fetchall()}
    assert rows == [("P001", 1), ("P002", 1), ("P003", 1)]
    assert tables == {"roll"}  # the table of kept rows is gone
