"""`countyhub services list|stats`: the declared data services and who called them how often, how fast."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Column, Table

from countyhub.cli.common import ConfigOpt, console, fail, runtime
from countyhub.cli.sharing import TokenOpt, _caller, _sharing

services_app = typer.Typer(help="Data services: what each answers, and its usage per caller per day.",
                           no_args_is_help=True)


@services_app.command("list")
def services_list(config: ConfigOpt = None) -> None:
    """Every service declared in contracts/<department>/<dataset>.services.yaml, with an example call."""
    from countyhub.catalog.api_services import example_call

    rt = runtime(config)
    declared = rt.sharing.services.all()
    table = Table("service", Column("dataset", overflow="fold"), "kind", Column("title", overflow="fold"), "owner",
                  "sharing", Column("parameters", overflow="fold"))
    for s in declared:
        entry = rt.catalog.get_entry(s.dataset)
        owner, sharing = (entry["department_code"], entry["sharing_type"]) if entry else ("—", "not published yet")
        table.add_row(s.name, s.dataset, s.kind, f"{s.title_zh} / {s.title_en}", owner, sharing,
                      ", ".join(f"{p.name} ({p.type}{', ' + p.role if p.role != 'key' else ''})" for p in s.params))
    console.print(table if declared else "no data services declared (contracts/<department>/<dataset>.services.yaml)")
    for s in declared:
        console.print(f"[dim]{escape(example_call(s))}[/dim]", soft_wrap=True)


@services_app.command("stats")
def services_stats(
    day: Annotated[str | None, typer.Option(help="UTC day, YYYY-MM-DD (default: today).")] = None,
    token: TokenOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Calls per service per caller on one day: calls, errors (refusals), p95 latency. An admin sees every call;
    a steward the calls on its department's datasets and its department's own; others their department's."""
    from countyhub.catalog.api_services import visible_usage

    try:
        wanted = datetime.strptime(day, "%Y-%m-%d").date() if day else datetime.now(UTC).date()
    except ValueError:
        fail(f"--day {escape(day or '')!r}: write it as YYYY-MM-DD")
    with _sharing(config) as rt:
        rows = visible_usage(rt.sharing, rt.catalog, _caller(rt, token), wanted)
    table = Table(Column("dataset", overflow="fold"), "service", "caller", "calls", "errors", "p95 ms")
    for r in rows:
        p95 = "—" if r["p95_ms"] is None else f"{r['p95_ms']:.1f}"
        table.add_row(r["dataset"], r["service"], f"{escape(r['caller'])} ({r['department'] or '—'})",
                      str(r["calls"]), str(r["errors"]), p95)
    console.print(table if rows else f"no service calls on {wanted} that you may see")
