"""The `countyhub` command line: demo, run, load, build, sources, catalog search, serve, backup and restore; --debug
for tracebacks."""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Column, Table

from countyhub.cli.common import ConfigOpt, console, fail, runtime
from countyhub.cli.errors import CountyhubGroup
from countyhub.core import faultpoints
from countyhub.core.settings import Settings

if TYPE_CHECKING:
    from countyhub.catalog.search import SearchResult
    from countyhub.flow.run import DatasetOutcome, FlowReport
    from countyhub.flow.runtime import Runtime

app = typer.Typer(
    help="countyhub — the county's shared data platform.\n\n"
    "Department systems -> raw zone -> dbt (audit) -> contract gate -> shared zone -> catalog.\n"
    "Start with `countyhub demo` to see the whole flow on a generated county.\n\n"
    "An error ends a command in one `error: …` line; `countyhub --debug <command>` (or COUNTYHUB_DEBUG=1) "
    "shows its full traceback.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    cls=CountyhubGroup,  # every command's errors end in one line there (countyhub/cli/errors.py)
    # A traceback that still escapes must not print local variables: they can hold secrets and residents' data.
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", envvar="COUNTYHUB_DEBUG",
                                        help="On an error, show the full traceback (also COUNTYHUB_DEBUG=1).")] = False,
) -> None:
    # Nothing to do here: CountyhubGroup reads --debug from the root context when a command fails.
    pass


