"""The generated Airflow DAG files: in step with departments/, a broken department file breaks only its own DAG,
the build DAG has a gate task per contract and a task per dbt node, and the DAGs really run with dag.test()."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from countyhub.cli.demo import demo_api
from countyhub.core.settings import PROJECT_DIR, Settings
from countyhub.demo import generate
from countyhub.flow.build import manifest_file
from countyhub.flow.run import ingest_all
from countyhub.flow.runtime import Runtime
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
print("TASK_STATES", __import__("json").dumps({ti.task_id: str(ti.state) for ti in run.get_task_instances()}))
"""
PARSE_BUILD = """
import importlib.util, json, sys
sys.path.insert(0, sys.argv[1])
spec = importlib.util.spec_from_file_location("dag_file", f"{sys.argv[1]}/county_build.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print("TASKS", json.dumps({t.task_id: getattr(t, "unique_id", None) for t in module.dag.tasks}))
"""
# A singular dbt test that fails on every row of stg_cgj__grids, a model with children.
FAILING_TEST = "select grid_code from {{ ref('stg_cgj__grids') }}\n"


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


def test_dags_import_without_errors_one_per_department_and_a_gate_per_contract(settings: Settings,
                                                                              airflow_env: dict[str, str]) -> None:
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
    assert not any(t.startswith("dbt.") for t in tasks), tasks  # no build yet, so no manifest: build_models alone

    # `countyhub dags layout` (docker-compose's airflow-init) parses the dbt project: from the next parse on, each
    # model is a task before any build ran; for the catalog and the freshness check the county is still unbuilt.
    models = {p.stem for p in (PROJECT_DIR / "dbt_project" / "models").rglob("*.sql")}
    done = subprocess.run([COUNTYHUB, "dags", "layout"], env=airflow_env, check=False, capture_output=True, text=True)
    assert done.returncode == 0 and f"{len(models)} dbt models laid out" in done.stdout, done.stdout + done.stderr
    tasks = _airflow(airflow_env, "tasks", "list", "county_build").split()
    assert {t.removeprefix("dbt.").removesuffix("_model_build") for t in tasks if t.endswith("_model_build")} == models
    assert not manifest_file(settings).exists()


def test_a_dbt_project_that_does_not_parse_is_one_error_line_naming_the_model(airflow_env: dict[str, str],
                                                                           tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "models" / "broken_ref.sql").write_text("select * from {{ ref('no_such_model') }}\n", encoding="utf-8")
    done = subprocess.run([COUNTYHUB, "dags", "layout"], env={**airflow_env, "COUNTYHUB_DBT_PROJECT_DIR": str(project)},
                          check=False, capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "dbt parse failed" in done.stdout and "broken_ref" in done.stdout and "no_such_model" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_a_broken_department_file_is_an_import_error_of_its_own_dag_only(airflow_env: dict[str, str],
                                                                          tmp_path: Path) -> None:
    departments, dags = tmp_path / "departments", tmp_path / "dags"
    shutil.copytree(PROJECT_DIR / "departments", departments)
    broken = departments / "mzj.yml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("schedule:", "schedule: [not, a, schedule]\n"
                                                                 "old_schedule:", 1), encoding="utf-8")
    dags.mkdir()
    # The wiring and what it needs; the DAG files themselves are written below for this folder.
    shutil.copytree(PROJECT_DIR / "dags", dags, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("ingest_*.py", "county_*.py", "__pycache__"))
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


def _run_dag(env: dict[str, str], dag_file: str) -> tuple[str, dict[str, str]]:
    """dag.test() of one DAG file in its own process: the run's state and each task's."""
    done = subprocess.run([sys.executable, "-c", RUN_DAG, str(PROJECT_DIR / "dags"), dag_file],
                          check=False, env=env, capture_output=True, text=True, timeout=900)
    lines = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in done.stdout.splitlines()
             if line.startswith(("DAGRUN_STATE ", "TASK_STATES "))}
    assert "TASK_STATES" in lines, done.stdout[-3000:] + done.stderr[-3000:]
    return lines["DAGRUN_STATE"], json.loads(lines["TASK_STATES"])


