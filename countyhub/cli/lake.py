"""`countyhub lake init|verify`: create the lake before its writers start; check every Parquet file it reads."""

from __future__ import annotations

import typer
from rich.markup import escape

from countyhub.cli.common import ConfigOpt, console, fail, runtime

lake_app = typer.Typer(help="The lake's own files.", no_args_is_help=True)


@lake_app.command("init")
def init(config: ConfigOpt = None) -> None:
    """Create the lake's catalog, zone schemas and meta tables now (idempotent).

    Run it once before starting several writers on DuckLake over PostgreSQL (docker-compose.yml's airflow-init
    does): writers that all find an empty catalog at once race to create it.
    """
    lake = runtime(config).lake
    with lake.writer(shared=False):
        pass
    console.print(f"lake ready: catalog {escape(lake.where())}, data {escape(lake.settings.lake_data)}", soft_wrap=True)


@lake_app.command("verify")
def verify(config: ConfigOpt = None) -> None:
    """Check each live data file against its size in the lake's catalog and its recorded sha256; name each damaged
    one and exit 1. Files no `countyhub run` has recorded yet are counted, not judged."""
    from countyhub.lakehouse.file_checksums import verify_files

    check = verify_files(runtime(config).lake)
    for line in check.damaged:
        console.print(f"damaged: {escape(line)}", soft_wrap=True)
    later = f"; {check.unrecorded} not recorded yet (the next run records them)" if check.unrecorded else ""
    if check.damaged:
        fail(f"{len(check.damaged)} of {check.checked} lake files damaged{later}: restore them from a backup")
    console.print(f"{check.checked} lake files checked: all present and unchanged{later}")
