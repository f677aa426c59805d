"""Airflow's DAG processor with what county_build's parse imports loaded first (compose's airflow-dag-processor).

The DAG processor forks a process for every parse of a DAG file, and pre-imports only the `airflow.*` modules a
file names. county_build's parse lays its dbt node tasks out with astronomer-cosmos, 0.7 CPU-s of import each
time. It is parsed again for every task callback too: the triggerer asks for one whenever a task ends there,
callback or not (airflow/models/trigger.py), so each of the 53 dbt node tasks of a build did, and those parses
came during the gates, when both cores were busy. Imported here once, before any fork, a parse finds them loaded.
Run as `python -m countyhub.cli.airflow_dag_processor [airflow dag-processor's options]`.
"""

from __future__ import annotations

import logging
import sys
import time

from countyhub.cli.preload import LAYOUT_MODULES, import_all

# county_build's layout of the dbt node tasks and what the DAG files import from countyhub.
PRELOADED = (
    *LAYOUT_MODULES,
    "countyhub.cli.dbt_reports",
    "countyhub.cli.ingest_wait",
    "countyhub.core.departments",
    "countyhub.flow.pools",
)

log = logging.getLogger(__name__)


def main() -> None:
    started = time.perf_counter()
    import_all(PRELOADED)
    log.info("countyhub: county_build's parse imports preloaded in %.1f s", time.perf_counter() - started)
    from airflow.__main__ import main as airflow

    sys.argv = ["airflow", "dag-processor", *sys.argv[1:]]
    airflow()


if __name__ == "__main__":
    main()
