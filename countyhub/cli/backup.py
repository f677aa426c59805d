"""`countyhub backup DEST` and `countyhub restore SRC`: the whole home (lake, catalog, users, grants, audit log)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from countyhub.cli.common import ConfigOpt, console
from countyhub.cli.progress import copy_progress
from countyhub.core.settings import load_settings
from countyhub.lakehouse import Lake


def backup_command(
    dest: Annotated[Path, typer.Argument(help="A new (or empty) folder to write the backup into.")],
    config: ConfigOpt = None,
) -> None:
    """Back up this home into DEST: the lake (DuckLake metadata and every Parquet file it names), the catalog,
    users, grants and the audit log, as one state that existed, with a manifest.json of checksums.

    Safe while the flow runs: the lake's writer lock is held for the moment both databases are copied (SQLite's
    online backup), so a load, publish, grant or audit append is in the backup whole or not at all. Supports the
    embedded default (SQLite lake metadata, local lake data, SQLite catalog); other homes are refused with a
    message saying what to use instead. Restore with `countyhub restore DEST --home NEW_HOME`.

    Example: countyhub backup /backups/countyhub-2025-03-03
    """
    from countyhub.flow.backup import backup_home

    lake = Lake(load_settings(config))
    with copy_progress(console, "copying lake files") as copied:
        manifest = backup_home(lake, dest, copied)
    audit = manifest["audit"] or {}
    console.print(f"backup written to {dest}: lake snapshot {manifest['lake']['snapshot_id']}, "
                  f"{len(manifest['files'])} files, {sum(f['bytes'] for f in manifest['files'].values()):,} bytes, "
                  f"{len(manifest['shared_rows'])} shared tables, {audit.get('entries', 0)} audit entries",
                  soft_wrap=True)


def restore_command(
    src: Annotated[Path, typer.Argument(help="A folder `countyhub backup` wrote (it holds manifest.json).")],
    home: Annotated[Path | None, typer.Option(help="The home to restore into (default: COUNTYHUB_HOME or the "
                                                   "config's). It must be new or empty unless --force.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the lake and catalog of a home that has them "
                                                        "(its search index and dbt build state are removed too).")]
    = False,
    config: ConfigOpt = None,
) -> None:
    """Restore a backup into a home. Every file's sha256 is checked against the manifest before anything is
    written; a file that does not match is named and nothing is restored. Afterwards the restored lake's shared row
    counts and the audit chain (from its first entry to the same head) are checked against the manifest.

    The next `countyhub build` after a restore rebuilds everything (the dbt build state is not in a backup).
    Users keep their tokens; web sessions end (the session key is not in a backup).

    Example: countyhub restore /backups/countyhub-2025-03-03 --home /srv/countyhub-restored
    """
    from countyhub.flow.restore import restore_home

    environ = dict(os.environ)  # the CLI is an edge: it may read the environment
    if home is not None:
        environ["COUNTYHUB_HOME"] = str(home.resolve())
    settings = load_settings(config, environ)
    with copy_progress(console, "restoring files") as copied:
        restored = restore_home(src, settings, Lake(settings), force=force, progress=copied)
    manifest = restored.manifest
    console.print(f"restored {src} into {settings.home}: lake snapshot {manifest['lake']['snapshot_id']}, "
                  f"{restored.files} files, {restored.bytes:,} bytes; shared row counts as in the manifest; "
                  f"audit log: {restored.audit_entries} entries, chain intact", soft_wrap=True)
