"""DuckDB extensions from the duckdb-extension-* wheels: laid out for offline LOAD, checked once against pip's record."""

from __future__ import annotations

import base64
import importlib.metadata
import json
import os
from pathlib import Path

import duckdb

from countyhub.core.checksums import file_checksum

EXTENSIONS = ("ducklake", "sqlite_scanner", "postgres_scanner", "mysql_scanner", "fts", "json", "httpfs")
STAMP = ".verified.json"


class ExtensionError(RuntimeError):
    """An extension binary on disk is not the one pip installed."""


def _wheel_file(name: str) -> tuple[Path, str, str]:
    """The extension binary of duckdb-extension-<name>, its distribution and the sha256 pip recorded for it."""
    dist = importlib.metadata.distribution(f"duckdb-extension-{name.replace('_', '-')}")
    entry = next(f for f in dist.files or [] if str(f).endswith(f"/{name}.duckdb_extension"))
    if entry.hash is None or entry.hash.mode != "sha256":
        raise ExtensionError(f"{dist.metadata['Name']}: its RECORD has no sha256 for {entry}; reinstall it with pip")
    return Path(entry.locate()).resolve(), dist.metadata["Name"], entry.hash.value


def _sha256(path: Path) -> str:
    """The file's sha256 written as pip's RECORD writes it (urlsafe base64, no padding)."""
    return base64.urlsafe_b64encode(bytes.fromhex(file_checksum(path))).rstrip(b"=").decode()


def _verify(folder: Path, files: list[tuple[Path, str, str]]) -> None:
    """Compare each binary with pip's recorded hash, unless it is unchanged since the last check (size, mtime, inode).

    DuckDB's own signature check reads and verifies every extension on every connection (about 0.1 s
    each, three or four per load); checking the installed bytes once per install gives the same
    assurance that the binary is the one pip verified against the wheel.
    """
    stamp = folder / STAMP
    try:
        known = json.loads(stamp.read_text())
    except (OSError, ValueError):
        known = {}
    changed = False
    for path, dist, expected in files:
        st = path.stat()
        seen = [st.st_size, st.st_mtime_ns, st.st_ino, expected]
        if known.get(str(path)) == seen:
            continue
        if _sha256(path) != expected:
            raise ExtensionError(f"{path}: the file differs from what pip installed for {dist}; reinstall it with "
                                 f"`pip install --force-reinstall {dist}=={duckdb.__version__}`")
        known[str(path)] = seen
        changed = True
    if changed:
        partial = stamp.with_suffix(f".{os.getpid()}")
        partial.write_text(json.dumps(known, indent=1))
        partial.replace(stamp)


def prepare_extensions(target: Path) -> Path:
    """Lay the extension binaries shipped in duckdb-extension-* wheels out as DuckDB expects, checked.

    `INSTALL x` downloads from the internet, which a county network often blocks; pointing
    `extension_directory` at this folder lets `LOAD x` and autoloading work offline.
    """
    platform = duckdb.execute("PRAGMA platform").fetchone()[0]
    folder = target / f"v{duckdb.__version__}" / platform
    folder.mkdir(parents=True, exist_ok=True)
    files = [_wheel_file(name) for name in EXTENSIONS]
    for src, _, _ in files:
        dst = folder / src.name
        if not dst.exists() or dst.resolve() != src:
            # Made beside it and renamed over it: two processes preparing one home at once must both succeed.
            link = dst.with_name(f".{dst.name}.{os.getpid()}")
            link.unlink(missing_ok=True)
            link.symlink_to(src)
            link.replace(dst)
    _verify(folder, files)
    return target


def extension_config(target: Path) -> dict[str, str | bool]:
    """DuckDB config that loads the checked extensions from `target`, offline, without re-verifying each time."""
    return {"extension_directory": str(prepare_extensions(target)), "autoinstall_known_extensions": False,
            # Only binaries checked above sit in this folder; see _verify for why DuckDB's check is skipped.
            "allow_unsigned_extensions": True}
