"""Airflow's Celery workers keep each task's state in the county's PostgreSQL (the result backend): with
countyhub's worker settings a write that meets that PostgreSQL restarting waits for it, where Airflow's own settings
fail the write and the worker drops the task it was about to start. A private PostgreSQL 15, never the shared one."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from celery import Celery, states

from tests.faults.catalog_restart import PrivatePostgres, can_run_postgres

pytestmark = pytest.mark.skipif(not can_run_postgres(), reason="needs PostgreSQL 15's binaries and a postgres user")


@pytest.fixture
def server() -> Any:
    server = PrivatePostgres()
    yield server
    server.stop()


def _results(config: dict[str, Any], server: PrivatePostgres) -> Any:
    """The result backend a worker with these settings writes to, on the private server."""
    app = Celery("countyhub-results-test")
    app.config_from_object({**config, "result_backend": f"db+postgresql+psycopg://postgres@127.0.0.1:{server.port}/postgres"})
    backend = app.backend
    backend.store_result(f"warm-{uuid.uuid4()}", None, states.STARTED)  # its tables exist before the restart
    return backend


def _down_for(server: PrivatePostgres, seconds: float) -> threading.Thread:
    """Stop the server now and start it again after `seconds`, in the background."""
    server.pg_ctl("stop", "-m", "fast")
    back = threading.Timer(seconds, server.pg_ctl, args=("start",))
    back.start()
    return back


def test_a_worker_with_countyhubs_settings_waits_for_its_result_database(server: PrivatePostgres) -> None:
    from countyhub.cli.airflow_worker import CELERY_CONFIG

    backend = _results(CELERY_CONFIG, server)
    task_id = str(uuid.uuid4())
    back = _down_for(server, 4)
    backend.store_result(task_id, None, states.STARTED)  # the worker marking the task started, as Airflow's does
    back.join()
    with server.engine.connect() as con:
        stored = con.execute(sa.text("SELECT status FROM celery_taskmeta WHERE task_id = :t"), {"t": task_id}).all()
    assert stored == [(states.STARTED,)]


def test_with_airflows_own_settings_that_write_fails(server: PrivatePostgres) -> None:
    from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

    backend = _results(DEFAULT_CELERY_CONFIG, server)
    back = _down_for(server, 4)
    try:
        with pytest.raises(sa.exc.OperationalError):
            backend.store_result(str(uuid.uuid4()), None, states.STARTED)
    finally:
        back.join()
