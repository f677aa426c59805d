"""The generated Airflow DAGs import cleanly and a department DAG really runs with dag.test()."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from countyhub.core.settings import PROJECT_DIR, Settings
from countyhub.demo import generate
from countyhub.lakehouse import Lake

pytestmark = pytest.mark.e2e
AIRFLOW = str(Path(sys.executable).parent / "airflow")
RUN_DAG = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("countyhub_dags", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
run = getattr(module, sys.argv[2]).test()
print("DAGRUN_STATE", run.state)
"""


@pytest.fixture
def airflow_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "dags"), "COUNTYHUB_HOME": str(settings.home)}
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
    return env


def test_dags_import_without_errors_and_one_per_department(airflow_env: dict[str, str]) -> None:
    subprocess.run([AIRFLOW, "dags", "reserialize"], env=airflow_env, check=True, capture_output=True)
    errors = subprocess.run([AIRFLOW, "dags", "list-import-errors", "-o", "plain"], env=airflow_env,
                            check=True, capture_output=True, text=True).stdout
    assert "countyhub_dags.py" not in errors and "Error" not in errors
    listed = subprocess.run([AIRFLOW, "dags", "list", "-o", "plain"], env=airflow_env, check=True,
                            capture_output=True, text=True).stdout
    for dag_id in ("ingest_gaj", "ingest_cgj", "ingest_mzj", "ingest_scjgj", "county_build"):
        assert dag_id in listed


def test_department_dag_runs_and_loads_the_raw_zone(settings: Settings, airflow_env: dict[str, str]) -> None:
    manifest = generate(settings.home, persons=300)
    done = subprocess.run([sys.executable, "-c", RUN_DAG, str(PROJECT_DIR / "dags" / "countyhub_dags.py"), "ingest_cgj"],
                          check=False, env=airflow_env, capture_output=True, text=True, timeout=300)
    assert "DAGRUN_STATE success" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    with Lake(settings).reader() as con:
        for stream in ("grids", "facilities", "cases"):
            assert con.execute(f"SELECT count(*) FROM raw_cgj.{stream}").fetchone()[0] == manifest.counts[f"cgj.{stream}"]
