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
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator, TaskGroup
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from airflow.task.trigger_rule import TriggerRule
from airflow.triggers.base import StartTriggerArgs

from countyhub.cli.dbt_reports import OUTCOMES_KEY, DbtOutcomeTrigger, verdict

__all__ = ["OUTCOMES_KEY", "DbtNodeOutcome", "dbt_node_task", "dbt_node_task_ids", "dbt_node_tasks", "file_key",
           "readable_manifest", "write_whole"]


class DbtNodeOutcome(BaseOperator):
    """One dbt node and the tests on it (or a test of several models) as the build task's `dbt build` left it.

    Started from the triggerer: the scheduler hands it straight to the triggerer, which ends it with the verdict
    (countyhub.cli.dbt_reports); no worker runs it. `execute` gives the same verdict where no triggerer runs
    (dag.test())."""

    ui_color = "#e8f4f0"

    def __init__(self, *, unique_id: str, build_task_id: str, **kwargs: Any) -> None:
        # A retry would read the same outcome: only a new build changes it. No pool or priority: the scheduler
        # hands the task to the triggerer, never to a worker slot.
        super().__init__(retries=0, **kwargs)
        self.unique_id, self.build_task_id = unique_id, build_task_id
        self.start_from_trigger = True
        trigger_cls, trigger_kwargs = DbtOutcomeTrigger(unique_id, build_task_id).serialize()
        # The trigger answers at once; one that hangs (its XCom never answered) fails the task rather than the run
        # waiting for ever.
        self.start_trigger_args = StartTriggerArgs(trigger_cls=trigger_cls, trigger_kwargs=trigger_kwargs,
                                                   next_method="execute_complete", timeout=timedelta(minutes=5))

    def execute(self, context: Any) -> str:
        outcomes = context["ti"].xcom_pull(task_ids=self.build_task_id, key=OUTCOMES_KEY)
        found = verdict(outcomes, self.unique_id, self.build_task_id)
        if found.state == "failed":
            raise AirflowFailException(found.message)
        if found.state == "skipped":
            raise AirflowSkipException(found.message)
        self.log.info("%s", found.message)
        return found.shown

    def execute_complete(self, context: Any, event: Any = None) -> str:
        """The trigger ends the task itself; should an event ever come back to a worker, the verdict is read again."""
        return self.execute(context)


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


def _read_index(index: Path) -> dict[str, Any]:
    """What the last whole layout wrote to `index` ({"key": the manifest's file_key, "tasks": {task_id:
    unique_id}}), or {} when there is none to read."""
    try:
        stored = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stored if isinstance(stored, dict) else {}


def dbt_node_task(build_task: Any, task_id: str, index: Path) -> BaseOperator | None:
    """Only the task `task_id` of group `dbt`, from the index that the last whole layout wrote; None when the
    index does not know it or its manifest has changed since (then lay out the whole group)."""
    stored = _read_index(index)
    try:
        manifest = Path(stored["key"][0])
        unique_id = stored["tasks"][task_id] if stored["key"] == file_key(manifest) else None
    except (OSError, KeyError, IndexError, TypeError):
        return None
    if unique_id is None:
        return None
    with TaskGroup(group_id="dbt"):
        return DbtNodeOutcome(task_id=task_id.removeprefix("dbt."), unique_id=unique_id,
                              build_task_id=build_task.operator.task_id)


def dbt_node_task_ids(index: Path) -> list[str]:
    """Every task of group `dbt` as the last whole layout wrote them to `index` (none if it wrote none)."""
    tasks = _read_index(index).get("tasks")
    return sorted(tasks) if isinstance(tasks, dict) else []


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
