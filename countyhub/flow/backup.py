"""Back up a countyhub home: the lake (DuckLake metadata + Parquet files), the catalog with its users, grants and
audit log, as one consistent state with a manifest of checksums, row counts and the audit chain's head."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy.engine import make_url

from countyhub import __version__
from countyhub.core.checksums import file_checksum
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake

MANIFEST = "manifest.json"
FORMAT = 1  # the manifest's layout; restore refuses a backup of another
METADATA = "lake/metadata.sqlite"  # where each store lies inside a backup folder
DATA = "lake/data"
CATALOG = "catalog.sqlite"
_CHUNK = 1 << 20
Progress = Callable[[int, int], None]  # (bytes copied so far, bytes to copy in all)


class BackupError(RuntimeError):
    """A backup cannot be taken or restored; the message names the file or setting, and nothing was written."""


@dataclass(frozen=True)
class HomeStores:
    """Where an embedded home keeps what a backup holds."""

    metadata: Path  # DuckLake metadata (SQLite)
    data: Path  # the lake's Parquet folder
    catalog: Path  # catalog store: datasets, users, grants, audit log (SQLite)


def home_stores(settings: Settings) -> HomeStores:
    """The home's store files, or a BackupError saying what is supported when the home is not the embedded kind."""
    found = []
    if not settings.lake_metadata.startswith("sqlite:"):
        kind = "PostgreSQL" if settings.lake_metadata.startswith("postgres:") else "a DuckDB file"
        found.append(f"its lake metadata is in {kind}")
    if "://" in settings.lake_data:
        found.append(f"its lake data is in object storage ({settings.lake_data.split('://')[0]}://)")
    url = make_url(settings.catalog_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        found.append(f"its catalog store is {url.get_backend_name()}" + ("" if url.database else " in memory"))
    if found:
        raise BackupError(
            "backup and restore support the embedded default only (SQLite lake metadata, a local lake data folder, "
            f"a SQLite catalog), and this home is not it: {'; '.join(found)}. Back up a PostgreSQL lake catalog and "
            "catalog store with pg_dump, and s3:// lake data with the object store's own versioning or replication.")
    return HomeStores(Path(settings.lake_metadata.removeprefix("sqlite:")), Path(settings.lake_data),
                      Path(str(url.database)))


def copy_file(source: Path, target: Path, done: int = 0, total: int = 0, progress: Progress | None = None) -> str:
    """Copy `source` to `target` and return the sha256 of the bytes written (read once, in 1 MiB chunks)."""
    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: one consistent state of a database that other processes keep writing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
            closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def lake_files(metadata: Path) -> list[tuple[str, str]]:
    """Every Parquet data and delete file the DuckLake metadata names, in any snapshot (time travel keeps working
    after a restore): (path relative to the recorded data path, that data path)."""
    with closing(sqlite3.connect(f"file:{metadata}?mode=ro", uri=True)) as con:
        data_path = con.execute("SELECT value FROM ducklake_metadata WHERE key = 'data_path' AND scope IS NULL"
                                ).fetchone()[0]
        # A table or schema renamed keeps its id and path; the newest row of each is enough.
        rows = con.execute("""
            WITH t AS (SELECT table_id, schema_id, path, path_is_relative, max(begin_snapshot) FROM ducklake_table
                       GROUP BY table_id),
                 s AS (SELECT schema_id, path, path_is_relative, max(begin_snapshot) FROM ducklake_schema
                       GROUP BY schema_id),
                 f AS (SELECT table_id, path, path_is_relative FROM ducklake_data_file
                       UNION ALL SELECT table_id, path, path_is_relative FROM ducklake_delete_file)
            SELECT f.path, f.path_is_relative, t.path, t.path_is_relative, s.path, s.path_is_relative
            FROM f JOIN t USING (table_id) JOIN s USING (schema_id)""").fetchall()
    files = set()
    for file, file_rel, table, table_rel, schema, schema_rel in rows:
        schema_dir = data_path + (schema or "") if schema_rel or schema is None else schema
        table_dir = schema_dir + (table or "") if table_rel or table is None else table
        full = table_dir + file if file_rel else file
        if not full.startswith(data_path):
            raise BackupError(f"{metadata}: data file {full} lies outside the lake's data path {data_path}; "
                              "backup copies only the data folder")
        files.add(full.removeprefix(data_path))
    return [(name, data_path) for name in sorted(files)]


def snapshot_id(metadata: Path) -> int:
    with closing(sqlite3.connect(f"file:{metadata}?mode=ro", uri=True)) as con:
        return int(con.execute("SELECT max(snapshot_id) FROM ducklake_snapshot").fetchone()[0])


def audit_head(catalog: Path) -> dict[str, Any]:
    """How many audit entries there are and the last one's id and hash (none before sharing was first used)."""
    with closing(sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)) as con:
        try:
            row = con.execute("SELECT id, hash, (SELECT count(*) FROM sharing_audit_log) FROM sharing_audit_log "
                              "ORDER BY id DESC LIMIT 1").fetchone()
        except sqlite3.OperationalError:  # no such table: a catalog nobody shared from yet
            row = None
    return {"entries": row[2], "head_id": row[0], "head_hash": row[1]} if row else \
        {"entries": 0, "head_id": None, "head_hash": None}


