"""county_build's wait for the ingest runs, as Airflow's triggerer runs it."""

from __future__ import annotations

import asyncio
import sys
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest
import structlog
from airflow.sdk._shared.module_loading import import_string
from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

from countyhub.cli.ingest_wait import BUSY_STATES, IngestQuietTrigger
from countyhub.core.settings import PROJECT_DIR


class _Runs:
    """The api-server's answers to get_dr_count: per DAG, how many queued or running runs at each look."""

    def __init__(self, looks: dict[str, list[int]]) -> None:
        self.looks, self.asked = looks, []

    def __call__(self, *, dag_id: str, states: list[str]) -> int:
        self.asked.append((dag_id, states))
        counts = self.looks[dag_id]
        return counts.pop(0) if len(counts) > 1 else counts[0]


def _fired(monkeypatch: pytest.MonkeyPatch, runs: _Runs, wait_seconds: float) -> list[Any]:
    monkeypatch.setattr(RuntimeTaskInstance, "get_dr_count", staticmethod(runs))
    classpath, kwargs = IngestQuietTrigger(list(runs.looks), wait_seconds, 0).serialize()
    trigger = import_string(classpath)(**kwargs)  # as the triggerer builds it from the stored row

    async def collect() -> list[Any]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(collect())


def test_fires_once_no_ingest_run_is_queued_or_running(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = _Runs({"ingest_gaj": [1, 1, 0], "ingest_cgj": [1, 0]})
    assert _fired(monkeypatch, runs, wait_seconds=3600) == [{"busy": []}]
    # Three looks at gaj; cgj is asked each time too, and always for queued or running runs.
    assert [d for d, _ in runs.asked].count("ingest_gaj") == 3
    assert {tuple(states) for _, states in runs.asked} == {tuple(BUSY_STATES)} == {("queued", "running")}


def test_after_the_wait_fires_naming_the_departments_still_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = _Runs({"ingest_gaj": [0], "ingest_mzj": [1]})
    assert _fired(monkeypatch, runs, wait_seconds=0) == [{"busy": ["ingest_mzj"]}]


def test_no_ingest_dag_fires_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _fired(monkeypatch, _Runs({}), wait_seconds=3600) == [{"busy": []}]


class _Ingesting:
    """The task instance a worker gives WaitForIngest.execute, reduced to the call it makes."""

    dag_id, task_id, run_id, map_index = "county_build", "wait_for_ingest", "manual__1", -1

    def __init__(self, busy: set[str]) -> None:
        self.busy = busy

    def get_dr_count(self, *, dag_id: str, states: list[str]) -> int:
        return int(dag_id in self.busy)


def test_busy_ingest_defers_to_the_trigger_with_a_message_the_worker_can_send() -> None:
    """The worker sends the deferral to its supervisor msgpack-encoded; a pendulum Duration as the time-out could
    not be, which left the task running until the scheduler failed it and retried it a minute later."""
    sys.path.insert(0, str(PROJECT_DIR / "dags"))  # as Airflow does for the DAG files
    from airflow.sdk.exceptions import TaskDeferred
    from airflow.sdk.execution_time.comms import _RequestFrame
    from airflow.sdk.execution_time.task_runner import _defer_task
    from countyhub_wiring import WaitForIngest

    wait = WaitForIngest(task_id="wait_for_ingest", ingest_dags=["ingest_gaj", "ingest_mzj"])
    ti = _Ingesting(busy={"ingest_mzj"})
    context = {"ti": ti, "dag_run": SimpleNamespace(start_date=pendulum.now("UTC").subtract(minutes=10))}
    with pytest.raises(TaskDeferred) as deferred:
        wait.execute(context)
    trigger = deferred.value.trigger
    assert isinstance(trigger, IngestQuietTrigger) and trigger.ingest_dags == ["ingest_gaj", "ingest_mzj"]
    assert 49 * 60 < trigger.wait_seconds <= 50 * 60  # what is left of the hour since the run began
    msg, state = _defer_task(deferred.value, ti, structlog.get_logger("test"))
    assert state == "deferred" and msg.next_method == "execute_complete"
    assert len(_RequestFrame(id=1, body=msg.model_dump()).as_bytes()) > 4


def test_no_ingest_busy_goes_on_without_deferring() -> None:
    sys.path.insert(0, str(PROJECT_DIR / "dags"))
    from countyhub_wiring import WaitForIngest

    wait = WaitForIngest(task_id="wait_for_ingest", ingest_dags=["ingest_gaj"])
    context = {"ti": _Ingesting(busy=set()), "dag_run": SimpleNamespace(start_date=pendulum.now("UTC")),
               "triggering_asset_events": {}}  # triggered by hand: it always builds
    assert wait.execute(context) is True