@app.command()
def demo(
    scale: Annotated[str, typer.Option(help="demo: 5,000 residents, the quick default; county: Dazhu's real size "
                                            "(~1M residents, 2,087 grids, 109,053 facilities, ~300k cases).")] = "demo",
    next_day: Annotated[bool, typer.Option("--next-day", help="Advance the generated county by one simulated day "
                                           "(~1 % of rows new, changed or deleted) instead of generating it again.")]
    = False,
    persons: Annotated[int | None, typer.Option(help="Residents in the household registry (default: the scale's).")]
    = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the catalog page afterwards until Ctrl-C.")] = True,
    port: Annotated[int | None, typer.Option(help="Catalog port (default from config: 8080).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Seed the demo county (Dazhu, 511724), run the whole flow once, print a summary and serve the catalog.

    Running it again regenerates the same sources (fixed seed) and duplicates nothing: nothing changed, so nothing
    is rebuilt or republished. `--next-day` moves every department's system one day on and runs the flow over what
    changed. When a department failed to load or a gate failed, the catalog is still served (the rest of the county
    is there) and the command exits 2 when the server stops; with --no-serve it exits 2 right after the summary.
    """
    from countyhub.cli.demo import NoDemoCounty, run_demo
    from countyhub.demo import SCALES

    if scale not in SCALES:
        fail(f"--scale {scale}: not a scale; use one of {', '.join(SCALES)}")
    if next_day and persons is not None:
        fail("--next-day advances the county already generated: --persons applies only when generating one")
    rt = runtime(config)
    if serve:  # find out now, not after the whole flow has run
        _check_port(rt.settings, port)
    try:
        report = run_demo(rt, persons=persons, console=console, scale=scale, next_day=next_day)
    except NoDemoCounty as exc:
        fail(str(exc))
    print_summary(report)
    if serve:
        _serve(rt, port)
    if not report.ok:
        raise typer.Exit(2)


@app.command()
def run(config: ConfigOpt = None) -> None:
    """Run the whole flow once over every department file: ingest, build, gate, publish, catalog."""
    from countyhub.cli.progress import load_progress
    from countyhub.flow.run import run_flow

    rt = runtime(config)
    with load_progress(console) as progress:
        report = run_flow(rt, progress)
    print_summary(report)
    if not report.ok:
        raise typer.Exit(2)


@app.command()
def load(
    department: Annotated[str, typer.Argument(help="Department code, e.g. gaj (departments/<code>.yml).")],
    stream: Annotated[str | None, typer.Option(help="Only this stream.")] = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Ignore saved state (cursor, files seen) and reload everything.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Load one department's streams into its raw zone (raw_<department>) with a progress bar (rows, rows/s, ETA).

    Streams with a cursor load only what changed since the last committed load; others are
    diffed by key (snapshot) or by file checksum (drop folders). Bad rows go to quarantine.
    """
    from countyhub.cli.progress import load_progress
    from countyhub.connectors import ConnectorError
    from countyhub.core.departments import DepartmentFileError, load_department
    from countyhub.flow.ingest import ingest_department
    from countyhub.lakehouse.drift import SchemaDriftError

    rt = runtime(config)
    path = rt.settings.departments_dir / f"{department}.yml"
    if not path.exists():
        fail(f"no department file {path}")
    try:
        with load_progress(console) as progress:
            results = ingest_department(rt, load_department(path), stream, progress, full_refresh=full_refresh)
    except (ConnectorError, SchemaDriftError, DepartmentFileError, KeyError) as exc:
        fail(str(exc).strip("'\""))
    for r in results:
        console.print(f"{r.table}: {r.mode}, read {r.rows_read:,} = loaded {r.rows_loaded:,} + quarantined "
                      f"{r.rows_quarantined:,} (+{r.rows_inserted:,} ~{r.rows_updated:,} -{r.rows_deleted:,}) "
                      f"in {r.seconds:.2f}s (load {r.load_id})")
        console.print(f"  time: {r.timing()}", style="dim")
        if r.rows_quarantined:
            known = f" ({r.rows_quarantined_before:,} already there from an earlier load)" if r.rows_quarantined_before else ""
            console.print(f"  quarantined rows: lake.quarantine.{r.department}__{r.stream}{known}")
        if r.rows_skipped:
            console.print(f"  {r.rows_skipped:,} lines kept out of the data (title, notes, footer): lake.meta.skipped_lines")
        for change in r.schema_changes:
            console.print(f"  schema change: {change}")


@app.command()
def build(config: ConfigOpt = None) -> None:
    """Build the dbt models into audit, gate each contract, publish what passed, update the catalog."""
    from countyhub.flow.run import FlowReport, build_gate_publish

    report = FlowReport(datasets=build_gate_publish(runtime(config)))
    print_summary(report)
    if not report.ok:
        raise typer.Exit(2)


@app.command()
def serve(
    port: Annotated[int | None, typer.Option(help="Port (default from config: 8080).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Serve the catalog web page and API (http://127.0.0.1:8080)."""
    _serve(runtime(config), port)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words in Chinese or English, pinyin (huji, hj), words staff use "
                                              "(营业执照, 低保, 社保), or a dataset name; '' browses.")],
    department: Annotated[str | None, typer.Option(help="Only this department code, e.g. gaj.")] = None,
    kind: Annotated[str | None, typer.Option(help="published | model | raw_stream")] = None,
    zone: Annotated[str | None, typer.Option(help="shared | raw | staging | intermediate | audit (audit is left "
                                                  "out unless asked for)")] = None,
    sharing_type: Annotated[str | None, typer.Option(help="unconditional | conditional | not_shared")] = None,
    sort: Annotated[str, typer.Option(help="relevance | freshness")] = "relevance",
    limit: int = 10,
    config: ConfigOpt = None,
) -> None:
    """Search the catalog, e.g. `countyhub search 户籍`, `countyhub search 营业执照`, `countyhub search hj --kind
    raw_stream`. Words of the county's vocabulary (search_vocabulary.yml) find their synonyms too."""
    facets = {k: v for k, v in {"department": department, "kind": kind, "zone": zone,
                                "sharing_type": sharing_type}.items() if v}
    result = runtime(config).catalog.query(query, facets, sort=sort, rows=limit, facet_fields=())
    if not result.hits:
        console.print(f"nothing found for {query!r}")
        for hint in no_result_hints(result):
            console.print(hint)
        return
    # On a narrow terminal names and titles fold onto more lines rather than end in "…": the name is what
    # the user copies into `countyhub show` or SQL.
    table = Table(Column("dataset", overflow="fold"), Column("title", overflow="fold"),
                  *(Column(c, no_wrap=True) for c in ("department", "sharing", "kind")))
    for hit in result.hits:
        table.add_row(hit["name"], f"{hit['title_zh']} ({hit['title_en']})", hit.get("department", ""),
                      hit.get("sharing_type", ""), hit.get("kind", ""))
    console.print(table)


def no_result_hints(result: SearchResult) -> list[str]:
    """'did you mean' lines, and where the hits are when the filters (or the hidden audit zone) left them out."""
    lines = []
    if result.suggestions:
        tried = ", ".join(f"{escape(s['q'])} ({s['total']})" for s in result.suggestions)
        lines.append(f"did you mean: {tried}")
    for facet, counts in result.elsewhere.items():
        shown = ", ".join(f"--{facet.replace('_', '-')} {escape(v)} ({n})" for v, n in counts.most_common(5))
        lines.append(f"found with another {facet.replace('_', ' ')}: {shown}")
    return lines


@app.command()
def show(
    dataset: Annotated[str, typer.Argument(help="Dataset name, e.g. shared.resident_profile.")],
    impact: Annotated[str | None, typer.Option(help="Instead: what breaks downstream if this column changes.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Show a dataset: owner, sharing type, schema, freshness, latest gate result, published version."""
    catalog = runtime(config).catalog
    entry = catalog.get(dataset)
    if entry is None:
        fail(f"no dataset {dataset!r} in the catalog (try `countyhub search`)")
    console.print_json(data=catalog.impact(dataset, impact) if impact else entry, default=str)


def print_summary(report: FlowReport) -> None:
    """One line per raw stream (load mode, rows read, +inserted ~updated -deleted, rows now) and per shared
    dataset (rebuilt or not, rows added and removed, rows served, contract result, version); why a gate failed is
    printed under the table."""
    # Numbers and verdicts never shrink into "…" on a narrow terminal; the load column wraps instead.
    table = Table(Column("dataset", no_wrap=True), Column("load / build", overflow="fold"),
                  Column("rows", justify="right", no_wrap=True, min_width=6),
                  Column("contract", no_wrap=True, min_width=6), Column("version", no_wrap=True, min_width=9),
                  title="countyhub run summary",
                  caption="load: mode: rows read, +inserted ~updated -deleted; build: rebuilt or not, rows +added "
                          "-removed against the version served before; rows: in the table now")
    for load in report.loads:
        changes = f"{load.mode}: {load.rows_read}, +{load.rows_inserted} ~{load.rows_updated} -{load.rows_deleted}"
        if load.rows_quarantined:
            changes += f" ({load.rows_quarantined} quarantined)"
        if load.rows_skipped:
            changes += f" ({load.rows_skipped} title/footer lines kept out)"
        rows = report.raw_rows.get(load.table)
        table.add_row(load.table.removeprefix("lake."), changes, "—" if rows is None else str(rows), "—", "—")
    for d in report.datasets:
        table.add_row(d.dataset, _build_text(d), "—" if d.rows is None else str(d.rows), _VERDICTS.get(
            d.status, "[green]passed[/green]" if d.gate_passed else "[red]failed[/red]"), _version_text(d))
    console.print(table)
    for f in report.failures:
        console.print(f"[red]department {f.department} failed to load:[/red] {escape(f.cause)}", soft_wrap=True)
    for d in report.datasets:
        if d.status == "skipped":
            console.print(f"[yellow]{d.dataset}[/yellow] {escape(d.reason)}", soft_wrap=True)
        elif not d.gate_passed:
            console.print(f"[red]{d.dataset}[/red] gate failed: {d.reason}")


_VERDICTS = {"skipped": "[yellow]skipped[/yellow]", "unchanged": "not gated"}


def _build_text(d: DatasetOutcome) -> str:
    text = "rebuilt" if d.rebuilt else "not rebuilt"
    if d.status == "unchanged":
        return f"{text}, rows unchanged"
    if d.rows_added is not None and d.rows_removed is not None:
        return f"{text}, rows +{d.rows_added} -{d.rows_removed}"
    return text


def _version_text(d: DatasetOutcome) -> str:
    if d.published_version is None:
        return "—"
    return f"v{d.published_version}" + ("" if d.published_now else " (kept)")


def _check_port(settings: Settings, port: int | None) -> int:
    """The port to serve on, or a clear error when something already listens there."""
    port = port or settings.catalog_port
    with socket.socket() as probe:
        try:
            probe.bind((settings.catalog_host, port))
        except OSError as exc:
            fail(f"cannot serve the catalog on {settings.catalog_host}:{port}: {exc.strerror} (another `countyhub "
                 f"serve`?); stop it, or pass --port N (or set COUNTYHUB_CATALOG_PORT)")
    return port


def _serve(rt: Runtime, port: int | None) -> None:
    from countyhub.catalog.serve import serve as serve_catalog
    from countyhub.cli.web import build_app

    settings = rt.settings
    port = _check_port(settings, port)
    web = build_app(rt)  # the runtime's catalog and sharing, the deployment's session key
    console.print(f"catalog: http://{settings.catalog_host}:{port}  (Ctrl-C to stop; sign in with a token from "
                  "`countyhub users add`)")
    try:
        serve_catalog(web, settings.catalog_host, port)
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it shut down on: for a server that is the way to stop
        console.print("catalog stopped")


def _register_subcommands() -> None:
    # Sub-apps live in their own modules so each stage's commands stay next to each other.
    from countyhub.cli.backup import backup_command, restore_command
    from countyhub.cli.contracts import contracts_app, publish_app, quality_app
    from countyhub.cli.dags import dags_app
    from countyhub.cli.lake import lake_app
    from countyhub.cli.query import query_command
    from countyhub.cli.services import services_app
    from countyhub.cli.sharing import audit_app, grants_app, users_app
    from countyhub.cli.sources import sources_app

    app.add_typer(sources_app, name="sources")
    app.add_typer(contracts_app, name="contracts")
    app.add_typer(publish_app, name="publish")
    app.add_typer(quality_app, name="quality")
    app.add_typer(users_app, name="users")
    app.add_typer(grants_app, name="grants")
    app.add_typer(audit_app, name="audit")
    app.add_typer(services_app, name="services")
    app.add_typer(dags_app, name="dags")
    app.add_typer(lake_app, name="lake")
    app.command("query")(query_command)
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)


_register_subcommands()


def main() -> None:
    """The `countyhub` command. An expected error (a bad file, an unreachable source, a lake that cannot be opened…)
    ends in one `error: …` line and a non-zero exit, an interrupt in exit 130; --debug adds the traceback."""
    # Fault tests (tests/faults) name a point to die at; the edge reads the switch so the stages never do.
    faultpoints.arm(os.environ.get(faultpoints.ENV, ""))
    app()


if __name__ == "__main__":
    main()
