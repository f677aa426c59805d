"""`countyhub contracts check|lint`, `countyhub publish rollback`, `countyhub quality report` sub-commands."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from countyhub.cli.common import ConfigOpt, console, fail, operator, runtime

contracts_app = typer.Typer(help="Data contracts (ODCS v3): lint them, check changes against the published ones.",
                            no_args_is_help=True)
publish_app = typer.Typer(help="Published versions of shared datasets.", no_args_is_help=True)
quality_app = typer.Typer(help="Quality reports from the stored gate runs.", no_args_is_help=True)


@contracts_app.command("check")
def check(
    against: Annotated[Path | None, typer.Option(help="A folder of earlier contracts (<dept>/<dataset>.odcs.yaml) "
                                                      "instead of the ones stored with each publication.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Fail on a breaking change (column removed, type narrowed, required added) unless the major version went up."""
    from countyhub.contracts.compat import check as compat_check
    from countyhub.contracts.odcs import ContractError, load_contract, load_contracts
    from countyhub.contracts.publish import published_contract_yaml

    rt = runtime(config)
    settings = rt.settings
    try:
        edited = load_contracts(settings.contracts_dir)
    except ContractError as exc:
        fail(str(exc))
    table, broken = Table("dataset", "published", "edited", "result"), 0
    for contract in edited:
        if against is not None:
            path = against / contract.path.parent.name / contract.path.name
            text = path.read_text(encoding="utf-8") if path.exists() else None
        else:
            text = published_contract_yaml(rt.lake, contract.dataset)
        if text is None:
            table.add_row(contract.dataset, "—", contract.version, "new: nothing to compare")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            old_path = Path(tmp) / contract.path.name
            old_path.write_text(text, encoding="utf-8")
            published = load_contract(old_path)
        ok, changes = compat_check(published, contract)
        broken += not ok
        verdict = "compatible" if not changes else ("[green]breaking, major version raised[/green]" if ok
                                                     else "[red]BREAKING[/red]: ")
        table.add_row(contract.dataset, published.version, contract.version,
                      verdict + ("" if ok else "; ".join(map(str, changes)) + " — raise the major version"))
    console.print(table)
    if broken:
        raise typer.Exit(1)


@contracts_app.command("lint")
def lint(
    install: Annotated[bool, typer.Option("--install/--no-install", help="Install datacontract-cli into "
                                          ".countyhub-tools/ if missing.")] = True,
    config: ConfigOpt = None,
) -> None:
    """Validate every contract with countyhub's own checks and with `datacontract lint` (datacontract-cli)."""
    from countyhub.contracts import datacontract_tool
    from countyhub.contracts.odcs import ContractError, load_contract

    settings, failed = runtime(config).settings, 0
    for path in sorted(settings.contracts_dir.glob("*/*.odcs.yaml")):
        try:
            load_contract(path)
            ours = "ok"
        except ContractError as exc:
            ours, failed = f"[red]{exc}[/red]", failed + 1
        passed, output = datacontract_tool.lint(path, settings.tools_dir, install=install)
        failed += not passed
        console.print(f"{path.relative_to(settings.contracts_dir)}: countyhub {ours}; datacontract lint "
                      + ("ok" if passed else f"[red]failed[/red]\n{output}"))
    if failed:
        raise typer.Exit(1)


@publish_app.command("rollback")
def rollback_cmd(
    dataset: Annotated[str, typer.Argument(help="Dataset name, e.g. resident_profile (or shared.resident_profile).")],
    to: Annotated[int, typer.Option("--to", help="The published version to serve again.")],
    config: ConfigOpt = None,
) -> None:
    """Serve an earlier published version again (recorded as a new version that restores it)."""
    from countyhub.contracts.publish import PublishError, rollback
    from countyhub.flow.publish_audit import PLATFORM, recorder

    rt, name = runtime(config), dataset.removeprefix("shared.")
    try:
        pub = rollback(rt.lake, name, to, recorder(rt.sharing.audit, operator(), PLATFORM, rollback_to=to))
    except PublishError as exc:
        fail(str(exc))
    rt.catalog.record_publication(f"shared.{name}", pub.version, pub.snapshot_id, pub.rows, pub.published_at)
    console.print(f"shared.{name}: now v{pub.version} = v{to} ({pub.rows:,} rows, snapshot {pub.snapshot_id})")


@quality_app.command("report")
def report_cmd(
    department: Annotated[str | None, typer.Option(help="Only this department's datasets, e.g. dsj.")] = None,
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Only gate runs from this date.")] = None,
    html: Annotated[Path | None, typer.Option(help="Also write the report as an HTML page here.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Latest gate result per dataset (failing first), pass-rate history, and the county-wide summary."""
    from countyhub.contracts.quality_report import county_summary, report, to_html

    day: date | None = since.date() if since else None
    rows = report(runtime(config).lake, department, day)
    table = Table("department", "dataset", "status", "pass rate", "failing rules", "last run", "runs", "version",
                  title="countyhub quality report")
    for q in rows:
        colour = {"failed": "red", "warn": "yellow", "quarantined": "yellow"}.get(q.status, "green")
        table.add_row(q.department, q.dataset, f"[{colour}]{q.status}[/{colour}]", f"{q.pass_rate:.0%}",
                      ", ".join(q.failing_rules), f"{q.last_run:%Y-%m-%d %H:%M}", str(q.runs),
                      "—" if q.published_version is None else f"v{q.published_version}")
    console.print(table if rows else "no gate runs stored yet (run `countyhub build`)")
    console.print("county-wide: " + ", ".join(f"{k} {v}" for k, v in county_summary(rows).items()))
    if html is not None:
        html.write_text(to_html(rows), encoding="utf-8")
        console.print(f"written {html}")


@quality_app.command("freshness")
def freshness_cmd(config: ConfigOpt = None) -> None:
    """Each shared dataset with a latency SLA in its contract: how old the department loads it is built from are;
    exit 1 if one is stale (Airflow's county_freshness DAG runs the same check every hour)."""
    from countyhub.flow.freshness import check_freshness

    found = check_freshness(runtime(config), datetime.now(UTC))
    table = Table("dataset", "SLA", "sources as of", "status", "why", title="countyhub freshness")
    for f in found:
        table.add_row(f.dataset, str(f.sla), f"{f.as_of:%Y-%m-%d %H:%M} UTC" if f.as_of else "—",
                      "[red]stale[/red]" if f.stale else "[green]fresh[/green]", f.reason)
    console.print(table if found else "no contract declares a latency SLA")
    if stale := [f.dataset for f in found if f.stale]:
        fail(f"{len(stale)} dataset{'s' if len(stale) > 1 else ''} past their SLA: {', '.join(stale)}")
