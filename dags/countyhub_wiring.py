"""Airflow wiring only: how a department file becomes an ingest DAG and the contracts become the county build DAG.

The DAG files next to this one (`ingest_<code>.py`, `county_build.py`, written by `countyhub dags write`) call it;
`.airflowignore` keeps the DAG processor from parsing it as a DAG file of its own. Every task calls the same
functions as the `countyhub` CLI, so no logic lives here. Parsing reads only files (one department file, the
contracts, dbt's manifest) and environment variables: no database, no network, no dbt. county_build's task per dbt
node (countyhub_dbt.py) costs most of its parse: 0.65 s against 0.06 s without them, measured on an idle machine.
A worker parsing the file to run one of county_build's tasks skips that layout (see _dbt_node_tasks).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import DAG, Asset, AssetAny, BaseOperator, get_parsing_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, DownstreamTasksSkipped
from airflow.task.trigger_rule import TriggerRule

from countyhub.cli.ingest_wait import BUSY_STATES, IngestQuietTrigger
from countyhub.core.departments import DepartmentFileError, load_department
from countyhub.core.settings import Settings, load_settings
from countyhub.flow.pools import LAKE_WRITES_POOL, source_pool

if TYPE_CHECKING:
    from countyhub.flow.runtime import Runtime

START = pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai")
# A source that is down for a minute should not fail the day: wait 1, 2, 4 ... minutes, at most 30.
DEFAULTS: dict[str, Any] = {
    "retries": 3, "retry_delay": pendulum.duration(minutes=1), "retry_exponential_backoff": 2.0,
    "max_retry_delay": pendulum.duration(minutes=30),
}
LOAD_TIMEOUT = pendulum.duration(hours=2)
BUILD_TIMEOUT = pendulum.duration(hours=2)
GATE_TIMEOUT = pendulum.duration(hours=1)
CATALOG_TIMEOUT = pendulum.duration(minutes=30)
# A free worker slot goes to a gate (or the catalog after them) first: the gates publish, and wait on each other,
# parents first.
GATE_PRIORITY = 100
# The build starts on the first department's fresh data, then waits (in the triggerer, WaitForIngest) while another
# department's ingest run is queued or running, at most this long: one build takes in the whole day's loads, where
# each department's asset would otherwise start another build of its own. A look is a few api-server calls.
INGEST_QUIET_WAIT = pendulum.duration(hours=1)
INGEST_QUIET_POKE = pendulum.duration(seconds=2)


def settings() -> Settings:
    """The settings from countyhub.toml and COUNTYHUB_* variables (the DAG files are an edge)."""
    return load_settings()


def task_runtime() -> Runtime:
    """Each task builds its runtime once, from the settings and the worker's environment."""
    from countyhub.flow.runtime import Runtime

    return Runtime(load_settings(), os.environ)


def raw_asset(department: str, stream: str) -> Asset:
    return Asset(f"countyhub://lake/raw_{department}/{stream}", group="raw")


def department_asset(department: str) -> Asset:
    """Some raw table of the department changed: what the build is scheduled on (one asset per department keeps
    the build DAG's parse short; the stream assets stay for lineage)."""
    return Asset(f"countyhub://lake/raw_{department}", group="raw")


def lake_asset(zone: str, dataset: str) -> Asset:
    """A dataset of the audit or shared zone (a shared one's event means: a new version is served)."""
    return Asset(f"countyhub://lake/{zone}/{dataset}", group=zone)


def record_failure_of(datasets: list[str]) -> Callable[[dict[str, Any]], None]:
    """A failure callback: the task's datasets show the failure on their catalog pages."""
    def record(context: dict[str, Any]) -> None:
        from countyhub.flow.register import record_failure

        ti = context["ti"]
        error = context.get("exception") or "failed"
        record_failure(task_runtime(), datasets, f"{ti.dag_id}.{ti.task_id}", ti.run_id, error)
    return record


