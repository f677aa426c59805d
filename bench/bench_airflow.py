"""Orchestration overhead: `python -m bench airflow [--quick] [--scale=demo|county] [--rounds=N]` — the county's flow
run by a real Airflow (api-server, scheduler, dag-processor, two Celery workers; docker-compose.yml's settings, see
tests/cluster.py) against the same stages called from the CLI (`countyhub run`), side by side in one run; with
`--rounds=N`, N times in turn, and the median overhead.

Both runs start from the same generated sources, with the lake's catalog and the catalog store in PostgreSQL
and lake data on local disk, so the difference is orchestration: scheduling, task start-up, one process per task,
and the builds the ingest DAGs' assets start. Target: overhead under 30 % at county scale.
Needs the local PostgreSQL and Redis.
"""

from __future__ import annotations

import csv
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from countyhub.demo import EnterpriseApi, generate
from tests.cluster import BIN, INGEST_DAGS, Cluster, compose_command, compose_spec

TARGET = 0.30
WORKERS = compose_spec()["services"]["airflow-worker"]["deploy"]["replicas"]
KEPT = Path(tempfile.gettempdir()) / "countyhub-bench-airflow-last"  # each run's tries and logs


def _sources(root: Path, scale: str, quick: bool) -> Path:
    """One generated county whose demo/ folder each run copies (the runs change nothing in it)."""
    home = root / "sources"
    generate(home, persons=600 if quick else None, scale=scale)  # 600: every dataset has rows
    return home


