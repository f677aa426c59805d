"""Celery settings for countyhub's Airflow workers: Airflow's own, results that wait out a restart, preloaded code.

Airflow's Celery worker forks its pool processes from itself and every task from a pool process, so what the worker
imported before that, each task has for free. countyhub's flow (Great Expectations, the contracts, DuckDB, dbt's
layout by cosmos) costs seconds to import, which every gate, build and dbt node task would otherwise pay again.
Turned on by AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=countyhub.cli.airflow_worker.CELERY_CONFIG (docker-compose.yml).
Only the worker imports them (Celery's worker_init signal): the scheduler and api-server load this module too. The
contracts are compiled there as well (the compile cache is keyed by each file's text).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
from celery.signals import worker_init

from countyhub.cli.preload import LAYOUT_MODULES, import_all

# Airflow's settings, and one change: Celery keeps each task's state in Airflow's PostgreSQL (the result backend),
# and a worker that cannot write it while that PostgreSQL restarts drops the task it was about to start ("exception
# raised outside body"). Nothing then runs it until the scheduler's task_queued_timeout (10 min) requeues it. With
# these, the write waits for the database, up to about 5 minutes (backoff of at most 10 s between tries).
CELERY_CONFIG: dict[str, Any] = {
    **DEFAULT_CELERY_CONFIG,
    "result_backend_always_retry": True,
    "result_backend_max_retries": 60,
    "result_backend_max_sleep_between_retries_ms": 10_000,
}

# What the tasks of the DAGs in dags/ import: the flow behind each task, and what county_build's parse needs.
PRELOADED = (
    "countyhub.flow.run",
    "countyhub.flow.register",
    "countyhub.flow.freshness",
    "countyhub.flow.runtime",
    *LAYOUT_MODULES,
)

log = logging.getLogger(__name__)


@worker_init.connect
def preload(**_: Any) -> None:
    """Import the task code in the worker, before Celery forks its pool."""
    started = time.perf_counter()
    import_all(PRELOADED)
    # Every gate, build and catalog task reads every contract, and checking one against the ODCS schema costs
    # ~50 ms: compiled here, a forked task finds each file's unchanged text in the compile cache (an edited file
    # is another key, compiled again by the task that reads it).
    try:
        from countyhub.contracts.odcs import load_contracts
        from countyhub.core.settings import load_settings

        compiled = len(load_contracts(load_settings().contracts_dir))
    except (OSError, ValueError) as exc:  # a broken contract or setting fails the tasks that read it, in their logs
        log.warning("countyhub: could not preload the contracts: %s", exc)
        compiled = 0
    log.info("countyhub: task code preloaded in %.1f s (%d contracts compiled)", time.perf_counter() - started,
             compiled)
