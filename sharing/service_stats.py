"""Usage of data services per day, caller and service, read from the audit log (the one record of every call)."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from countyhub.sharing import tables as t

ACTIONS = ("service_call", "service_refused")


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def usage(engine: Engine, day: date, department: str | None = None) -> list[dict[str, Any]]:
    """One row per (dataset, service, department, caller) on `day` (UTC): calls, errors (refusals), p95 ms of the
    answered calls; `department`: only that department's callers."""
    a = t.audit_log.c
    start = datetime.combine(day, time())
    query = (select(a.actor, a.department, a.dataset, a.action, a.entry_json)
             .where(a.action.in_(ACTIONS), a.at >= start, a.at < start + timedelta(days=1)))
    if department:
        query = query.where(a.department == department)
    groups: dict[tuple[str, str, str, str], dict[str, Any]] = defaultdict(lambda: {"calls": 0, "errors": 0, "ms": []})
    with engine.connect() as con:
        for row in con.execute(query):
            detail = json.loads(row.entry_json).get("detail") or {}
            group = groups[(row.dataset, str(detail.get("service", "")), row.department, row.actor)]
            group["calls"] += 1
            if row.action == "service_refused":
                group["errors"] += 1
            elif isinstance(detail.get("ms"), int | float):
                group["ms"].append(float(detail["ms"]))
    return [{"day": day.isoformat(), "dataset": k[0], "service": k[1], "department": k[2], "caller": k[3],
             "calls": g["calls"], "errors": g["errors"], "p95_ms": _p95(g["ms"])} for k, g in sorted(groups.items())]
