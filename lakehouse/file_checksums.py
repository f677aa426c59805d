"""Checksums of the lake's Parquet files: recorded once (DuckLake never rewrites a file), verified on demand.

Why: a damaged Parquet file does not always fail to read. A flipped byte in a column's data or statistics can come
back as a different value or a row filtered out — a silent wrong answer (tests/faults/test_lake_files.py finds such
offsets); other damage fails with an error that does not name the file ("Out of buffer"). DuckLake keeps each file's
size but no checksum, so the sha256 of every live file is kept beside the catalog, in <home>/lake/file-checksums.json,
written by each `countyhub run`/`build` for the files it does not know yet, and `countyhub lake verify` compares.
Local lakes only: an object store keeps its own checksums (S3's ETag / checksum headers).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from countyhub.core.checksums import file_checksum
from countyhub.lakehouse.lake import LAKE, Lake


@dataclass
class FileCheck:
    """What a verification saw: files checked, files with no checksum yet, and one line per damaged file."""

    checked: int = 0
    unrecorded: int = 0
    damaged: list[str] = field(default_factory=list)


def checksum_file(lake: Lake) -> Path:
    return lake.settings.home / "lake" / "file-checksums.json"


def live_files(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """(schema.table, path, size the catalog records) of every data and delete file the current snapshot reads."""
    out = []
    for schema, table in con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? "
                                     "ORDER BY 1, 2", [LAKE]).fetchall():
        for data, size, delete, delete_size in con.execute(
                "SELECT data_file, data_file_size_bytes, delete_file, delete_file_size_bytes "
                f"FROM ducklake_list_files('{LAKE}', ?, schema => ?)", [table, schema]).fetchall():
            out.append((f"{schema}.{table}", data, size))
            if delete:
                out.append((f"{schema}.{table}", delete, delete_size))
    return out


def _local(lake: Lake) -> bool:
    return "://" not in lake.settings.lake_data


def _read(path: Path) -> dict[str, str]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def record_checksums(lake: Lake) -> int:
    """Hash the live files not recorded yet (and forget files no longer live); returns how many were hashed."""
    if not _local(lake):
        return 0
    path = checksum_file(lake)
    known = _read(path)
    with lake.reader() as con:
        files = live_files(con)
    kept = {f: known[f] for _, f, _ in files if f in known}
    fresh = {f: file_checksum(Path(f)) for _, f, _ in files if f not in known and Path(f).is_file()}
    if fresh or len(kept) != len(known):
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps({**kept, **fresh}, indent=0, sort_keys=True), encoding="utf-8")
        os.replace(temp, path)  # a kill mid-write leaves the old list, never half of one
    return len(fresh)


def verify_files(lake: Lake) -> FileCheck:
    """Every live file: present, of the size the lake's catalog records, with the checksum recorded for it."""
    check = FileCheck()
    if not _local(lake):
        return check
    known = _read(checksum_file(lake))
    with lake.reader() as con:
        files = live_files(con)
    for table, name, size in files:
        check.checked += 1
        path = Path(name)
        if not path.is_file():
            check.damaged.append(f"{name} (lake.{table}): missing")
        elif path.stat().st_size != size:
            check.damaged.append(f"{name} (lake.{table}): {path.stat().st_size} bytes, the lake's catalog says {size}")
        elif name not in known:
            check.unrecorded += 1
        elif file_checksum(path) != known[name]:
            check.damaged.append(f"{name} (lake.{table}): its content changed since it was written (sha256 differs)")
    return check
