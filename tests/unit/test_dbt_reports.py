"""A dbt node task's verdict, and the trigger that ends the task with it from Airflow's triggerer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from airflow.sdk._shared.module_loading import import_string
from airflow.triggers.base import TaskFailedEvent, TaskSkippedEvent, TaskSuccessEvent

from countyhub.cli.dbt_reports import OUTCOMES_KEY, DbtOutcomeTrigger, verdict

GRIDS = "model.countyhub.stg_cgj__grids"
BUILD = {
    GRIDS: {"status": "success", "message": "OK"},
    f"{GRIDS}:tests": {"status": "fail", "message": "not_null_stg_cgj__grids_grid_code: Got 3 results"},
    "model.countyhub.urban_grids": {"status": "skipped", "message": "an upstream node failed"},
    "seed.countyhub.townships": {"status": "success", "message": "INSERT 42"},
    "model.countyhub.stg_cgj__cases": {"status": "error", "message": "Binder Error: column x not found"},
}


@pytest.mark.parametrize(("unique_id", "state", "words"), [
    (GRIDS, "failed", "tests on model.countyhub.stg_cgj__grids: fail: not_null_stg_cgj__grids_grid_code"),
    ("model.countyhub.urban_grids", "skipped", "skipped by dbt: an upstream node failed"),
    ("seed.countyhub.townships", "success", "INSERT 42; tests on it: none run"),
    ("model.countyhub.stg_cgj__cases", "failed", "error: Binder Error"),
    ("model.countyhub.household", "success", "not rebuilt by this build"),
])
def test_verdict_of_each_kind_of_outcome(unique_id: str, state: str, words: str) -> None:
    found = verdict(BUILD, unique_id, "build_models")
    assert (found.state, words in found.message) == (state, True), found


def test_a_success_names_dbt_status_or_not_rebuilt() -> None:
    assert verdict(BUILD, "seed.countyhub.townships", "build_models").shown == "success"
    assert verdict(BUILD, "model.countyhub.household", "build_models").shown == "not rebuilt"


def test_no_outcomes_pushed_fails_the_node_naming_the_build_task() -> None:
    found = verdict(None, GRIDS, "build_models")
    assert found.state == "failed" and "build_models reported no dbt results" in found.message


class _Pushed:
    """What the triggerer gives the trigger as its task instance, reduced to the one call the trigger makes."""

    task_id = "dbt.stg_cgj__grids_model_build"

    def __init__(self, value: Any) -> None:
        self.value, self.asked = value, []

    def xcom_pull(self, *, task_ids: str, key: str, map_indexes: int | None = None) -> Any:
        self.asked.append((task_ids, key, map_indexes))
        return self.value


def _events(unique_id: str, pushed: Any) -> tuple[list[Any], list[tuple[str, str, int | None]]]:
    classpath, kwargs = DbtOutcomeTrigger(unique_id, "build_models").serialize()
    trigger = import_string(classpath)(**kwargs)  # as the triggerer builds it from the stored row
    ti = _Pushed(pushed)
    trigger.task_instance = ti

    async def collect() -> list[Any]:
        return [event async for event in trigger.run()]

    return asyncio.run(collect()), ti.asked


@pytest.mark.parametrize(("unique_id", "pushed", "event"), [
    (GRIDS, BUILD, TaskFailedEvent),
    ("model.countyhub.urban_grids", BUILD, TaskSkippedEvent),
    ("seed.countyhub.townships", BUILD, TaskSuccessEvent),
    ("model.countyhub.household", BUILD, TaskSuccessEvent),
    (GRIDS, None, TaskFailedEvent),
])
def test_the_trigger_ends_the_task_with_its_verdict(unique_id: str, pushed: Any, event: type) -> None:
    events, asked = _events(unique_id, pushed)
    assert [type(e) for e in events] == [event]
    assert asked == [("build_models", OUTCOMES_KEY, -1)]  # one XCom: the triggerer answers no sequence request
