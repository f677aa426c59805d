"""A dbt node task's verdict on build_models' one `dbt build`, and the trigger that gives it without a worker.

Group `dbt` of county_build has a task per dbt model, seed and snapshot (dags/countyhub_dbt.py); each only looks up
what build_models pushed for its node. On a worker that lookup costs a process, a parse of the DAG file and a few
calls to the api-server, for each of the county's 53 nodes, on the CPU the gates need. Started from the triggerer
(Airflow's start_from_trigger) it runs in the triggerer's event loop and ends the task there. This module lives in
the installed package: the triggerer imports trigger classes without the DAGs folder on its path. dag.test() runs
no triggerer; there the task's execute gives the same verdict.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from airflow.triggers.base import BaseTrigger, TaskFailedEvent, TaskSkippedEvent, TaskSuccessEvent, TriggerEvent

# The XCom key under which build_models pushes countyhub.flow.build.node_outcomes of its dbt build.
OUTCOMES_KEY = "dbt_outcomes"
_FAILED = {"error", "fail", "runtime error"}


@dataclass(frozen=True)
class Verdict:
    state: str  # "success", "failed" or "skipped": the task's end
    message: str  # for the task's log, or its error
    shown: str = ""  # a success's word for the node: dbt's status, or "not rebuilt"


def verdict(outcomes: Mapping[str, Any] | None, unique_id: str, build_task_id: str) -> Verdict:
    """What the build's outcomes say of one node and the tests on it (None: the build pushed nothing)."""
    if outcomes is None:
        return Verdict("failed", f"{build_task_id} reported no dbt results (it failed before dbt ran, see its log): "
                                 f"the state of {unique_id} is unknown")
    tests = outcomes.get(f"{unique_id}:tests")
    if tests is not None and tests["status"] in _FAILED:
        return Verdict("failed", f"tests on {unique_id}: {tests['status']}: {tests['message']}")
    shown = outcomes.get(unique_id)
    if shown is None:
        return Verdict("success", f"{unique_id}: not rebuilt by this build (its inputs did not change, or a "
                                  "department it reads has not loaded yet)", "not rebuilt")
    status, message = shown["status"], shown["message"]
    if status in _FAILED:
        return Verdict("failed", f"{unique_id}: {status}: {message}")
    if status == "skipped":
        return Verdict("skipped", f"{unique_id}: skipped by dbt: {message}")
    return Verdict("success", f"{unique_id}: {status} {message}; tests on it: {tests['status'] if tests else 'none run'}",
                   status)


class DbtOutcomeTrigger(BaseTrigger):
    """Ends a dbt node task from the triggerer with its verdict (the task never reaches a worker)."""

    def __init__(self, unique_id: str, build_task_id: str) -> None:
        super().__init__()
        self.unique_id, self.build_task_id = unique_id, build_task_id

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{__name__}.{type(self).__name__}", {"unique_id": self.unique_id, "build_task_id": self.build_task_id}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from asgiref.sync import sync_to_async

        # The triggerer gives a task started from it the task's runtime instance; the triggerer answers only a
        # request for one XCom (map_indexes given), not the sequence a bare xcom_pull asks for.
        ti = self.task_instance
        outcomes = await sync_to_async(ti.xcom_pull)(task_ids=self.build_task_id, key=OUTCOMES_KEY, map_indexes=-1)
        found = verdict(outcomes, self.unique_id, self.build_task_id)
        if found.state == "failed":
            self.log.error("%s", found.message)
            yield TaskFailedEvent()
        elif found.state == "skipped":
            self.log.info("%s", found.message)
            yield TaskSkippedEvent()
        else:
            self.log.info("%s", found.message)
            yield TaskSuccessEvent()
