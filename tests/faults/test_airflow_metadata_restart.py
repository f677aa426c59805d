"""The county's PostgreSQL restarted under a running Airflow: its metadata, the lake's catalog and the catalog store
(docker-compose.yml's one `postgres`) go away mid-load and again mid-build. Airflow's services come back by the
compose file's restart policy, the interrupted tasks retry, and the day's runs end with every row loaded once and
every shared dataset served. A private PostgreSQL 15, never the shared server."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest

from countyhub.core.settings import load_settings
from countyhub.demo import EnterpriseApi, generate
from countyhub.lakehouse import Lake
from tests.cluster import INGEST_DAGS, Cluster, raw_counts
from tests.faults.catalog_restart import PrivatePostgres, can_run_postgres

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not can_run_postgres(), reason="needs PostgreSQL 15's binaries and a postgres user")]


def _when_running(cluster: Cluster, dag_id: str, task_prefix: str, timeout: float = 600) -> str:
    """Wait until a task of the DAG whose id starts with the prefix runs; returns its id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cluster.check_alive()
        running = cluster.rows("SELECT task_id FROM task_instance WHERE dag_id = :d AND state = 'running' "
                               "AND task_id LIKE :p", d=dag_id, p=f"{task_prefix}%")
        if running:
            return running[0].task_id
        time.sleep(0.3)
    raise TimeoutError(f"no {dag_id}.{task_prefix}* ran within {timeout:.0f} s:\n{cluster.unfinished()}")


def test_the_county_postgresql_restarted_mid_load_and_mid_build_loses_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    counts = generate(home, persons=600).counts
    server = PrivatePostgres()
    token = secrets.token_urlsafe(16)
    try:
        with EnterpriseApi(home / "demo" / "scjgj_enterprises.json", port=0, token=token) as api, \
                Cluster(home, postgres=f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/postgres",
                        extra_env={"SCJGJ_API_URL": api.url, "SCJGJ_API_TOKEN": token}) as cluster:
            cluster.wait_for_dags([*INGEST_DAGS, "county_build"])
            cluster.unpause("county_build", *INGEST_DAGS)
            hit = [f"ingest_cgj.{_when_running(cluster, 'ingest_cgj', 'load_')}"]
            server.restart()
            hit.append(f"county_build.{_when_running(cluster, 'county_build', 'build_models')}")
            server.restart()
            runs = cluster.wait_until_idle([*INGEST_DAGS, "county_build"], timeout=1800)
            failed = {dag: states for dag, states in runs.items() if set(states) != {"success"}}
            assert not failed, (hit, failed, cluster.restarts, {d: cluster.task_states(d) for d in failed})
            lake = Lake(load_settings(environ=cluster.env))
            assert raw_counts(lake, counts) == counts, hit  # every source row, once
            with lake.reader() as con:
                for dataset in ("resident_profile", "urban_cases", "enterprise_registry", "household"):
                    assert con.execute(f"SELECT count(*) FROM shared.{dataset}").fetchone()[0] > 0, dataset
            retried = cluster.rows("SELECT dag_id, task_id, try_number FROM task_instance WHERE try_number > 1")
            print(f"restarted during {hit}; services started again: {cluster.restarts or 'none'}; "
                  f"tasks tried again: {[f'{r.dag_id}.{r.task_id} x{r.try_number}' for r in retried] or 'none'}")
    finally:
        server.stop()
