"""The county's flow on a real Airflow: api-server, scheduler, dag-processor and two Celery workers (Redis broker,
metadata in PostgreSQL), DuckLake and the catalog in PostgreSQL, lake data in an object store — docker-compose.yml's
settings, on this machine."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import pytest

from countyhub.core.settings import PROJECT_DIR, load_settings
from countyhub.demo import EnterpriseApi, generate, next_day
from countyhub.lakehouse import Lake
from countyhub.testing_servers import ObjectStore
from tests.cluster import INGEST_DAGS, SERVICES, Cluster, compose_command, compose_environment, compose_spec, raw_counts

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_the_cluster_runs_exactly_the_compose_files_settings(tmp_path: Path) -> None:
    """The settings the cluster test runs with are docker-compose.yml's, and compose runs what the test starts."""
    cluster = Cluster(tmp_path, store=ObjectStore(endpoint_url="http://127.0.0.1:9", bucket="b"))
    cluster.api_port = 18080
    values = cluster.values()
    env = compose_environment(values)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith(f"@127.0.0.1:5432/{cluster.databases[0]}")
    assert env["AIRFLOW__CELERY__BROKER_URL"] == f"redis://127.0.0.1:6379/{cluster.redis_db}"
    assert env["COUNTYHUB_LAKE_METADATA"].startswith(f"postgres:dbname={cluster.databases[1]} host=127.0.0.1")
    assert env["COUNTYHUB_LAKE_DATA"] == "s3://b/" and env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert env["COUNTYHUB_CATALOG_URL"].endswith(f"@127.0.0.1:5432/{cluster.databases[2]}")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    # With no values, the same file names the compose services: nothing in it points at this machine.
    default = compose_environment({})
    assert "127.0.0.1" not in " ".join(default.values())
    assert default["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    spec = compose_spec()
    assert set(SERVICES) <= set(spec["services"]) and spec["services"]["airflow-worker"]["deploy"]["replicas"] == 2
    assert compose_command("airflow-api", values)[:3] == ["airflow", "api-server", "--port"]
    # A service that exits is started again, by Compose and by the cluster alike; the one-off steps are not.
    assert {spec["services"][s].get("restart") for s in SERVICES} == {"unless-stopped"}
    assert spec["services"]["airflow-init"]["restart"] == "no"
    # Workers import the task code before forking (countyhub.cli.airflow_worker).
    assert env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] == "countyhub.cli.airflow_worker.CELERY_CONFIG"
    assert "airflow pools import" in compose_command("airflow-init", values)[-1]
    # county_build has its dbt node tasks from the first parse: the dag-processor parses again only every 5 minutes.
    assert "countyhub dags layout" in compose_command("airflow-init", values)[-1]
    assert env["AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL"] == "300"
    # ... and it imports astronomer-cosmos once, before forking a process per parse.
    assert compose_command("airflow-dag-processor", values) == ["python", "-m", "countyhub.cli.airflow_dag_processor"]


