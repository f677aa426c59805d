"""The Airflow pools the flow's tasks run in: one per department source, one for lake writes, one for dbt reports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from countyhub.core.departments import Department

LAKE_WRITES_POOL = "countyhub_lake_writes"
# county_build's dbt node tasks only report what its one dbt build did; without a cap, the first gates to finish
# freed their slots to node tasks while the gates after them queued (5-6 s each on the 2-core test machine).
DBT_REPORTS_POOL = "countyhub_dbt_reports"
DBT_REPORTS_SLOTS = 2


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
    out[DBT_REPORTS_POOL] = {"slots": DBT_REPORTS_SLOTS, "include_deferred": False,
                             "description": "county_build's dbt node tasks (each reports the one build's outcome)"}
    return out
