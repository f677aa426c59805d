"""Build raw -> staging -> marts in `audit`: run `dbt build` on a prepared project and report each node."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from countyhub.core.settings import Settings
from countyhub.flow.dbt_prep import DbtProject, dbt_home, prepare_for, write_profiles
from countyhub.lakehouse.lake import LAKE, Lake

# write_profiles is re-exported: callers that inspect the lake's dbt profile have imported it from here.
__all__ = ["BuildResult", "DbtBuildError", "NodeResult", "layout_manifest", "manifest_file", "node_outcomes",
           "parse_layout", "run_dbt", "write_profiles"]

# dbt in its own process: its DuckDB (lake attached) closes when the process ends, and dbt's global state never
# leaks between runs or threads of the caller (an Airflow worker). Same interpreter, so the same pinned dbt.
_DBT = [sys.executable, "-c", "import sys; from dbt.cli.main import cli; sys.exit(cli())"]
_TABLES = {"table", "seed", "incremental"}
_FAILED = {"error", "fail", "runtime error"}
# How bad a node's status is, to show the worst of the tests on one model.
_RANK = {"skipped": 1, "warn": 2, **dict.fromkeys(_FAILED, 3)}


class DbtBuildError(RuntimeError):
    """dbt failed; the message names each failed node and dbt's message for it."""

    def __init__(self, message: str, result: BuildResult | None = None) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    name: str
    resource_type: str  # model, seed, test
    status: str  # success, error, pass, fail, warn, skipped
    message: str | None
    seconds: float
    rows: int | None  # rows in the built table (tables and seeds; None for views and tests)
    relation: str | None  # lake.<schema>.<name>
    depends_on: tuple[str, ...] = ()  # its parent nodes' unique_ids (a test's: the models it tests)


@dataclass(frozen=True)
class BuildResult:
    success: bool
    nodes: list[NodeResult]
    seconds: float
    target_path: Path

    def node(self, name: str) -> NodeResult:
        return next(n for n in self.nodes if n.name == name and n.resource_type in ("model", "seed"))

    @property
    def failed(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in _FAILED]


def node_outcomes(result: BuildResult) -> dict[str, dict[str, str]]:
    """What a task per dbt node shows of one build: `{unique_id: {"status", "message"}}` for each model, seed and
    snapshot it ran, and under `<model id>:tests` the worst of the tests on that model (a failed one names itself).
    A failed unit test fails its model: dbt then skips building the model."""
    outcomes = {n.unique_id: {"status": n.status, "message": (n.message or "").strip()} for n in result.nodes
                if n.resource_type in ("model", "seed", "snapshot")}
    for node in result.nodes:
        if node.resource_type == "test":
            for parent in node.depends_on:
                _worst(outcomes, f"{parent}:tests", node)
        elif node.resource_type == "unit_test" and node.status in _FAILED:
            for parent in node.depends_on:
                _worst(outcomes, parent, node)
    return outcomes


def _worst(outcomes: dict[str, dict[str, str]], key: str, node: NodeResult) -> None:
    """Keep the worse of two statuses; every node that did not pass is named in the message."""
    shown = outcomes.setdefault(key, {"status": "pass", "message": ""})
    rank = _RANK.get(node.status, 0)
    if rank:
        line = f"{node.name}: {node.status}: {(node.message or '').strip()}"
        shown["message"] = "; ".join(m for m in (shown["message"], line) if m)
    if rank > _RANK.get(shown["status"], 0):
        shown["status"] = "error" if node.resource_type == "unit_test" else node.status


def manifest_file(settings: Settings) -> Path:
    """dbt's manifest.json of the last build: models, columns and lineage for the catalog."""
    return dbt_home(settings) / "target" / "manifest.json"


def layout_manifest(settings: Settings) -> Path:
    """dbt's manifest of the project as deployed, before any build (`parse_layout`): the Airflow build DAG's shape."""
    return dbt_home(settings) / "layout" / "manifest.json"


