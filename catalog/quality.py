"""Gate-run quality for the catalog: run status (passed / warn / quarantined / failed), pass rates, overviews."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from countyhub.catalog import tables as t
from countyhub.catalog.tables import as_utc

# Failing first, as in `countyhub quality report`; datasets never gated last.
STATUS_ORDER = {"failed": 0, "warn": 1, "quarantined": 2, "passed": 3, "not_gated": 4}
RUN_STATUSES = ("passed", "warn", "quarantined", "failed")
_COUNTS = ("rules", "rules_passed", "warnings", "quarantined", "published_version", "row_count")
_WARN = {"warn", "warning"}


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _docs_path(value: Any) -> str | None:
    """A Data Docs page relative to <home>/data_docs (dataset/run.html); anything else is dropped."""
    if not isinstance(value, str) or not value or "\\" in value:
        return None
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or path.suffix != ".html":
        return None
    return path.as_posix()


def run_status(success: bool, status: str | None, results: list[dict[str, Any]]) -> str:
    """The gate's own status when it gave one; else derived from which severities failed."""
    if not success:
        return "failed"
    if status in ("passed", "warn", "quarantined"):
        return status
    failing = {r.get("severity") for r in results if not r.get("success")}
    return "warn" if failing & _WARN else "quarantined" if "quarantine" in failing else "passed"


def clean_extra(extra: dict[str, Any] | None, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Run-level facts kept with a gate run: known keys only, counts as ints, Data Docs as a relative path."""
    extra = extra or {}
    out: dict[str, Any] = {k: _count(extra.get(k)) for k in _COUNTS}
    if out["rules"] is None:
        out["rules"] = len(results)
    if out["rules_passed"] is None:
        out["rules_passed"] = sum(1 for r in results if r.get("success"))
    rules = extra.get("quarantined_rules") or {}
    out["quarantined_rules"] = {str(k): c for k, v in rules.items() if (c := _count(v))} if isinstance(rules, dict) \
        else {}
    out["data_docs"] = _docs_path(extra.get("data_docs"))
    return out


def describe_run(success: bool, status: str | None, extra_json: str | None,
                 results: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Status, rules / rules_passed / pass_rate, warnings, quarantined rows, published version, Data Docs path."""
    extra = json.loads(extra_json) if extra_json else None
    if extra is None:  # recorded before run-level facts were kept: what the results tell
        extra = clean_extra({}, results) if results is not None else {k: None for k in (*_COUNTS, "data_docs")} | {"quarantined_rules": {}}
    rules, passed = extra.get("rules"), extra.get("rules_passed")
    rate = passed / rules if rules and passed is not None else (1.0 if success else 0.0)
    return extra | {"status": status or run_status(success, None, results or []), "pass_rate": round(rate, 4)}


class QualityStore:
    """The county-wide and per-department quality overview, as a mixin of Catalog."""

    engine: Engine

    def quality_overview(self, recent: int = 20, department: str | None = None) -> list[dict[str, Any]]:
        """Every gated dataset (of one department): latest status, pass rate, failing rules, quarantined rows,
        Data Docs, recent runs with their pass rates (oldest first); failing datasets first."""
        g, d = t.gate_runs.c, t.datasets.c
        with self.engine.connect() as con:
            titles = {r.name: r for r in con.execute(select(d.name, d.title_zh, d.title_en, d.department_code,
                                                             d.department_name))}
            runs = con.execute(select(g.id, g.dataset, g.run_id, g.success, g.status, g.reason, g.started_at,
                                      g.extra_json).order_by(g.dataset, g.started_at, g.id)).all()
        by_dataset: dict[str, list[Any]] = {}
        for run in runs:
            if department is None or (run.dataset in titles and titles[run.dataset].department_code == department):
                by_dataset.setdefault(run.dataset, []).append(run)
        # Results only for the latest runs, and for older runs recorded before run-level facts were kept.
        wanted = {rs[-1].id for rs in by_dataset.values()}
        wanted |= {r.id for rs in by_dataset.values() for r in rs[-recent:] if r.extra_json is None}
        with self.engine.connect() as con:
            results = {i: json.loads(j) for i, j in
                       con.execute(select(g.id, g.results_json).where(g.id.in_(sorted(wanted)))).all()}
        out = []
        for name, rs in by_dataset.items():
            latest, meta = rs[-1], titles.get(name)
            facts = describe_run(latest.success, latest.status, latest.extra_json, results.get(latest.id))
            out.append(facts | {
                "name": name, "title_zh": meta.title_zh if meta else name, "title_en": meta.title_en if meta else name,
                "department": meta.department_code if meta else "", "department_name": meta.department_name if meta
                else "", "gate_status": facts["status"], "run_id": latest.run_id,
                "last_run": as_utc(latest.started_at), "reason": latest.reason, "runs": len(rs),
                "passed_runs": sum(1 for r in rs if r.success),
                "failed_rules": [r.get("rule") for r in results.get(latest.id, []) if not r.get("success")],
                "history": [describe_run(r.success, r.status, r.extra_json, results.get(r.id))
                            | {"started_at": as_utc(r.started_at), "success": r.success, "reason": r.reason}
                            for r in rs[-recent:]],
            })
        return sorted(out, key=lambda q: (STATUS_ORDER.get(q["gate_status"], 0), q["name"]))
