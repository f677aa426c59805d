"""One benchmark contender per process: `python -m bench.connectors_contenders NAME JSON_ARGS` prints a JSON result."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

STREAM = {"name": "residents", "primary_key": ["id"], "cursor": "updated_at"}


def _duckdb() -> duckdb.DuckDBPyConnection:

    from countyhub.core.extensions import extension_config
    from countyhub.core.settings import load_settings

    return duckdb.connect(config=extension_config(load_settings().extension_dir))


def _initialise_lake(dept: object) -> None:
    """Create the lake's zones and meta tables untimed: a one-off per lake (about a second), not per load."""
    from countyhub.core.settings import load_settings
    from countyhub.lakehouse import Lake
    from countyhub.lakehouse.plan import prepare_session

    lake = Lake(load_settings())
    with lake.writer() as con:  # opening a writer creates the meta tables
        prepare_session(con, dept.raw_schema, lake.settings.home / "tmp")


def countyhub_sql(url: str, table: str, home: str, full_refresh: bool = False,
                  id_number_columns: list[str] | None = None) -> dict[str, Any]:
    """Our path: the sql connector (DuckDB scanner) into the raw zone of a DuckLake, one transaction.

    `id_number_columns` declares a resident-ID rule: rows then pass through the row rules (the Arrow path).
    """
    os.environ["COUNTYHUB_HOME"] = home
    from countyhub.connectors import get_connector
    from countyhub.core.departments import Department, Stream
    from countyhub.core.settings import load_settings
    from countyhub.lakehouse import Lake
    from countyhub.lakehouse.load import load_stream

    dept = Department(code="bench", name="基准", name_en="Bench", owner={"steward": "bench"})
    connector = get_connector("sql")({"url": url})
    _initialise_lake(dept)
    start = time.perf_counter()
    rules = {} if id_number_columns is None else {"id_number_columns": id_number_columns}
    result = load_stream(Lake(load_settings()), dept, Stream(**STREAM, table=table, **rules), connector,
                         full_refresh=full_refresh)
    return {"seconds": time.perf_counter() - start, "rows": result.rows_read, "mode": result.mode,
            "changed": result.rows_inserted + result.rows_updated, "timing": result.timing(),
            "quarantined": result.rows_quarantined}


def scanner_parquet(url: str, table: str, out: str) -> dict[str, Any]:
    """DuckDB's postgres/mysql scanner copying the table straight to one Parquet file: near the machine's limit."""
    from sqlalchemy.engine import make_url

    from countyhub.connectors.sql_duckdb import attach_setup, quote

    con = _duckdb()
    alias, setup = attach_setup(make_url(url), None)
    for sql, params in setup:
        con.execute(sql, params)
    start = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM {alias}.{quote(table)}) TO '{out}' (FORMAT parquet)")
    rows = con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
    return {"seconds": time.perf_counter() - start, "rows": rows}


def pandas_parquet(url: str, table: str, out: str) -> dict[str, Any]:
    """What people write by hand: pandas.read_sql, then DataFrame.to_parquet."""
    import pandas as pd
    import sqlalchemy as sa

    start = time.perf_counter()
    frame = pd.read_sql(f"SELECT * FROM {table}", sa.create_engine(url))
    frame.to_parquet(out)
    return {"seconds": time.perf_counter() - start, "rows": len(frame)}


def countyhub_csv(folder: str, home: str, pattern: str = "roll_*.csv", types: dict[str, str] | None = None,
                  stream: str = "roll") -> dict[str, Any]:
    """Our path: the files connector (encoding detection, GB18030 transcoding, header and footer detection,
    ID-number rule, declared types) into the raw zone. Also the Excel path, with an .xlsx `pattern`."""
    os.environ["COUNTYHUB_HOME"] = home
    from countyhub.connectors import get_connector
    from countyhub.core.departments import Department, Stream
    from countyhub.core.settings import load_settings
    from countyhub.lakehouse import Lake
    from countyhub.lakehouse.load import load_stream

    dept = Department(code="bench", name="基准", name_en="Bench", owner={"steward": "bench"})
    _initialise_lake(dept)
    start = time.perf_counter()
    result = load_stream(Lake(load_settings()), dept, Stream(name=stream, pattern=pattern, types=types or {}),
                         get_connector("files")({"path": folder}))
    return {"seconds": time.perf_counter() - start, "rows": result.rows_read, "quarantined": result.rows_quarantined,
            "loaded": result.rows_loaded, "skipped": result.rows_skipped}


def duckdb_csv(path: str, out: str) -> dict[str, Any]:
    """DuckDB read_csv (parallel) on the UTF-8 copy, straight to Parquet."""
    con = _duckdb()
    start = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM read_csv('{path}', all_varchar=true)) TO '{out}' (FORMAT parquet)")
    rows = con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
    return {"seconds": time.perf_counter() - start, "rows": rows}


def duckdb_xlsx(path: str, out: str) -> dict[str, Any]:
    """DuckDB's excel extension (read_xlsx) on the one-header-row copy, straight to Parquet."""
    import importlib.metadata

    dist = importlib.metadata.distribution("duckdb-extension-excel")
    binary = next(f for f in dist.files or [] if str(f).endswith("/excel.duckdb_extension"))
    con = duckdb.connect(config={"allow_unsigned_extensions": True})
    con.execute(f"LOAD '{binary.locate()}'")
    start = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM read_xlsx('{path}')) TO '{out}' (FORMAT parquet)")
    rows = con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
    return {"seconds": time.perf_counter() - start, "rows": rows}


if __name__ == "__main__":
    name, args = sys.argv[1], json.loads(sys.argv[2])
    result = globals()[name](**args)
    # The kernel's high-water mark of this process (reset by exec, unlike getrusage's, which a forked
    # child inherits from its parent).
    status = Path("/proc/self/status").read_text()
    result["peak_rss_mb"] = int(next(x for x in status.splitlines() if x.startswith("VmHWM:")).split()[1]) / 1024
    if args.get("out"):
        Path(args["out"]).unlink(missing_ok=True)
    print(json.dumps(result))
