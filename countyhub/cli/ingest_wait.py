"""county_build's wait for the departments' ingest runs, done in Airflow's triggerer instead of a worker's slot.

A build starts on the first department's fresh data and waits while another department's ingest run is queued or
running, so one build takes in the whole day's loads. As a sensor each look was a task start on a worker (a
process, a parse of the DAG file, calls to the api-server) every few seconds, on the CPU the loads it waits for
need. Deferred to this trigger (dags/countyhub_wiring.WaitForIngest), the looks are a few api-server calls from the
triggerer's event loop; a worker runs the task again once, when the wait is over. This module lives in the
installed package: the triggerer imports trigger classes without the DAGs folder on its path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

# What an ingest run is in while the build should wait for it.
BUSY_STATES = ["queued", "running"]


class IngestQuietTrigger(BaseTrigger):
    """Fires {"busy": []} once no run of `ingest_dags` is queued or running, or {"busy": [those still loading]}
    after `wait_seconds` (what was left of the wait when the task deferred; a restarted triggerer counts it again)."""

    def __init__(self, ingest_dags: list[str], wait_seconds: float, poke_seconds: float) -> None:
        super().__init__()
        self.ingest_dags, self.wait_seconds, self.poke_seconds = list(ingest_dags), wait_seconds, poke_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{__name__}.{type(self).__name__}", {
            "ingest_dags": self.ingest_dags, "wait_seconds": self.wait_seconds, "poke_seconds": self.poke_seconds}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
        from asgiref.sync import sync_to_async

        count = sync_to_async(RuntimeTaskInstance.get_dr_count)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            busy = [dag for dag in self.ingest_dags if await count(dag_id=dag, states=BUSY_STATES)]
            if not busy or time.monotonic() >= deadline:
                yield TriggerEvent({"busy": busy})
                return
            self.log.info("waiting for the ingest runs of %s", ", ".join(busy))
            await asyncio.sleep(self.poke_seconds)