def _home(sources: Path, root: Path, name: str) -> Path:
    home = root / name
    shutil.copytree(sources / "demo", home / "demo")
    return home


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _cli_run(home: Path) -> tuple[float, float]:
    """(seconds, CPU seconds of `countyhub run` and what it started)."""
    token = secrets.token_urlsafe(16)
    with EnterpriseApi(home / "demo" / "scjgj_enterprises.json", port=0, token=token) as api, \
            Cluster(home, services=False, extra_env={"SCJGJ_API_URL": api.url, "SCJGJ_API_TOKEN": token}) as c:
        started, cpu = time.perf_counter(), _children_cpu()
        done = subprocess.run([str(BIN / "countyhub"), "run"], env=c.env, capture_output=True, text=True,
                              check=False)
        took, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if done.returncode not in (0, 2):  # 2: a gate failed or a department did not load: Airflow sees the same
        raise RuntimeError(f"countyhub run failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return took, cpu


def _kind(dag_id: str, task_id: str) -> str:
    if dag_id.startswith("ingest_"):
        return "load (ingest DAGs)"
    if task_id.startswith("dbt."):
        return "dbt node report (cosmos)"
    if task_id.startswith("gate_"):
        return "gate and publish"
    return task_id


def _breakdown(cluster: Cluster) -> list[tuple[str, int, float, float, float]]:
    """Per kind of task: (kind, tries, seconds running in all, median wait queued -> running, median run)."""
    rows = cluster.rows("SELECT dag_id, task_id, queued_dttm, start_date, end_date FROM task_instance "
                        "WHERE start_date IS NOT NULL AND end_date IS NOT NULL")
    kinds: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        wait = (r.start_date - r.queued_dttm).total_seconds() if r.queued_dttm else 0.0
        kinds.setdefault(_kind(r.dag_id, r.task_id), []).append((wait, (r.end_date - r.start_date).total_seconds()))
    return [(kind, len(v), sum(run for _, run in v), statistics.median(w for w, _ in v),
             statistics.median(run for _, run in v)) for kind, v in sorted(kinds.items())]


def _airflow_run(home: Path) -> tuple[float, dict[str, list[str]], int, list, list, dict[str, float]]:
    token = secrets.token_urlsafe(16)
    with EnterpriseApi(home / "demo" / "scjgj_enterprises.json", port=0, token=token) as api, \
            Cluster(home, extra_env={"SCJGJ_API_URL": api.url, "SCJGJ_API_TOKEN": token}) as cluster:
        cluster.wait_for_dags([*INGEST_DAGS, "county_build"])  # the first parse is start-up, not the run's
        before = cluster.cpu_seconds()
        took, runs = cluster.run_all([*INGEST_DAGS, "county_build"])
        cpu = {service: seconds - before.get(service, 0.0) for service, seconds in cluster.cpu_seconds().items()}
        tasks = cluster.rows("SELECT count(*) AS n FROM task_instance")[0].n
        breakdown = _breakdown(cluster)
        first = cluster.rows("SELECT min(queued_dttm) AS at FROM task_instance")[0].at
        timeline = [(r.dag_id, (r.start_date - first).total_seconds(), (r.end_date - first).total_seconds())
                    for r in cluster.rows("SELECT dag_id, start_date, end_date FROM dag_run "
                                          "WHERE end_date IS NOT NULL ORDER BY start_date")]
        # Every try, and the services' logs, kept for a closer look (the cluster's home is removed at the end).
        shutil.rmtree(KEPT, ignore_errors=True)
        KEPT.mkdir(parents=True)
        with (KEPT / "task_instances.csv").open("w", newline="") as out:
            rows = cluster.rows("SELECT dag_id, run_id, task_id, state, try_number, queued_dttm, start_date, end_date "
                                "FROM task_instance ORDER BY queued_dttm")
            writer = csv.writer(out)
            writer.writerow(rows[0]._fields if rows else [])
            writer.writerows(rows)
        for logs, kept in ((home / "logs", "logs"), (home / "airflow" / "logs", "task-logs")):
            if logs.is_dir():
                shutil.copytree(logs, KEPT / kept, dirs_exist_ok=True)
    return took, runs, tasks, breakdown, timeline, cpu


def main(flags: list[str]) -> int:
    quick = "--quick" in flags
    scale = next((f.split("=", 1)[1] for f in flags if f.startswith("--scale=")), "demo" if quick else "county")
    # Rounds alternate the two runs: on a small machine one run of either varies by 10-20 %, the median less.
    given = next((f.split("=", 1)[1] for f in flags if f.startswith("--rounds=")), "1")
    if not given.isdigit() or int(given) < 1:
        print(f"bench airflow: --rounds takes a whole number of rounds, 1 or more (got {given!r})", file=sys.stderr)
        sys.exit(2)  # a usage error, not a violation the benchmark found
    rounds = int(given)
    measured: list[tuple[float, float, dict[str, list[str]], int, float, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="countyhub-bench-airflow-") as tmp:
        root = Path(tmp)
        sources = _sources(root, scale, quick)
        for n in range(rounds):
            cli, cli_cpu = _cli_run(_home(sources, root, f"cli-{n}"))
            airflow, runs, tasks, breakdown, timeline, cpu = _airflow_run(_home(sources, root, f"airflow-{n}"))
            measured.append((cli, airflow, runs, tasks, cli_cpu, cpu))
            for name in (f"cli-{n}", f"airflow-{n}"):  # a county's lake is large: keep one round's on disk
                shutil.rmtree(root / name, ignore_errors=True)
    overhead = statistics.median(m[1] / m[0] - 1 for m in measured)
    failed = {d: s for m in measured for d, s in m[2].items() if set(s) != {"success"}}
    print(f"\nOrchestration overhead, scale {scale}{' (600 persons)' if quick else ''}: the same flow from the CLI "
          f"and through Airflow ({WORKERS} Celery workers, concurrency {compose_command('airflow-worker', {})[-1]} each)"
          f"{f', {rounds} rounds, each the CLI then Airflow' if rounds > 1 else ''}")
    print("| round | CLI s | Airflow s | DAG runs | task instances | overhead vs CLI | target | CLI CPU s | Airflow CPU s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    for n, (cli, airflow, runs, tasks, cli_cpu, cpu) in enumerate(measured, 1):
        builds = len(runs.get("county_build", []))
        print(f"| {n} | {cli:.1f} | {airflow:.1f} | {sum(map(len, runs.values()))} (builds: {builds}) | {tasks} "
              f"| {airflow / cli - 1:+.0%} | < {TARGET:.0%} | {cli_cpu:.0f} | {sum(cpu.values()):.0f} |")
    if rounds > 1:
        print(f"| median | {statistics.median(m[0] for m in measured):.1f} "
              f"| {statistics.median(m[1] for m in measured):.1f} | | | {overhead:+.0%} | < {TARGET:.0%} | | |")
    print("\nCPU seconds (user + system) of each Airflow service while the flow ran, its tasks included; the CLI's "
          "are `countyhub run` and what it started (PostgreSQL's own, for both, is in neither)")
    services = sorted({s for m in measured for s in m[5]})
    print("| round | CLI | " + " | ".join(services) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in services) + " |")
    for n, m in enumerate(measured, 1):
        print(f"| {n} | {m[4]:.0f} | " + " | ".join(f"{m[5].get(s, 0.0):.0f}" for s in services) + " |")
    print(f"\nWhere Airflow's time went{f' in round {rounds}' if rounds > 1 else ''} (tries of each kind of task; "
          "wait: queued until running)")
    print("| task | tries | seconds running, all tries | median wait s | median run s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for kind, tries, running, wait, run in breakdown:
        print(f"| {kind} | {tries} | {running:.1f} | {wait:.1f} | {run:.1f} |")
    print("\nDAG runs (seconds after the first task was queued)")
    print("| DAG | started | ended |")
    print("| --- | ---: | ---: |")
    for dag_id, start, end in timeline:
        print(f"| {dag_id} | {start:.1f} | {end:.1f} |")
    if failed:
        print(f"runs that did not succeed: {failed}")
    return 1 if failed else 0
