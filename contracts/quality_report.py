"""Quality reports for governance staff from the stored gate runs: per dataset, per department, county-wide."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from countyhub.lakehouse import meta_gates
from countyhub.lakehouse.lake import Lake

_ORDER = {"failed": 0, "warn": 1, "quarantined": 2, "passed": 3}


@dataclass
class DatasetQuality:
    dataset: str
    department: str
    status: str  # of the latest run: passed, warn, quarantined, failed
    pass_rate: float  # share of rules that passed in the latest run
    last_run: datetime
    runs: int
    failing_rules: list[str]
    published_version: int | None
    data_docs: str | None
    history: list[float] = field(default_factory=list)  # pass rate per run, oldest first


def report(lake: Lake, department: str | None = None, since: date | None = None) -> list[DatasetQuality]:
    """Latest gate run per dataset with its pass-rate history; failing datasets first, then by name."""
    with lake.reader() as con:
        runs = meta_gates.gate_runs(con, department, since)
        failing = meta_gates.failing_rules(con) if runs else {}
        latest = {d: meta_gates.publications(con, d) for d in {r.dataset for r in runs}}
    out: dict[str, DatasetQuality] = {}
    for run in runs:
        rate = run.rules_passed / run.rules if run.rules else 1.0
        history = [*out[run.dataset].history, rate] if run.dataset in out else [rate]
        version = latest[run.dataset][0].version if latest[run.dataset] else None
        out[run.dataset] = DatasetQuality(run.dataset, run.department, run.status, rate, run.started_at,
                                          len(history), failing.get(run.run_id, []), version, run.data_docs, history)
    return sorted(out.values(), key=lambda q: (_ORDER.get(q.status, 0), q.department, q.dataset))


def county_summary(rows: list[DatasetQuality]) -> dict[str, float | int]:
    """County-wide: datasets, how many of each status, mean pass rate of the latest runs."""
    summary: dict[str, float | int] = {"datasets": len(rows)}
    for status in _ORDER:
        summary[status] = sum(r.status == status for r in rows)
    summary["pass_rate"] = round(sum(r.pass_rate for r in rows) / len(rows), 4) if rows else 1.0
    return summary


def by_department(rows: list[DatasetQuality]) -> dict[str, list[DatasetQuality]]:
    """Each department's datasets, failing ones first (rows are already in that order)."""
    out: dict[str, list[DatasetQuality]] = {}
    for row in rows:
        out.setdefault(row.department, []).append(row)
    return out


def _bars(history: list[float]) -> str:
    """An inline SVG bar chart of pass rates (no script, no external assets)."""
    bars = "".join(f'<rect x="{i * 6}" y="{20 - 20 * r:.1f}" width="5" height="{20 * r:.1f}" '
                   f'fill="{"#2a7" if r == 1 else "#d63"}"/>' for i, r in enumerate(history[-40:]))
    return f'<svg width="{6 * min(len(history), 40)}" height="20">{bars}</svg>'


def to_html(rows: list[DatasetQuality], title: str = "countyhub quality report") -> str:
    """The same report as one static HTML page."""
    esc = html.escape
    summary = county_summary(rows)
    parts = [f"<!doctype html><meta charset='utf-8'><title>{esc(title)}</title><h1>{esc(title)}</h1>",
             "<p>" + ", ".join(f"{k}: {v}" for k, v in summary.items()) + "</p>"]
    for dept, items in by_department(rows).items():
        parts.append(f"<h2>{esc(dept)}</h2><table border='1' cellpadding='4'><tr><th>dataset</th><th>status</th>"
                     "<th>pass rate</th><th>failing rules</th><th>last run</th><th>version</th><th>history</th>"
                     "<th>Data Docs</th></tr>")
        for q in items:
            docs = f"<a href='{esc(Path(q.data_docs).as_uri())}'>open</a>" if q.data_docs else ""
            parts.append(f"<tr><td>{esc(q.dataset)}</td><td>{esc(q.status)}</td><td>{q.pass_rate:.0%}</td>"
                         f"<td>{esc(', '.join(q.failing_rules))}</td><td>{q.last_run:%Y-%m-%d %H:%M}</td>"
                         f"<td>{q.published_version or ''}</td><td>{_bars(q.history)}</td><td>{docs}</td></tr>")
        parts.append("</table>")
    return "\n".join(parts)
