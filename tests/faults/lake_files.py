"""A Parquet file of the lake deleted or one of its bytes flipped: what a read answers, what `lake verify` says."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import duckdb

from countyhub.core.extensions import extension_config
from tests.faults.harness import County
from tests.faults.invariants import Verdict

TABLES = {"raw_aaa.persons": "person_id, label", "shared.people_roll": "person_id, label"}


def _open(home: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config=extension_config(home / "duckdb_extensions"))
    con.execute(f"ATTACH 'ducklake:sqlite:{home / 'lake' / 'metadata.sqlite'}' AS l "
                f"(DATA_PATH '{home / 'lake' / 'data'}/', READ_ONLY)")
    return con


def data_file(home: Path, table: str) -> Path:
    schema, name = table.split(".")
    with closing(_open(home)) as con:
        return Path(con.execute("SELECT data_file FROM ducklake_list_files('l', ?, schema => ?) LIMIT 1",
                                [name, schema]).fetchone()[0])


def read(home: Path, table: str) -> list[tuple] | str:
    """The table's rows read the way every reader of the lake does (DuckDB over DuckLake), or the error text."""
    try:
        with closing(_open(home)) as con:
            return sorted(con.execute(f"SELECT {TABLES[table]} FROM l.{table}").fetchall())
    except duckdb.Error as exc:
        return str(exc)


def damage_trial(county: County, table: str, offset: int | None) -> tuple[Verdict, str]:
    """Delete (offset None) or flip one byte of the table's file; returns the verdict and what a read answered:
    "error naming the file", "error without the file", "same rows" or "wrong rows" (silent)."""
    verdict = Verdict(recovered=False)  # a damaged file comes back from a backup, not from the next run
    county.fresh()
    good = read(county.home, table)
    path = data_file(county.home, table)
    if offset is None:
        path.unlink()
    else:
        data = bytearray(path.read_bytes())
        data[offset % len(data)] ^= 0xFF
        path.write_bytes(bytes(data))
    answer = read(county.home, table)
    if isinstance(answer, str):
        seen = "error naming the file" if path.name in answer else "error without the file"
    else:
        seen = "same rows" if answer == good else "wrong rows"
    check = county.countyhub("lake", "verify")
    if check.code != 1 or str(path) not in check.output or "Traceback" in check.output:
        verdict.partial += 1  # an undetected damaged file is a wrong answer waiting to be served
        verdict.notes.append(f"{path} damaged, `lake verify` said (exit {check.code}): {check.output[-300:]}")
    return verdict, seen
