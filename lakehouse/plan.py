"""A load as data: the LoadPlan (what it will do, decided before any write) and the LoadRun (what carries it out)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from countyhub.connectors.base import Connector
from countyhub.core.departments import Department, Stream
from countyhub.lakehouse import drift, meta
from countyhub.lakehouse.lake import LAKE, ensure_schemas
from countyhub.lakehouse.rejects import RejectSpill

Tick = Callable[..., None]
MEMORY_LIMIT = "512MB"


def new_load_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def resolve_mode(stream: Stream, connector: Connector) -> str:
    """The stream's `mode:`, else files for drop folders, incremental with a cursor, snapshot with a key."""
    if stream.mode:
        return stream.mode
    if connector.default_mode == "files":
        return "files"
    if stream.cursor:
        return "incremental"
    return "snapshot" if stream.primary_key else "replace"


@dataclass(frozen=True)
class LoadPlan:
    """What a load will do, from the department file, the raw table as it is and the last committed state."""

    department: Department
    stream: Stream
    table: str  # lake.raw_<dept>.<stream>
    mode: str  # replace | snapshot | incremental | files
    key: tuple[str, ...]
    cursor: str | None
    allow_schema_evolution: bool
    existing: dict[str, str] = field(hash=False)  # the raw table's columns now ({} before its first load)
    rebuild: bool  # replace the table's rows instead of merging into them
    read_from: dict[str, Any] = field(hash=False)  # the state the read starts from ({}: read everything)

    @property
    def stages(self) -> bool:
        """Whether the changed rows are staged locally first (keyed incremental and snapshot loads)."""
        return not self.rebuild and (self.mode == "snapshot" or (self.mode == "incremental" and bool(self.key)))


def plan_load(con: duckdb.DuckDBPyConnection, department: Department, stream: Stream, connector: Connector,
              full_refresh: bool = False, states: Mapping[tuple[str, str], meta.StreamState] | None = None
              ) -> LoadPlan:
    """Decide the load from the raw table's columns and the stream's committed state (reads only).

    `states`: committed states already read under the writer lock (meta.read_states); a stream not among them
    reads its own."""
    mode = resolve_mode(stream, connector)
    existing = drift.table_columns(con, department.raw_schema, stream.name)
    key = (department.code, stream.name)
    saved = None if full_refresh or not existing else (
        states[key] if states is not None and key in states else meta.read_state(con, *key))
    rebuild = not existing or full_refresh or mode == "replace" or (mode != "snapshot" and saved is None)
    read_from = {} if rebuild or saved is None else {**saved.state, "cursor_op": ">=" if stream.primary_key else ">"}
    return LoadPlan(department, stream, f"{LAKE}.{department.raw_schema}.{stream.name}", mode,
                    tuple(stream.primary_key), stream.cursor, stream.allow_schema_evolution, existing, rebuild,
                    read_from)


class Clock:
    """Splits a load's wall time into phases (see result.PHASES) as it goes."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.phases: dict[str, float] = {}

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - self.last
        self.last = now


@dataclass
class LoadRun:
    """What carries a plan out: the writer connection, the load's id and clock, and where rejected rows go."""

    con: duckdb.DuckDBPyConnection
    connector: Connector
    rejects: RejectSpill
    load_id: str = field(default_factory=new_load_id)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    clock: Clock = field(default_factory=Clock)
    progress: Tick | None = None
    total: int | None = None  # rows the read is expected to yield, for the progress bar


def prepare_session(con: duckdb.DuckDBPyConnection, raw_schema: str, temp_dir: Path) -> None:
    """Bound the load connection's memory (staging spills to `temp_dir` instead of growing); make its raw schema."""
    temp_dir.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET temp_directory = '{temp_dir}'")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute("SET preserve_insertion_order = false")  # raw rows have no order; keeping one costs memory
    con.execute("SET enable_progress_bar_print = false")  # progress is polled for our own bar instead
    # Every lake table a load touches is named lake.<schema>.<table>. With the lake as the default catalog, each
    # statement binding any name (the local stage, a registered Arrow table) also opened a DuckLake transaction:
    # 5-20 ms each, most of a no-change load's staging. The default is the connection's own memory instead.
    con.execute("USE memory")
    ensure_schemas(con, [raw_schema])
