"""Restore a countyhub backup into a home: every checksum verified before a byte is written, then the restored
lake's row counts and the audit chain checked against the manifest."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from countyhub.catalog.tables import make_engine
from countyhub.core.checksums import file_checksum
from countyhub.core.settings import Settings
from countyhub.flow.backup import (
    CATALOG,
    DATA,
    FORMAT,
    MANIFEST,
    METADATA,
    BackupError,
    HomeStores,
    Progress,
    audit_head,
    copy_file,
    home_stores,
    shared_rows,
)
from countyhub.lakehouse import Lake
from countyhub.sharing.audit import AuditLog

_SQLITE_SIDES = ("-wal", "-shm", "-journal")  # a SQLite database's companion files


@dataclass(frozen=True)
class Restored:
    """What a restore wrote and found: the manifest it followed and the audit entries it verified."""

    manifest: dict[str, Any]
    files: int
    bytes: int
    audit_entries: int


def read_manifest(src: Path) -> dict[str, Any]:
    """The backup's manifest, its file names checked to stay inside the backup and the stores they restore to."""
    path = src / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{path}: missing; {src} is not a countyhub backup (or one that did not finish)") from None
    except ValueError as exc:
        raise BackupError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: field 'format' is {manifest.get('format') if isinstance(manifest, dict) else None!r}"
                          f"; this countyhub restores format {FORMAT}")
    files = manifest.get("files")
    if not isinstance(files, dict) or METADATA not in files:
        raise BackupError(f"{path}: field 'files' does not list {METADATA}")
    for name in files:
        parts = PurePosixPath(name).parts
        if name not in (METADATA, CATALOG) and (not name.startswith(f"{DATA}/") or ".." in parts or
                                                  PurePosixPath(name).is_absolute()):
            raise BackupError(f"{path}: field 'files' names {name!r}, which is not a place in a backup")
    return manifest


def home_in_use(stores: HomeStores) -> list[Path]:
    """The stores of a home that already hold something (a lake, a catalog, data files)."""
    used = [p for p in (stores.metadata, stores.catalog) if p.exists()]
    if stores.data.is_dir() and any(p.is_file() for p in stores.data.rglob("*")):
        used.append(stores.data)
    return used


def verify_backup(src: Path, manifest: dict[str, Any]) -> None:
    """Every listed file present with the size and sha256 the manifest gives; the first that is not is named."""
    for name, expected in manifest["files"].items():
        path = src / name
        if not path.is_file():
            raise BackupError(f"{path}: listed in the manifest but missing from the backup; nothing was restored")
        if path.stat().st_size != expected.get("bytes") or file_checksum(path) != expected.get("sha256"):
            raise BackupError(f"{path}: checksum does not match the manifest (the file was changed or damaged); "
                              "nothing was restored")


def restore_home(src: Path, settings: Settings, lake: Lake, force: bool = False,
                 progress: Progress | None = None) -> Restored:
    """Restore the backup in `src` into the home of `settings` (empty, or replaced with `force`).

    Nothing is written until the manifest and every file's checksum have been verified. Afterwards the restored
    lake's shared row counts and the audit chain (verified from its first entry, with the same head) must equal
    the manifest's, or the restore fails.
    """
    stores = home_stores(settings)
    manifest = read_manifest(src)
    used = home_in_use(stores)
    if used and not force:
        raise BackupError(f"{settings.home}: not an empty home (it holds {', '.join(str(p) for p in used)}); "
                          "restore into a new home (--home) or pass --force to replace what is there")
    verify_backup(src, manifest)
    if used:
        _clear(settings, stores)
    written: list[Path] = []
    try:
        size = _write(src, manifest, stores, progress, written)
        entries = _check_restored(settings, lake, stores, manifest)
    except BaseException:  # a half-restored home would pass for a whole one: remove what was written
        for path in written:
            _remove(path)
        raise
    return Restored(manifest, len(written), size, entries)


def _clear(settings: Settings, stores: HomeStores) -> None:
    """Remove the stores a forced restore replaces, and what was derived from them (search index, dbt state:
    a build state of the replaced lake would make the next build skip work the restored lake needs)."""
    for db in (stores.metadata, stores.catalog):
        _remove(db)
    for folder in (stores.data, settings.search_index_dir, settings.home / "dbt" / "state",
                   settings.home / "dbt" / "state-pending"):
        shutil.rmtree(folder, ignore_errors=True)


def _remove(path: Path) -> None:
    """Remove a file, and its SQLite companions if it is a database."""
    for each in (path, *(path.with_name(path.name + side) for side in _SQLITE_SIDES)):
        each.unlink(missing_ok=True)


def _write(src: Path, manifest: dict[str, Any], stores: HomeStores, progress: Progress | None,
           written: list[Path]) -> int:
    """Copy every file to its store (appending each to `written`), checking each copy's sha256 again."""
    files = manifest["files"]
    targets = {METADATA: stores.metadata, CATALOG: stores.catalog}
    total, done = sum(int(f["bytes"]) for f in files.values()), 0
    # Data files first and the metadata last but one: a lake whose metadata is there has all its files.
    for name in sorted(files, key=lambda n: (n == CATALOG, n == METADATA, n)):
        target = targets.get(name) or stores.data / name.removeprefix(f"{DATA}/")
        written.append(target)
        if copy_file(src / name, target, done, total, progress) != files[name]["sha256"]:
            raise BackupError(f"{src / name}: changed while it was being restored; nothing was restored")
        done += int(files[name]["bytes"])
    stores.data.mkdir(parents=True, exist_ok=True)  # a lake whose rows are all inlined has no data file
    return done


def _check_restored(settings: Settings, lake: Lake, stores: HomeStores, manifest: dict[str, Any]) -> int:
    """The restored home reads back as the manifest says: shared row counts, audit head, a chain that verifies."""
    rows = shared_rows(lake, stores.metadata, stores.data)
    if rows != manifest.get("shared_rows"):
        differ = sorted(k for k in {*rows, *manifest.get("shared_rows", {})}
                        if rows.get(k) != manifest["shared_rows"].get(k))
        raise BackupError(f"restored lake {stores.metadata}: shared row counts differ from the manifest's for "
                          f"{', '.join(differ)}")
    expected = manifest.get("audit")
    if expected is None:
        return 0
    if audit_head(stores.catalog) != expected:
        raise BackupError(f"restored catalog {stores.catalog}: the audit log's head is not the manifest's")
    engine = make_engine(settings.catalog_url)
    try:
        count, broken = AuditLog(engine).verify()
    finally:
        engine.dispose()
    if broken:
        raise BackupError(f"restored catalog {stores.catalog}: the audit chain does not verify: {broken}")
    return count