@pytest.fixture
def demo_county(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    home = tmp_path / "home"
    return home, generate(home, persons=600).counts  # at 300 persons no talent is registered: a gate fails


def test_the_flow_runs_on_a_scheduler_with_two_celery_workers(demo_county: tuple[Path, dict[str, int]],
                                                              object_store: ObjectStore) -> None:
    home, counts = demo_county
    token = secrets.token_urlsafe(16)
    with EnterpriseApi(home / "demo" / "scjgj_enterprises.json", port=0, token=token) as api, \
            Cluster(home, store=object_store, extra_env={"SCJGJ_API_URL": api.url, "SCJGJ_API_TOKEN": token}) as cluster:
        cluster.wait_for_dags([*INGEST_DAGS, "county_build"])
        assert "county_build's parse imports preloaded" in cluster.log("airflow-dag-processor")
        cluster.unpause("county_build", *INGEST_DAGS)
        runs = cluster.wait_until_idle([*INGEST_DAGS, "county_build"])
        failed = {dag: states for dag, states in runs.items() if set(states) != {"success"}}
        assert not failed, (failed, {d: cluster.task_states(d) for d in failed})
        # wait_for_ingest waited for the loads in the triggerer and went on at its first try (a deferral the
        # worker could not send leaves the task to be failed and retried a minute later).
        waits = cluster.rows("SELECT try_number, state FROM task_instance WHERE task_id = 'wait_for_ingest'")
        assert waits and {(w.try_number, w.state) for w in waits} == {(1, "success")}, waits
        lake = Lake(load_settings(environ=cluster.env))
        assert not lake.settings.lake_is_embedded
        assert raw_counts(lake, counts) == counts  # every source row, once
        # county_build's dbt node tasks start from the triggerer and end there: each reported, none ever queued for
        # a worker.
        reports = cluster.rows("SELECT task_id, state, queued_dttm FROM task_instance WHERE dag_id = 'county_build' "
                               "AND task_id LIKE 'dbt.%'")
        assert any(r.state == "success" for r in reports), reports
        assert [r.task_id for r in reports if r.queued_dttm is not None or r.state not in ("success", "skipped")] == []

        # A department's asset event with no load behind it (as when a load that committed while the last run
        # waited for ingest starts one more run): the build has nothing new, so that run skips every task after
        # wait_for_ingest, the catalog's too.
        builds = len(runs["county_build"])
        asset = cluster.rows("SELECT id FROM asset WHERE uri = 'countyhub://lake/raw_cgj'")[0].id
        cluster.api("POST", "/assets/events", asset_id=asset)
        deadline = time.monotonic() + 120
        while len(cluster.rows("SELECT id FROM dag_run WHERE dag_id = 'county_build'")) == builds:
            assert time.monotonic() < deadline, "the asset event started no county_build run"
            time.sleep(1)
        runs = cluster.wait_until_idle([*INGEST_DAGS, "county_build"])
        assert runs["county_build"][-1] == "success", runs
        last = {t.task_id: t.state for t in cluster.rows(
            "SELECT task_id, state FROM task_instance WHERE run_id = (SELECT run_id FROM dag_run "
            "WHERE dag_id = 'county_build' ORDER BY id DESC LIMIT 1) AND dag_id = 'county_build'")}
        assert last.pop("wait_for_ingest") == "success"
        assert {"build_models", "register_catalog", "finish_build", "gate_household"} <= set(last), sorted(last)
        assert set(last.values()) == {"skipped"}, last

        # A Celery worker dies (SIGKILL to it, its pool and the task) in the middle of a dbt build that has a day's
        # changes to build: the scheduler notices the task stopped heartbeating, the other worker runs it again.
        next_day(home)
        for dag in INGEST_DAGS:
            cluster.trigger(dag)
        killed = cluster.kill_worker_running("county_build", "build_models")
        runs = cluster.wait_until_idle([*INGEST_DAGS, "county_build"])
        failed = {dag: states for dag, states in runs.items() if set(states) != {"success"}}
        assert not failed, (failed, {d: cluster.task_states(d) for d in failed})
        builds = [t for t in cluster.task_states("county_build") if t.task_id == "build_models"]
        assert max(t.try_number for t in builds) >= 2, builds  # the killed try was retried
        # Both workers took tasks: the scheduler really spread the flow over them.
        for n in (1, 2):
            assert "execute_workload" in cluster.log(f"airflow-worker-{n}"), cluster.log(f"airflow-worker-{n}")[-2000:]
        survivor = next(name for name in cluster.processes if name.startswith("airflow-worker"))
        assert survivor != killed
        # OpenLineage (docker-compose.yml's file transport): every load and every build task completed as a run
        # whose outputs are the lake tables it wrote.
        completed = {}
        for line in (home / "openlineage.jsonl").read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event["eventType"] == "COMPLETE":
                completed[event["job"]["name"]] = {o["name"] for o in event.get("outputs", [])}
        for dag in [*INGEST_DAGS, "county_build"]:
            for t in cluster.task_states(dag):
                if t.state == "success" and t.task_id.startswith(("load_", "gate_", "build_models")):
                    assert f"{dag}.{t.task_id}" in completed, (dag, t.task_id, sorted(completed))
        assert completed["ingest_cgj.load_cases"] == {"raw_cgj.cases"}
        assert completed["county_build.gate_urban_cases"] == {"shared.urban_cases"}

        # Two runs of the same DAG at once: they take turns (max_active_runs=1) and load nothing twice.
        before = raw_counts(lake, counts)
        for _ in range(2):
            cluster.trigger("ingest_cgj")
        runs = cluster.wait_until_idle([*INGEST_DAGS, "county_build"])
        # The cluster schedules each ingest DAG "@once": the run at unpause, the next day's and these two.
        assert runs["ingest_cgj"] == ["success"] * 4, runs
        gates = [t for t in cluster.task_states("county_build") if t.task_id.startswith("gate_")]
        assert len({g.task_id for g in gates}) == len(list((PROJECT_DIR / "contracts").rglob("*.odcs.yaml")))
        assert raw_counts(lake, counts) == before
        with lake.reader() as con:  # before the cluster drops its databases
            for dataset in ("resident_profile", "urban_cases", "enterprise_registry", "household"):
                assert con.execute(f"SELECT count(*) FROM shared.{dataset}").fetchone()[0] > 0, dataset
        assert not cluster.restarts, cluster.restarts  # no service exited (the killed worker is not restarted)
        contracts = len(list((PROJECT_DIR / "contracts").glob("*/*.odcs.yaml")))
        assert f"({contracts} contracts compiled)" in cluster.log(survivor), cluster.log(survivor)[-2000:]
    # The lake's files are objects in the store, none on this machine's disk.
    assert any(key.endswith(".parquet") for key in object_store.object_keys(""))
    assert not list(home.rglob("*.parquet"))