def _parsed_for(env: dict[str, str], task_id: str | None) -> dict[str, str | None]:
    """county_build's tasks (with each dbt node task's node) as a worker parsing the file to run `task_id` sees
    them (Airflow names the task in these variables), or as the dag-processor does (None)."""
    named = {"_AIRFLOW_PARSING_CONTEXT_DAG_ID": "county_build", "_AIRFLOW_PARSING_CONTEXT_TASK_ID": task_id}
    done = subprocess.run([sys.executable, "-c", PARSE_BUILD, str(PROJECT_DIR / "dags")], check=True,
                          env={**env, **(named if task_id else {})}, capture_output=True, text=True, timeout=300)
    line = next(line for line in done.stdout.splitlines() if line.startswith("TASKS "))
    return json.loads(line.removeprefix("TASKS "))


def _descendants(manifest: dict, unique_id: str) -> set[str]:
    found, todo = set(), [unique_id]
    while todo:
        for child in manifest["child_map"].get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def test_build_dag_shows_each_dbt_node_as_a_task_and_a_failed_test_blocks_the_children(
        settings: Settings, airflow_env: dict[str, str], tmp_path: Path) -> None:
    generate(settings.home, persons=300)
    with demo_api(Runtime(settings, os.environ)) as runtime:  # every department, the one behind an API included
        ingest_all(runtime)
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "tests").mkdir(exist_ok=True)
    (project / "tests" / "every_grid_fails.sql").write_text(FAILING_TEST, encoding="utf-8")
    env = {**airflow_env, "COUNTYHUB_DBT_PROJECT_DIR": str(project)}

    # A new deployment: no manifest yet, so the build is the one build_models task; the failed test fails it.
    state, tasks = _run_dag(env, "county_build")
    assert state == "failed" and tasks["build_models"] == "failed"
    assert not any(t.startswith("dbt.") for t in tasks), tasks

    # Its build wrote a manifest: now each node is a task, reporting what the one dbt build did to it.
    manifest = json.loads(manifest_file(settings).read_text(encoding="utf-8"))
    state, tasks = _run_dag(env, "county_build")
    assert state == "failed" and tasks["build_models"] == "failed"
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    named = {t.removeprefix("dbt.").removesuffix("_model_build") for t in tasks if t.startswith("dbt.")}
    assert models <= named, models - named
    assert tasks["dbt.stg_cgj__grids_model_build"] == "failed"  # dbt built the model, then its test failed
    below = {manifest["nodes"][uid]["name"] for uid in _descendants(manifest, "model.countyhub.stg_cgj__grids")
             if uid.startswith("model.")}
    assert {"urban_grids", "int_townships_unioned"} <= below
    for task, task_state in tasks.items():
        if not task.startswith("dbt.") or task == "dbt.stg_cgj__grids_model_build":
            continue
        blocked = task.removeprefix("dbt.").removesuffix("_model_build") in below
        assert task_state == ("upstream_failed" if blocked else "success"), (task, task_state)
    assert all(tasks[t] == "upstream_failed" for t in tasks if t.startswith("gate_")), tasks

    # A worker parsing the file to run one task lays out only what that task needs, and the same as a whole parse.
    whole = _parsed_for(env, None)
    nodes = {t: uid for t, uid in whole.items() if t.startswith("dbt.")}
    assert nodes["dbt.stg_cgj__grids_model_build"] == "model.countyhub.stg_cgj__grids"
    assert set(_parsed_for(env, "gate_urban_grids")) == set(whole) - set(nodes)  # a gate: no dbt node task
    for task in ("dbt.stg_cgj__grids_model_build", next(t for t in nodes if t.endswith("_seed_build"))):
        alone = _parsed_for(env, task)
        assert {t: uid for t, uid in alone.items() if t.startswith("dbt.")} == {task: nodes[task]}
    # A build rewrote the manifest since the whole layout: the node's task comes from a whole layout again.
    os.utime(manifest_file(settings), ns=(0, 0))
    assert set(_parsed_for(env, "dbt.stg_cgj__grids_model_build")) == set(whole)