def shared_rows(lake: Lake, metadata: Path, data: Path) -> dict[str, int]:
    """Rows of every table in the shared zone, read through DuckLake from the given metadata and data folder."""
    with closing(duckdb.connect(config=lake.duckdb_config())) as con:
        con.execute(f"ATTACH 'ducklake:sqlite:{metadata}' AS copy (DATA_PATH '{data}/', OVERRIDE_DATA_PATH true, "
                    "READ_ONLY)")
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'copy' "
                                           "AND schema_name = 'shared' ORDER BY 1").fetchall()]
        return {f"shared.{n}": con.execute(f'SELECT count(*) FROM copy.shared."{n}"').fetchone()[0] for n in names}


def backup_home(lake: Lake, dest: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Write one consistent backup of the home `lake` belongs to into the new folder `dest`; returns the manifest.

    The lake's writer lock is held while both databases are copied with SQLite's online backup: no lake commit
    lands between the two copies, and each copy is one committed state (a grant, an audit batch, a load or a
    publish is in it whole or not at all). The Parquet files are copied after the lock is released: DuckLake
    never rewrites a file, and the copied metadata pins the ones it names.
    """
    stores = home_stores(lake.settings)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest}: already exists and is not an empty folder; name a new folder for the backup")
    if not stores.metadata.exists():
        raise BackupError(f"{stores.metadata}: no lake here to back up (COUNTYHUB_HOME is {lake.settings.home})")
    partial = dest.with_name(f"{dest.name}.partial-{os.getpid()}")  # renamed to dest once complete
    shutil.rmtree(partial, ignore_errors=True)
    try:
        with lake.lock():
            sqlite_copy(stores.metadata, partial / METADATA)
            if stores.catalog.exists():
                sqlite_copy(stores.catalog, partial / CATALOG)
        files = _copy_data(stores.data, partial / DATA, lake_files(partial / METADATA), progress)
        manifest = _manifest(lake, partial, stores, files)
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            dest.rmdir()
        partial.rename(dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


def _copy_data(data: Path, target: Path, names: list[tuple[str, str]], progress: Progress | None
               ) -> dict[str, dict[str, Any]]:
    sources = []
    for rel, _ in names:
        source = data / rel
        if not source.is_file():
            raise BackupError(f"{source}: the lake's metadata names this data file, but it is missing; the lake "
                              "is damaged (a file deleted by hand?) and a backup of it would not restore")
        sources.append((rel, source, source.stat().st_size))
    total, done, out = sum(s for _, _, s in sources), 0, {}
    for rel, source, size in sources:
        digest = copy_file(source, target / rel, done, total, progress)
        done += size
        out[f"{DATA}/{rel}"] = {"sha256": digest, "bytes": size}
    return out


def _manifest(lake: Lake, folder: Path, stores: HomeStores, files: dict[str, Any]) -> dict[str, Any]:
    rows = shared_rows(lake, folder / METADATA, folder / DATA)  # also proves the copy opens as a lake
    checked = {rel: {"sha256": file_checksum(folder / rel), "bytes": (folder / rel).stat().st_size}
               for rel in (METADATA, CATALOG) if (folder / rel).exists()}
    return {
        "format": FORMAT,
        "countyhub_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source_home": str(lake.settings.home),
        "lake": {"snapshot_id": snapshot_id(folder / METADATA), "data_path": str(stores.data)},
        "shared_rows": rows,
        "audit": audit_head(folder / CATALOG) if (folder / CATALOG).exists() else None,
        "files": {**checked, **files},
    }
