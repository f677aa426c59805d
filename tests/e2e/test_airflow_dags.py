"""The generated Airflow DAG files: in step with departments/, a broken department file breaks only its own DAG,
the build DAG has a gate task per contract, and a department DAG really runs with dag.test()."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from countyhub.core.settings import PROJECT_DIR, Settings
from countyhub.demo import generate
from countyhub.lakehouse import Lake

pytestmark = pytest.mark.e2e
AIRFLOW = str(Path(sys.executable).parent / "airflow")
COUNTYHUB = str(Path(sys.executable).parent / "countyhub")
RUN_DAG = """
import importlib.util, sys
sys.path.insert(0, sys.argv[1])  # Airflow puts the DAGs folder on sys.path: the DAG files import the wiring from it
spec = importlib.util.spec_from_file_location("dag_file", f"{sys.argv[1]}/{sys.argv[2]}.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
run = module.dag.test()
print("DAGRUN_STATE", run.state)
"""


def _airflow(env: dict[str, str], *args: str, check: bool = True) -> str:
    return subprocess.run([AIRFLOW, *args], env=env, check=check, capture_output=True, text=True).stdout


@pytest.fixture
def airflow_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "dags"), "COUNTYHUB_HOME": str(settings.home)}
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
    return env


def test_dag_files_are_in_step_with_the_department_files() -> None:
    done = subprocess.run([COUNTYHUB, "dags", "write", "--check"], check=False, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dags_import_without_errors_one_per_department_and_a_gate_per_contract(airflow_env: dict[str, str]) -> None:
    _airflow(airflow_env, "dags", "reserialize")
    errors = _airflow(airflow_env, "dags", "list-import-errors", "-o", "plain")
    assert "No data found" in errors and "dags/" not in errors, errors
    listed = _airflow(airflow_env, "dags", "list", "-o", "plain")
    for dag_id in ("ingest_gaj", "ingest_cgj", "ingest_mzj", "ingest_scjgj", "county_build", "county_freshness"):
        assert dag_id in listed
    tasks = _airflow(airflow_env, "tasks", "list", "county_build").split()
    contracts = sorted(p.name.removesuffix(".odcs.yaml") for p in (PROJECT_DIR / "contracts").rglob("*.odcs.yaml"))
    assert sorted(t.removeprefix("gate_") for t in tasks if t.startswith("gate_")) == contracts
    assert {"build_models", "register_catalog", "finish_build"} <= set(tasks)


def test_a_broken_department_file_is_an_import_error_of_its_own_dag_only(airflow_env: dict[str, str],
                                                                          tmp_path: Path) -> None:
    departments, dags = tmp_path / "departments", tmp_path / "dags"
    shutil.copytree(PROJECT_DIR / "departments", departments)
    broken = departments / "mzj.yml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("schedule:", "schedule: [not, a, schedule]\n"
                                                                 "old_schedule:", 1), encoding="utf-8")
    dags.mkdir()
    for name in ("countyhub_wiring.py", ".airflowignore"):
        shutil.copy(PROJECT_DIR / "dags" / name, dags / name)
    env = {**airflow_env, "AIRFLOW__CORE__DAGS_FOLDER": str(dags), "COUNTYHUB_DEPARTMENTS_DIR": str(departments)}
    subprocess.run([COUNTYHUB, "dags", "write", "--dags-dir", str(dags)], env=env, check=True, capture_output=True)
    assert (dags / "ingest_mzj.py").is_file()  # the broken department still has its file, to carry its error

    _airflow(env, "dags", "reserialize")
    errors = _airflow(env, "dags", "list-import-errors", "-o", "plain", check=False)  # exit 1: there are errors
    assert "ingest_mzj.py" in errors and "mzj.yml" in errors, errors
    assert not any(f"ingest_{code}.py" in errors for code in ("gaj", "cgj", "rsj", "scjgj")), errors
    listed = _airflow(env, "dags", "list", "-o", "plain")
    assert "ingest_mzj" not in listed
    for dag_id in ("ingest_gaj", "ingest_cgj", "ingest_rsj", "county_build"):
        assert dag_id in listed


def test_department_dag_runs_loads_the_raw_zone_and_reports_lineage(settings: Settings, airflow_env: dict[str, str],
                                                                    tmp_path: Path) -> None:
    manifest = generate(settings.home, persons=300)
    events = tmp_path / "openlineage.jsonl"
    env = {**airflow_env, "AIRFLOW__OPENLINEAGE__NAMESPACE": "countyhub",
           "AIRFLOW__OPENLINEAGE__EXTRACTORS": "countyhub.cli.lineage.LakeAssets",
           "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({"type": "file", "log_file_path": str(events), "append": True})}
    done = subprocess.run([sys.executable, "-c", RUN_DAG, str(PROJECT_DIR / "dags"), "ingest_cgj"],
                          check=False, env=env, capture_output=True, text=True, timeout=300)
    assert "DAGRUN_STATE success" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    with Lake(settings).reader() as con:
        for stream in ("grids", "facilities", "cases"):
            assert con.execute(f"SELECT count(*) FROM raw_cgj.{stream}").fetchone()[0] == manifest.counts[f"cgj.{stream}"]
    # Every load started and completed as an OpenLineage run whose output is the raw table it refreshed.
    seen = {}
    for line in events.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["job"]["name"].startswith("ingest_cgj.load_"):
            seen.setdefault(event["job"]["name"], []).append(
                (event["eventType"], [(o["namespace"], o["name"]) for o in event.get("outputs", [])]))
    for stream in ("grids", "facilities", "cases"):
        kinds = dict(seen[f"ingest_cgj.load_{stream}"])
        assert set(kinds) == {"START", "COMPLETE"}, seen
        assert kinds["COMPLETE"] == [("countyhub://lake", f"raw_cgj.{stream}")]