def parse_layout(lake: Lake) -> Path:
    """`dbt parse` of the prepared project into layout_manifest: no model runs and the lake is not opened. Kept
    apart from the build's target/ so that the catalog and the freshness check still see "never built"."""
    project = replace(prepare_for(lake), target_dir=layout_manifest(lake.settings).parent)
    proc = _dbt(project, "parse", "--no-use-colors")
    manifest = project.target_dir / "manifest.json"
    if proc.returncode != 0 or not manifest.is_file():
        raise DbtBuildError(f"dbt parse failed: {_dbt_output_tail(proc)}")
    return manifest


def _count_rows(lake: Lake, relations: list[str]) -> dict[str, int]:
    if not relations:
        return {}
    with lake.reader() as con:
        return {r: con.execute(f"SELECT count(*) FROM {r}").fetchone()[0] for r in relations}


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _dbt_output_tail(proc: subprocess.CompletedProcess[str], lines: int = 20) -> str:
    text = "\n".join(t for t in (proc.stdout, proc.stderr) if t and t.strip())
    return "\n".join(text.strip().splitlines()[-lines:]) or f"exit code {proc.returncode}"


def _dbt(project: DbtProject, command: str, *flags: str) -> subprocess.CompletedProcess[str]:
    """One dbt command on a prepared project, its output captured (exit codes are the caller's to judge)."""
    return subprocess.run([*_DBT, command, *project.args(), "--quiet", *flags], cwd=project.project_dir,
                          capture_output=True, text=True, check=False)


def run_dbt(lake: Lake, select: str | None = None, project: DbtProject | None = None,
            exclude: str | None = None, state: Path | None = None, unit_tests: bool = True) -> BuildResult:
    """`dbt build` (seeds, models, tests) into the lake; raise DbtBuildError naming failed nodes.

    Prepares the project first (countyhub.flow.dbt_prep) unless given one already prepared. run_dbt takes no
    lake lock: call it while you hold the lake writer lock and no other connection has the lake open for
    writing — with SQLite metadata, DuckLake is single-writer.
    """
    project = project or prepare_for(lake)
    args: list[str] = []
    if select:
        args += ["--select", select]
    if state is not None:  # a selection with state:modified compares with this earlier manifest
        args += ["--state", str(state)]
    if exclude:  # e.g. "source:raw_gaj+": a department that failed to load, and everything built from it
        args += ["--exclude", *exclude.split()]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    run_results = project.target_dir / "run_results.json"
    run_results.unlink(missing_ok=True)  # a run that dies early must not be read as the previous one's results
    started = time.perf_counter()
    # exit 0: all passed; 1: some node failed (results written); anything else: dbt itself could not run.
    proc = _dbt(project, "build", *args)
    if proc.returncode not in (0, 1) or not run_results.exists():
        raise DbtBuildError(f"dbt build could not run: {_dbt_output_tail(proc)}")
    raw = _read_json(run_results)["results"]
    # dbt reports unit tests and exposures too; the manifest keeps them apart from the nodes
    parsed = _read_json(project.target_dir / "manifest.json")
    manifest = {**parsed["nodes"], **parsed.get("unit_tests", {}), **parsed.get("exposures", {})}
    relations = {r["unique_id"]: f"{LAKE}.{n['schema']}.{n['alias']}" for r in raw
                 if (n := manifest[r["unique_id"]])["resource_type"] in ("model", "seed")}
    tables = [relations[r["unique_id"]] for r in raw if r["unique_id"] in relations and r["status"] == "success"
              and manifest[r["unique_id"]]["config"].get("materialized") in _TABLES]
    counts = _count_rows(lake, tables)
    nodes = [NodeResult(
        unique_id=r["unique_id"], name=manifest[r["unique_id"]]["name"],
        resource_type=manifest[r["unique_id"]]["resource_type"], status=r["status"], message=r.get("message"),
        seconds=round(r["execution_time"], 3), rows=counts.get(relations.get(r["unique_id"], "")),
        relation=relations.get(r["unique_id"]),
        depends_on=tuple(manifest[r["unique_id"]].get("depends_on", {}).get("nodes", ())),
    ) for r in raw]
    result = BuildResult(proc.returncode == 0, nodes, round(time.perf_counter() - started, 3), project.target_dir)
    if not result.success:
        details = "; ".join(f"{n.unique_id}: {n.status}: {(n.message or '').strip()}" for n in result.failed)
        raise DbtBuildError(f"dbt build failed — {details or 'see ' + str(project.log_dir)}", result)
    return result
