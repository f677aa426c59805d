"""The Airflow pools the flow's tasks run in: one per department source, one for lake writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from countyhub.core.departments import Department

LAKE_WRITES_POOL = "countyhub_lake_writes"


def source_pool(department: str, source: str) -> str:
    """One pool per department source: its size caps the connections countyhub opens to that system."""
    return f"countyhub_{department}_{source}"


def pools(departments: Iterable[Department], lake_embedded: bool) -> dict[str, dict[str, Any]]:
    """Every pool the DAGs use, in `airflow pools import` form."""
    out = {source_pool(d.code, s.name): {"slots": s.max_connections, "description": f"{d.code}: {s.title or s.name}",
                                         "include_deferred": False}
           for d in departments for s in d.sources}
    # The embedded lake (SQLite metadata) takes one writer at a time; DuckLake on PostgreSQL takes several.
    out[LAKE_WRITES_POOL] = {"slots": 1 if lake_embedded else 8, "include_deferred": False,
                             "description": "dbt builds, gates and publishes writing the lake"}
    return out