def ingest_dag(code: str) -> DAG:
    """ingest_<code>: one task per stream, each emitting the raw asset it refreshed. An invalid department file
    raises here, so it is an import error of this department's DAG file only."""
    path = settings().departments_dir / f"{code}.yml"
    if not path.is_file():
        raise DepartmentFileError(f"{path}: no such department file (run `countyhub dags write` after removing one)")
    department = load_department(path)
    with DAG(
        dag_id=f"ingest_{department.code}",
        description=f"{department.name} ({department.name_en}): load sources into raw_{department.code}",
        schedule=department.schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,  # two loads of one stream at once would only wait on each other
        default_args={**DEFAULTS, "owner": department.code, "execution_timeout": LOAD_TIMEOUT},
        tags=["countyhub", "ingest", department.code],
    ) as dag:
        for source in department.sources:
            for stream in source.streams:
                @task(task_id=f"load_{stream.name}",
                      outlets=[raw_asset(department.code, stream.name), department_asset(department.code)],
                      pool=source_pool(department.code, source.name),
                      on_failure_callback=record_failure_of([f"{department.raw_schema}.{stream.name}"]))
                def load(code: str = department.code, stream_name: str = stream.name) -> dict:
                    from countyhub.core.departments import load_department
                    from countyhub.flow.ingest import ingest_department

                    rt = task_runtime()
                    dept = load_department(rt.settings.departments_dir / f"{code}.yml")
                    [result] = ingest_department(rt, dept, stream_name)
                    return {"load_id": result.load_id, "rows": result.rows_loaded, "table": result.table,
                            "phase_seconds": result.phases}

                load()
    return dag


def _outline(config: Settings) -> dict[str, Any]:
    """What the build DAG's shape depends on: each contract's dataset and the datasets its rules read (in publish
    order), each department's streams. Kept in the home keyed by every file's size and modification time, so a
    parse (every 30 s by Airflow's default, every 5 minutes in compose) reads no contract unless one changed:
    checking 15 contracts against the ODCS schema costs seconds, the DAG file must parse in under one. A broken
    department file is its own DAG's import error, not the build's: it is left out here."""
    from countyhub_dbt import file_key, write_whole

    files = sorted(config.contracts_dir.glob("*/*.odcs.yaml")) + sorted(config.departments_dir.glob("*.yml"))
    key = [file_key(p) for p in files]
    cache = config.home / "airflow-build-outline.json"
    try:
        stored = json.loads(cache.read_text(encoding="utf-8"))
        if stored["key"] == key:
            return stored
    except (OSError, ValueError, KeyError):
        pass
    from countyhub.contracts.odcs import load_contracts
    from countyhub.contracts.publish import publish_order

    departments = {}
    for path in sorted(config.departments_dir.glob("*.yml")):
        try:
            department = load_department(path)
        except DepartmentFileError:
            continue
        departments[department.code] = [s.name for src in department.sources for s in src.streams]
    contracts = [[c.dataset, sorted(c.references)] for c in publish_order(load_contracts(config.contracts_dir))]
    outline = {"key": key, "contracts": contracts, "departments": departments}
    write_whole(cache, outline)
    return outline


BUILD_DOC = """\
**county_build**: waits while a department's ingest run is queued or running (`wait_for_ingest`, at most an
hour), then one `dbt build` of what changed (task `build_models`), a gate-and-publish task per contract, and the
catalog. When nothing changed since the last build, `build_models` is skipped and so are the gates. A run
started by loads that the previous run's build already read (they committed while it waited for ingest) skips
every task after `wait_for_ingest`, the catalog's too.

Group `dbt` shows each dbt model, seed and snapshot as a task (with the tests on it, as `dbt build` runs them),
laid out by astronomer-cosmos from the manifest of the last dbt build. They do not run dbt, nor take a worker:
each starts from the triggerer, which reports what `build_models`' single build did to its node. A failed test
fails its model's task, so the tasks of the model's children do not run; a node the build did not select succeeds
as "not rebuilt".

On a new deployment the tasks come from the `dbt parse` that `countyhub dags layout` (airflow-init) made; without
it the DAG has `build_models` alone until the first parse after a build.
"""


def _manifest(config: Settings) -> Path | None:
    """The manifest to lay out the dbt tasks from: the last build's, else the last complete build's, else the
    parse `countyhub dags layout` made at deployment (airflow-init)."""
    from countyhub_dbt import readable_manifest

    dbt = config.home / "dbt"  # countyhub.flow.dbt_prep.dbt_home, not imported: it loads the contracts' modules
    return readable_manifest(*(dbt / folder / "manifest.json" for folder in ("target", "state", "layout")))


def dbt_index(config: Settings) -> Path:
    """Where the dag-processor's whole layout of group `dbt` keeps each task's node, for a worker's parse."""
    return config.home / "airflow-dbt-tasks.json"


def _dbt_node_tasks(config: Settings, built: Any) -> None:
    """Group `dbt` downstream of build_models, as much of it as this parse needs. A worker parses the DAG file to
    run one task, and Airflow names that task: a gate or build_models needs no dbt node task, a dbt node task only
    itself (from the index the last whole layout wrote). The dag-processor, naming none, lays out them all. On the
    2-core test machine the whole layout took 1.7 s of each county_build task's start (3.3 s when busy)."""
    from countyhub_dbt import dbt_node_task, dbt_node_tasks

    running, index = get_parsing_context().task_id, dbt_index(config)
    if running is not None and (not running.startswith("dbt.") or dbt_node_task(built, running, index) is not None):
        return
    manifest = _manifest(config)
    if manifest is not None:
        dbt_node_tasks(manifest, built, index)


