"""The county at scale: a full run, three `--next-day` days and a day with no change, stage by stage.

`python -m bench county [--quick]`: each stage (generate or next day, load, dbt build, gate and publish, catalog)
runs in a fresh process (bench/county_stage.py), so its seconds and peak RSS are its own; dbt's process is
counted in the peak. Scales demo and county in one run (--quick: demo only, one day). Targets (issue 16): the
full run under 5 minutes and 4 GB at county scale, an incremental day under 10 % of it, a day with no change
under 3 %. The flow's time excludes generating the source systems (that is the county's work, not ours; shown
beside it) and the Python imports each fresh process pays before its stage (shown as the largest of the day).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

OUT = Path(__file__).resolve().parents[1] / "test-artifacts" / "bench" / "county.json"
FLOW = ("load", "build", "gate", "catalog")


def _stage(stage: str, home: Path, scale: str) -> dict[str, Any]:
    env = {**os.environ, "COUNTYHUB_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-m", "bench.county_stage", stage, str(home), scale], env=env,
                          capture_output=True, text=True, check=False, cwd=Path(__file__).resolve().parents[1])
    if proc.returncode != 0:
        raise SystemExit(f"bench county: stage {stage} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _day(label: str, home: Path, scale: str, first: str | None) -> dict[str, Any]:
    stages = ([first] if first else []) + list(FLOW)
    got = {s: _stage(s, home, scale) for s in stages}
    flow = sum(got[s]["seconds"] for s in FLOW)
    peak = max(max(r["rss_mb"], r["child_rss_mb"]) for r in got.values())
    return {"label": label, "scale": scale, "stages": got, "flow_seconds": round(flow, 1), "peak_mb": peak,
            "source_seconds": got[first]["seconds"] if first else 0.0}


def _run_scale(scale: str, days: int, console: Console) -> list[dict[str, Any]]:
    home = Path(tempfile.mkdtemp(prefix=f"bench-county-{scale}-"))
    try:
        runs = [_day("full run", home, scale, "generate")]
        console.print(f"{scale}: full run {runs[0]['flow_seconds']} s")
        for n in range(1, days + 1):
            runs.append(_day(f"day {n}", home, scale, "next_day"))
            console.print(f"{scale}: day {n} {runs[-1]['flow_seconds']} s")
        runs.append(_day("no change", home, scale, None))
        return runs
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title="python -m bench county: seconds per stage (fresh process each), peak RSS of the day")
    for name in ("scale", "run", "sources s", "load s", "dbt build s", "gate s", "publish s", "catalog s", "flow s",
                 "% of full", "imports s", "peak MB", "rows changed", "nodes built", "published", "unchanged"):
        table.add_column(name, justify="left" if name in ("scale", "run") else "right")
    full: dict[str, float] = {}
    for r in runs:
        s = r["stages"]
        if r["label"] == "full run":
            full[r["scale"]] = r["flow_seconds"]
        gate = s["gate"]
        table.add_row(r["scale"], r["label"], f"{r['source_seconds']:.1f}", f"{s['load']['seconds']:.1f}",
                      f"{s['build']['seconds']:.1f}", f"{gate['gate_seconds']:.1f}", f"{gate['publish_seconds']:.1f}",
                      f"{s['catalog']['seconds']:.1f}", f"{r['flow_seconds']:.1f}",
                      f"{100 * r['flow_seconds'] / full[r['scale']]:.1f}",
                      f"{max(x['imports'] for x in s.values()):.1f}", str(r["peak_mb"]),
                      str(s["load"]["rows_changed"]), str(s["build"]["nodes_built"]), str(gate["published"]),
                      str(gate["unchanged"]))
    return table


def _targets(runs: list[dict[str, Any]], scale: str) -> list[tuple[str, str, bool]]:
    mine = [r for r in runs if r["scale"] == scale]
    full = mine[0]
    days = [r for r in mine if r["label"].startswith("day")]
    quiet = mine[-1]
    mean_day = sum(r["flow_seconds"] for r in days) / len(days) if days else 0.0
    day_share = f"{100 * mean_day / full['flow_seconds']:.1f} % (mean of {len(days)})"
    return [
        ("full run under 300 s", f"{full['flow_seconds']:.1f} s", full["flow_seconds"] < 300),
        ("full run under 4,096 MB", f"{full['peak_mb']} MB", full["peak_mb"] < 4096),
        ("incremental day under 10 % of the full run", day_share, mean_day < 0.10 * full["flow_seconds"]),
        ("no-change day under 3 %", f"{100 * quiet['flow_seconds'] / full['flow_seconds']:.1f} %",
         quiet["flow_seconds"] < 0.03 * full["flow_seconds"]),
    ]


def main(flags: list[str]) -> None:
    console = Console(width=200)
    quick = "--quick" in flags
    plan = [("demo", 1)] if quick else [("demo", 1), ("county", 3)]
    runs = [r for scale, days in plan for r in _run_scale(scale, days, console)]
    console.print(_table(runs))
    top = plan[-1][0]
    targets = Table(title=f"targets at --scale {top}")
    for name in ("target", "measured", "met"):
        targets.add_column(name)
    for name, measured, met in _targets(runs, top):
        targets.add_row(name, measured, "yes" if met else "[red]no[/red]")
    console.print(targets)
    fulls = {r["scale"]: r for r in runs if r["label"] == "full run"}
    if len(fulls) == 2:
        demo, county = fulls["demo"], fulls["county"]
        rows = (county["stages"]["generate"]["source_rows"], demo["stages"]["generate"]["source_rows"])
        console.print(f"growth demo -> county: source rows x{rows[0] / rows[1]:.0f} ({rows[1]:,} -> {rows[0]:,}), "
                      f"flow seconds x{county['flow_seconds'] / demo['flow_seconds']:.1f} "
                      f"({demo['flow_seconds']} -> {county['flow_seconds']})")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(runs, indent=1), encoding="utf-8")
    console.print(f"raw figures: {OUT}")
