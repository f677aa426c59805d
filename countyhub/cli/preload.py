"""Importing modules in a server process before it forks: every process forked after has them for free."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)

# What county_build's parse imports to lay its dbt node tasks out (dags/countyhub_dbt.py): astronomer-cosmos.
LAYOUT_MODULES = ("cosmos", "cosmos.airflow.task_group", "cosmos.dbt.graph")


def import_all(names: Iterable[str]) -> None:
    """Import each module now; one that cannot be imported is a warning (what imports it later fails in its log)."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            log.warning("countyhub: could not preload %s: %s", name, exc)
