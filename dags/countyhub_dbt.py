"""The build DAG's dbt models as tasks: astronomer-cosmos lays them out from dbt's manifest, each reports its node.

The build itself stays one `dbt build` in the build_models task (countyhub's lock, prepared project and change
plan). Each task here only reads what that build pushed for its node, so a per-model task costs no dbt start.
The layout is cosmos's TestBehavior.BUILD, what `dbt build` itself does: one task per model, seed and snapshot
stands for the node and the tests on it, and fails when dbt failed either, so the tasks of its children never run.
(AFTER_EACH's separate `test` task per tested model doubled the tasks each build queues, about 3 s of a worker's
time each, for no more information: the failed task's error names the failed tests.) A node the plan did not
select succeeds with "not rebuilt". `.airflowignore` keeps the DAG processor from parsing this file on its own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator, TaskGroup
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from airflow.task.trigger_rule import TriggerRule

from countyhub.flow.pools import DBT_REPORTS_POOL

# The XCom key under which build_models pushes countyhub.flow.build.node_outcomes of its dbt build.
OUTCOMES_KEY = "dbt_outcomes"
_FAILED = {"error", "fail", "runtime error"}


class DbtNodeOutcome(BaseOperator):
    """One dbt node and the tests on it (or a test of several models) as the build task's `dbt build` left it."""

    ui_color = "#e8f4f0"

    def __init__(self, *, unique_id: str, build_task_id: str, **kwargs: Any) -> None:
        # A retry would read the same outcome: only a new build changes it. A gate gets a free slot first, and
        # node tasks take only their pool's few slots, so the gates on the build's critical path keep the rest.
        super().__init__(retries=0, priority_weight=1, weight_rule="absolute", pool=DBT_REPORTS_POOL, **kwargs)
        self.unique_id, self.build_task_id = unique_id, build_task_id

    def execute(self, context: Any) -> str:
        outcomes = context["ti"].xcom_pull(task_ids=self.build_task_id, key=OUTCOMES_KEY)
        what = self.unique_id
        if outcomes is None:
            raise AirflowFailException(f"{self.build_task_id} reported no dbt results (it failed before dbt ran, "
                                       f"see its log): the state of {what} is unknown")
        tests = outcomes.get(f"{self.unique_id}:tests")
        if tests is not None and tests["status"] in _FAILED:
            raise AirflowFailException(f"tests on {what}: {tests['status']}: {tests['message']}")
        shown = outcomes.get(self.unique_id)
        if shown is None:
            self.log.info("%s: not rebuilt by this build (its inputs did not change, or a department it reads has "
                          "not loaded yet)", what)
            return "not rebuilt"
        status, message = shown["status"], shown["message"]
        if status in _FAILED:
            raise AirflowFailException(f"{what}: {status}: {message}")
        if status == "skipped":
            raise AirflowSkipException(f"{what}: skipped by dbt: {message}")
        self.log.info("%s: %s %s; tests on it: %s", what, status, message, tests["status"] if tests else "none run")
        return status


def readable_manifest(*candidates: Path) -> Path | None:
    """The first manifest that parses whole (dbt rewrites target/manifest.json in place while a build runs)."""
    for path in candidates:
        try:
            json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        return path
    return None


def file_key(path: Path) -> list:
    """What says a file changed, for the parse caches in the home: its path, size and modification time."""
    st = path.stat()
    return [str(path), st.st_size, st.st_mtime_ns]


def write_whole(path: Path, value: Any) -> None:
    """Write a parse cache as JSON, whole or not at all, whichever parse wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(value), encoding="utf-8")
    partial.replace(path)


def dbt_node_task(build_task: Any, task_id: str, index: Path) -> BaseOperator | None:
    """Only the task `task_id` of group `dbt`, from the index that the last whole layout wrote; None when the
    index does not know it or its manifest has changed since (then lay out the whole group)."""
    try:
        stored = json.loads(index.read_text(encoding="utf-8"))
        manifest = Path(stored["key"][0])
        unique_id = stored["tasks"][task_id] if stored["key"] == file_key(manifest) else None
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    if unique_id is None:
        return None
    with TaskGroup(group_id="dbt"):
        return DbtNodeOutcome(task_id=task_id.removeprefix("dbt."), unique_id=unique_id,
                              build_task_id=build_task.operator.task_id)


def dbt_node_tasks(manifest: Path, build_task: Any, index: Path | None = None) -> TaskGroup:
    """Group `dbt`: a task per model, seed and snapshot (with the tests on it), in the manifest's lineage,
    downstream of `build_task` (rendered from the manifest: no dbt runs while parsing). `index`: where to keep
    each task's node for dbt_node_task."""
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import DbtResourceType, ExecutionMode, LoadMode, TestBehavior

    def node(node: Any, task_id: str, task_group: TaskGroup, **_: Any) -> BaseOperator:
        return DbtNodeOutcome(task_id=task_id, task_group=task_group, unique_id=node.unique_id,
                              build_task_id=build_task.operator.task_id)

    group = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(manifest_path=manifest, project_name="countyhub"),
        # cosmos requires a profile and a project folder for LOCAL; no task here runs dbt, so neither is read.
        profile_config=ProfileConfig(profile_name="countyhub", target_name="lake",
                                     profiles_yml_filepath=Path(__file__).with_name("countyhub_dbt_profiles.yml")),
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL, dbt_project_path=manifest.parent),
        # Each task comes from the converter above (a test of several models, if cosmos detaches one, too).
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.BUILD,
            node_converters={DbtResourceType.MODEL: node, DbtResourceType.SEED: node,
                             DbtResourceType.SNAPSHOT: node, DbtResourceType.TEST: node}),
    )
    build_task >> group
    for root in group.get_roots():
        # The first nodes report even when the build failed (the tasks must show which node failed it), but not
        # when it was skipped: nothing was built.
        root.trigger_rule = TriggerRule.NONE_SKIPPED
    if index is not None:
        tasks = {t.task_id: t.unique_id for t in group.children.values() if isinstance(t, DbtNodeOutcome)}
        write_whole(index, {"key": file_key(manifest), "tasks": tasks})
    return group