class WaitForIngest(BaseOperator):
    """Succeeds once no department's ingest run is queued or running, or INGEST_QUIET_WAIT after the run began:
    builds what has loaded (a department still loading then starts the next build when it is done). A run its
    loads started that has nothing new to build (the loads that started it committed while the previous run
    waited, and that run's build read them) skips every other task, the catalog's too.

    It looks once; while ingest runs are busy it defers to the triggerer (countyhub.cli.ingest_wait), which does
    the waiting without a worker slot, and a worker runs execute_complete once that is over."""

    ui_color = "#f4eee8"

    def __init__(self, *, ingest_dags: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ingest_dags = ingest_dags

    def execute(self, context: Any) -> bool:
        ti = context["ti"]
        busy = [d for d in self.ingest_dags if ti.get_dr_count(dag_id=d, states=BUSY_STATES)]
        left = (INGEST_QUIET_WAIT - (pendulum.now("UTC") - context["dag_run"].start_date)).total_seconds()
        if busy and left > 0:
            self.log.info("waiting for the ingest runs of %s, in the triggerer", ", ".join(busy))
            # The trigger fires by itself when the wait is over; the time-out is a backstop only. A plain
            # timedelta: the task runner cannot send its supervisor a pendulum Duration.
            self.defer(trigger=IngestQuietTrigger(self.ingest_dags, left, INGEST_QUIET_POKE.total_seconds()),
                       method_name="execute_complete", timeout=timedelta(seconds=left + 600))
        return self.execute_complete(context, {"busy": busy})

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> bool:
        busy = (event or {}).get("busy", [])
        if busy:
            self.log.warning("still loading after %s, built without them: %s", INGEST_QUIET_WAIT, ", ".join(busy))
        elif context["triggering_asset_events"]:  # a run triggered by hand always builds
            from countyhub.flow.run import up_to_date

            runtime = task_runtime()
            why = up_to_date(runtime)
            if why:
                from countyhub_dbt import dbt_node_task_ids

                self.log.info("nothing new to build, gate or register: %s", why)
                # The dbt node tasks too, which a worker's parse leaves out (_dbt_node_tasks): left to the
                # scheduler, they are skipped one level of the lineage per scheduler loop, a second each.
                later = {t.task_id for t in self.get_flat_relatives(upstream=False)}
                raise DownstreamTasksSkipped(tasks=sorted(later | set(dbt_node_task_ids(dbt_index(runtime.settings)))))
        return True


def build_dag() -> DAG:
    """county_build: dbt into audit, then one gate-and-publish task per contract (parents first; a failed gate
    blocks only its dataset and those whose rules read it), then the catalog; runs when any raw asset changes."""
    from countyhub_dbt import OUTCOMES_KEY

    config = settings()
    outline = _outline(config)
    contracts = outline["contracts"]
    shared = [f"shared.{dataset}" for dataset, _ in contracts]
    loading = [code for code, streams in outline["departments"].items() if streams]
    assets, ingest_dags = [department_asset(code) for code in loading], [f"ingest_{code}" for code in loading]
    with DAG(
        dag_id="county_build",
        description="Build shared county datasets with dbt, gate each on its contract, publish, catalog",
        doc_md=BUILD_DOC,
        schedule=AssetAny(*assets) if assets else None,
        start_date=START,
        catchup=False,
        max_active_runs=1,  # one build at a time: a second waits rather than fighting over the lake
        default_args={**DEFAULTS, "owner": "dsj"},
        tags=["countyhub", "build"],
    ) as dag:
        @task(pool=LAKE_WRITES_POOL, execution_timeout=BUILD_TIMEOUT, on_failure_callback=record_failure_of(shared),
              inlets=assets, outlets=[lake_asset("audit", dataset) for dataset, _ in contracts])
        def build_models() -> dict[str, Any]:
            """One `dbt build` of what changed, except the models of departments that have not loaded once yet
            (their gates are skipped); pushes each node's outcome for the tasks of group `dbt`. When dbt had
            nothing to build and every dataset's rows are the version served, it is skipped, and with it every
            gate and dbt node task (the catalog is still registered)."""
            from airflow.sdk import get_current_context

            from countyhub.flow.build import DbtBuildError, node_outcomes
            from countyhub.flow.run import (
                build_changed,
                held_back_by,
                nothing_to_gate,
                plan_gates,
                unloaded_departments,
            )

            ti, rt = get_current_context()["ti"], task_runtime()
            missing = unloaded_departments(rt)
            try:
                result = build_changed(rt, missing)
            except DbtBuildError as exc:
                if exc.result is None:  # dbt could not start: a retry may get further
                    raise
                ti.xcom_push(key=OUTCOMES_KEY, value=node_outcomes(exc.result))
                if all(n.status == "fail" for n in exc.result.failed):  # tests judged the data: so would a retry
                    raise AirflowFailException(str(exc)) from exc
                raise
            held_back = held_back_by(rt, missing)
            planned = plan_gates(rt, held_back)  # prepared once here, not in each gate's process
            if result is None and nothing_to_gate(planned):
                raise AirflowSkipException("nothing changed since the last build: every shared dataset keeps the "
                                           "version served")
            ti.xcom_push(key=OUTCOMES_KEY, value=node_outcomes(result) if result else {})
            return {"built": [n.name for n in result.nodes] if result else [], "held_back": held_back,
                    "planned": {dataset: p.to_json() for dataset, p in planned.items()}}

        built = build_models()
        WaitForIngest(task_id="wait_for_ingest", ingest_dags=ingest_dags) >> built
        _dbt_node_tasks(config, built)
        gates: dict[str, Any] = {}
        for name, references in contracts:
            parents = [gates[p] for p in references if p in gates]

            @task(task_id=f"gate_{name}", pool=LAKE_WRITES_POOL, execution_timeout=GATE_TIMEOUT,
                  priority_weight=GATE_PRIORITY, weight_rule="absolute",
                  on_failure_callback=record_failure_of([f"shared.{name}"]),
                  inlets=[lake_asset("audit", name)], outlets=[lake_asset("shared", name)])
            def gate(build: dict[str, Any], parents: list[dict], dataset: str = name) -> dict:
                from airflow.sdk import get_current_context

                from countyhub.flow.run import gate_and_publish_dataset, planned_gate

                if dataset in build["held_back"]:  # the previous version stays; so do the datasets that read it
                    raise AirflowSkipException(f"shared.{dataset}: {build['held_back'][dataset]}")
                built = build["built"]
                republished = [p["dataset"].removeprefix("shared.") for p in parents if p["published_now"]]
                planned = planned_gate(build, dataset, get_current_context()["ti"].try_number)
                outcome = gate_and_publish_dataset(task_runtime(), dataset, built, republished, planned)
                if not outcome.gate_passed:  # the verdict will not change on a retry: fail now, keep the old version
                    raise AirflowFailException(f"shared.{dataset}: gate failed, the previous version stays: "
                                               f"{outcome.reason}")
                return outcome.__dict__

            gates[name] = gate(built, parents)

        @task(trigger_rule=TriggerRule.ALL_DONE, execution_timeout=CATALOG_TIMEOUT, priority_weight=GATE_PRIORITY,
              weight_rule="absolute")
        def register_catalog() -> int:
            from countyhub.flow.run import register_catalog as register

            return register(task_runtime())

        @task(execution_timeout=CATALOG_TIMEOUT, priority_weight=GATE_PRIORITY, weight_rule="absolute")
        def finish_build() -> None:
            """Every gate passed: the next build compares with this one (otherwise it rebuilds what this one did)."""
            from countyhub.flow.run import finish_build as finish

            finish(task_runtime())

        gated = list(gates.values())
        gated >> register_catalog()
        gated >> finish_build()
    return dag


def freshness_dag() -> DAG:
    """county_freshness, hourly: each shared dataset against its contract's latency SLA. A stale one shows on its
    catalog page and fails the run, so the Airflow UI shows it too."""
    with DAG(
        dag_id="county_freshness",
        description="Shared datasets against the latency SLA in their contracts",
        schedule="@hourly",
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args={"owner": "dsj", "retries": 0},
        tags=["countyhub", "freshness"],
    ) as dag:
        @task(execution_timeout=CATALOG_TIMEOUT)
        def check_freshness() -> list[dict]:
            from airflow.sdk import get_current_context

            from countyhub.flow.freshness import check_freshness as check
            from countyhub.flow.register import record_failure

            rt, run_id = task_runtime(), get_current_context()["run_id"]
            found = check(rt, pendulum.now("UTC"))
            stale = [f for f in found if f.stale]
            for f in stale:
                record_failure(rt, [f.dataset], "county_freshness.check_freshness", run_id, f"stale: {f.reason}")
            if stale:
                raise AirflowFailException("past their SLA: " + "; ".join(f"{f.dataset} ({f.reason})" for f in stale))
            return [{"dataset": f.dataset, "as_of": str(f.as_of)} for f in found]

        check_freshness()
    return dag
