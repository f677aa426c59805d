"""Orchestration overhead: `python -m bench airflow [--quick] [--scale demo|county]` — the county's flow run by a
real Airflow (api-server, scheduler, dag-processor, two Celery workers; docker-compose.yml's settings, see
tests/cluster.py) against the same stages called from the CLI (`countyhub run`), side by side in one run.

Both runs start from the same generated sources, with the lake's catalog and the catalog store in PostgreSQL
and lake data on local disk, so the difference is orchestration: scheduling, task start-up, one process per task,
and the build that every finished ingest DAG's asset starts again. Target: overhead under 30 % at county scale.
Needs the local PostgreSQL and Redis.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from countyhub.core.departments import load_departments
from countyhub.core.settings import PROJECT_DIR
from countyhub.demo import EnterpriseApi, generate
from tests.cluster import BIN, Cluster

TARGET = 0.30


def _sources(root: Path, scale: str, quick: bool) -> Path:
    """One generated county whose demo/ folder each run copies (the runs change nothing in it)."""
    home = root / "sources"
    generate(home, persons=600 if quick else None, scale=scale)  # 600: every dataset has rows
    return home


def _home(sources: Path, root: Path, name: str) -> Path:
    home = root / name
    shutil.copytree(sources / "demo", home / "demo")
    return home


def _cli_run(home: Path) -> float:
    token = secrets.token_urlsafe(16)
    with EnterpriseApi(home / "demo" / "scjgj_enterprises.json", port=0, token=token) as api, \
            Cluster(home, services=False, extra_env={"SCJGJ_API_URL": api.url, "SCJGJ_API_TOKEN": token}) as c:
        started = time.perf_counter()
        done = subprocess.run([str(BIN / "countyhub"), "run"], env=c.env, capture_output=True, text=True,
                              check=False)
        took = time.perf_counter() - started
    if done.returncode not in (0, 2):  # 2: a gate failed or a department did not load: Airflow sees the same
        raise RuntimeError(f"countyhub run failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return took


def _airflow_run(home: Path) -> tuple[float, dict[str, list[str]], int]:
    token = secrets.token_urlsafe(16)
    dags = [f"ingest_{d.code}" for d in load_departments(PROJECT_DIR / "departments") if d.sources]
    with EnterpriseApi(home / "demo" / "scjgj_enterprises.json", port=0, token=token) as api, \
            Cluster(home, extra_env={"SCJGJ_API_URL": api.url, "SCJGJ_API_TOKEN": token}) as cluster:
        took, runs = cluster.run_all([*dags, "county_build"])
        tasks = cluster.rows("SELECT count(*) AS n FROM task_instance")[0].n
    return took, runs, tasks


def main(flags: list[str]) -> int:
    quick = "--quick" in flags
    scale = next((f.split("=", 1)[1] for f in flags if f.startswith("--scale=")), "demo" if quick else "county")
    with tempfile.TemporaryDirectory(prefix="countyhub-bench-airflow-") as tmp:
        root = Path(tmp)
        sources = _sources(root, scale, quick)
        cli = _cli_run(_home(sources, root, "cli"))
        airflow, runs, tasks = _airflow_run(_home(sources, root, "airflow"))
    overhead = airflow / cli - 1
    builds = len(runs.get("county_build", []))
    failed = {d: s for d, s in runs.items() if set(s) != {"success"}}
    print(f"\nOrchestration overhead, scale {scale}{' (600 persons)' if quick else ''}: the same flow from the CLI "
          "and through Airflow (2 Celery workers, concurrency 2 each)")
    print("| run | seconds | DAG runs | task instances | overhead vs CLI | target |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    print(f"| countyhub run (CLI) | {cli:.1f} | | | | |")
    print(f"| Airflow: every ingest DAG, then the build | {airflow:.1f} | {sum(map(len, runs.values()))} "
          f"(builds: {builds}) | {tasks} | {overhead:+.0%} | < {TARGET:.0%} |")
    if failed:
        print(f"runs that did not succeed: {failed}")
    return 1 if failed else 0
