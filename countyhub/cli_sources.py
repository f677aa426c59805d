"""`countyhub sources …`: validate department files, test connections, list streams."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from countyhub.cli_common import ConfigOpt, console, fail
from countyhub.settings import load_settings

sources_app = typer.Typer(help="Department sources: validate files, test connections, list streams.", no_args_is_help=True)



@sources_app.command("validate")
def sources_validate(config: ConfigOpt = None) -> None:
    """Validate every departments/<code>.yml; errors name the file, the line and the field."""
    from countyhub.departments import DepartmentFileError, load_departments

    try:
        departments = load_departments(load_settings(config).departments_dir)
    except DepartmentFileError as exc:
        fail(str(exc))
    for d in departments:
        streams = sum(len(s.streams) for s in d.sources)
        console.print(f"[green]ok[/green] {d.path}: {d.code} {d.name} — {len(d.sources)} sources, {streams} streams")


@sources_app.command("test")
def sources_test(
    department: Annotated[str, typer.Argument(help="Department code, e.g. gaj.")],
    config: ConfigOpt = None,
) -> None:
    """Check each source of a department is reachable and list its streams with row counts and keys."""
    from countyhub.departments import load_department
    from countyhub.ingest import connector_for

    settings = load_settings(config)
    dept = load_department(settings.departments_dir / f"{department}.yml")
    table = Table("source", "stream", "columns", "rows", "primary key")
    for source in dept.sources:
        connector = connector_for(settings, dept, source)
        connector.check()
        for found in connector.discover(source.streams):
            table.add_row(source.name, found.name, str(len(found.schema)),
                          "" if found.row_count is None else str(found.row_count), ", ".join(found.primary_key))
    console.print(table)
