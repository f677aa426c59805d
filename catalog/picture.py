"""Layouts for the inline SVG pictures on dataset pages: the gate pass-rate chart and the lineage graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NODE_W, NODE_H, COL_GAP, ROW_GAP = 200, 34, 56, 14
ZONE_COLORS = {"source": "#f1f5f9", "raw": "#fef3c7", "staging": "#e0f2fe", "intermediate": "#e0e7ff",
               "audit": "#fce7f3", "shared": "#dcfce7", "other": "#f3f4f6"}


def zone_of(name: str) -> str:
    if name.startswith("source:"):
        return "source"
    schema = name.split(".", 1)[0]
    if schema.startswith("raw_"):
        return "raw"
    return schema if schema in ZONE_COLORS else "other"


STATUS_COLORS = {"passed": "#16a34a", "warn": "#d97706", "quarantined": "#7c3aed", "failed": "#dc2626"}


def _pass_rate(run: dict[str, Any]) -> tuple[float, int | None, int | None]:
    """(share of rules passed, rules passed, rules) of one run; a run without rule counts is all or nothing."""
    rules = run.get("rules", run.get("total_rules"))
    passed = run.get("rules_passed", run.get("passed_rules"))
    if run.get("pass_rate") is not None:
        return float(run["pass_rate"]), passed, rules
    return (passed / rules if rules and passed is not None else (1.0 if run["success"] else 0.0)), passed, rules


def gate_chart(history: list[dict[str, Any]], fmt: Callable[[Any], str], bar: int = 18, gap: int = 6,
               height: int = 64, axis: bool = True) -> dict[str, Any]:
    """Pass-rate chart for an inline SVG: one bar per gate run, oldest first; bar height = rules passed / rules,
    colour = the run's status. With `axis`, gridlines at 0 / 50 / 100 % labelled on the left."""
    left, pad = (36, 6) if axis else (0, 0)
    bars = []
    for i, run in enumerate(history):
        rate, passed, rules = _pass_rate(run)
        status = run.get("status") or ("passed" if run["success"] else "failed")
        h = max(round(height * rate), 3)  # a run where every rule failed still shows as a stub
        counts = f" ({passed}/{rules})" if rules else ""
        bars.append({"x": left + i * (bar + gap), "y": pad + height - h, "h": h, "w": bar, "success": run["success"],
                     "status": status, "color": STATUS_COLORS.get(status, "#94a3b8"), "rate": rate,
                     "label": f"{fmt(run['started_at'])} · {rate:.0%}{counts} · {status}"
                              + (f" · {run['reason']}" if run.get("reason") else "")})
    grid = [{"y": pad + round(height * (1 - p)), "label": f"{p:.0%}"} for p in (1.0, 0.5, 0.0)] if axis else []
    return {"bars": bars, "width": left + max(len(history) * (bar + gap), 120), "height": pad + height,
            "left": left, "grid": grid,
            "first": fmt(history[0]["started_at"]) if history else "",
            "last": fmt(history[-1]["started_at"]) if history else ""}


def _depths(graph: dict[str, list[str]]) -> dict[str, int]:
    """Longest path from a root, so a mart sits right of every model it is built from."""
    depth: dict[str, int] = {}

    def visit(name: str, trail: frozenset[str]) -> int:
        if name in depth:
            return depth[name]
        ups = [u for u in graph.get(name, []) if u not in trail]
        depth[name] = 1 + max((visit(u, trail | {name}) for u in ups), default=-1)
        return depth[name]

    for name in graph:
        visit(name, frozenset())
    return depth


def lineage_picture(graph: dict[str, list[str]], focus: str, origins: dict[str, str] | None = None,
                    affected: set[str] | None = None) -> dict[str, Any]:
    """Boxes and curves for the lineage SVG: one column per step (department system → raw → … → shared)."""
    graph = {k: list(v) for k, v in graph.items()}
    for name, origin in (origins or {}).items():
        if name in graph and origin:
            graph[name].append(f"source:{origin}")
            graph.setdefault(f"source:{origin}", [])
    depth = _depths(graph)
    columns: dict[int, list[str]] = {}
    for name in sorted(graph, key=lambda n: (depth[n], n)):
        columns.setdefault(depth[name], []).append(name)
    pos, nodes = {}, []
    for d, names in sorted(columns.items()):
        for i, name in enumerate(names):
            x, y = 10 + d * (NODE_W + COL_GAP), 10 + i * (NODE_H + ROW_GAP)
            pos[name] = (x, y)
            label = name.removeprefix("source:")
            nodes.append({"name": name, "label": label if len(label) <= 28 else label[:27] + "…", "x": x, "y": y,
                          "w": NODE_W, "h": NODE_H, "zone": zone_of(name), "fill": ZONE_COLORS[zone_of(name)],
                          "focus": name == focus, "affected": name in (affected or set()),
                          "link": not name.startswith("source:")})
    edges = []
    for name, ups in graph.items():
        for up in ups:
            (x1, y1), (x2, y2) = pos[up], pos[name]
            sx, sy, ex, ey = x1 + NODE_W, y1 + NODE_H / 2, x2, y2 + NODE_H / 2
            mid = (sx + ex) / 2
            edges.append({"d": f"M{sx},{sy} C{mid},{sy} {mid},{ey} {ex},{ey}", "from": up, "to": name})
    width = 20 + (max(columns, default=0) + 1) * (NODE_W + COL_GAP) - COL_GAP
    height = 20 + max((len(v) for v in columns.values()), default=1) * (NODE_H + ROW_GAP) - ROW_GAP
    return {"nodes": nodes, "edges": edges, "width": width, "height": height}
