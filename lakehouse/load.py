"""Load a stream into the raw zone: one load_id, one DuckLake transaction for rows, quarantine, state and log."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from countyhub.connectors.base import Connector, ConnectorError
from countyhub.connectors.sql_duckdb import run_setup
from countyhub.core.departments import Department, Stream
from countyhub.lakehouse import apply, drift
from countyhub.lakehouse.chunks import chunked
from countyhub.lakehouse.lake import LAKE, Lake
from countyhub.lakehouse.loadlog import log_load, prepare
from countyhub.lakehouse.progress_poll import poll_progress
from countyhub.lakehouse.quarantine import Validator, write_quarantine
from countyhub.lakehouse.rejects import RejectSpill
from countyhub.lakehouse.state import cursor_state, read_state, write_state

Tick = Callable[..., None]
# Rejected rows a connector is asked to point at their line in a file; later ones keep file and key.
LOCATE_LIMIT = 10_000


@dataclass
class LoadResult:
    """What one load did, for the summary, the catalog and the DAG logs. read = loaded + quarantined."""

    load_id: str
    department: str
    stream: str
    table: str
    rows_read: int
    rows_loaded: int
    bytes_read: int
    started_at: datetime
    finished_at: datetime
    schema: pa.Schema
    mode: str = "replace"
    rows_quarantined: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_deleted: int = 0
    schema_changes: list[str] = field(default_factory=list)
    rows_quarantined_before: int = 0  # of rows_quarantined: already in quarantine from an earlier load, not added again
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, see PHASES

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def timing(self) -> str:
        """'open 0.07s · stage 0.05s · write 0.12s · commit 0.02s': where the load's time went."""
        return " · ".join(f"{name} {self.phases[name]:.2f}s" for name in PHASES if name in self.phases)


# open: lake attached, meta tables checked, state read. stage: changed rows copied from the source to a
# local table (keyed incremental and snapshot loads). write: the transaction's work (for unstaged loads
# this includes reading the source). commit: DuckLake's commit to its catalog.
PHASES = ("open", "stage", "write", "commit")


class _Clock:
    """Splits a load's wall time into PHASES as it goes."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.phases: dict[str, float] = {}

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - self.last
        self.last = now


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


@dataclass
class _Source:
    """The incoming rows as something DuckDB can SELECT from, plus what is counted on the way."""

    relation: str
    params: list
    types: dict[str, str]
    schema: pa.Schema
    validator: Validator | None = None
    rows: int = 0
    bytes: int = 0
    counted: bool = False  # False: rows are counted in SQL once written (the scanner path)
    empty: bool = False  # the read yielded no batch at all: it says nothing about which columns exist
    chunks: Iterator[pa.Table] | None = None

    def relations(self) -> Iterator[str | pa.Table]:
        """The SQL relation to read (scanner path), or the Arrow chunks one after the other."""
        if self.chunks is None:
            yield self.relation
        else:
            yield from self.chunks


def _arrow_source(con: duckdb.DuckDBPyConnection, connector: Connector, stream: Stream, state: dict,
                  tick: Tick | None, table: str, existing: dict[str, str], spill: RejectSpill) -> _Source:
    batches = iter(connector.read(stream, state))
    first = next(batches, None)
    schema = first.schema if first is not None else drift.empty_read_schema(con, connector, stream, table, existing)
    validator = Validator.for_stream(stream, [f.name for f in schema if pa.types.is_string(f.type)], spill)
    out_schema = validator.output_schema(schema)
    source = _Source("incoming", [], {}, out_schema, validator, counted=True, empty=first is None)

    def flow() -> Iterator[pa.RecordBatch]:
        for batch in ([first] if first is not None else []), batches:
            for b in batch:
                source.rows += b.num_rows
                source.bytes += b.nbytes
                if tick:
                    tick(b.num_rows)
                yield validator.split(b)

    if len(out_schema):
        con.register("incoming_shape", out_schema.empty_table())
        source.types = drift.describe(con, "incoming_shape")
        con.unregister("incoming_shape")
    source.chunks = chunked(flow(), out_schema)
    return source


def _source(con: duckdb.DuckDBPyConnection, connector: Connector, stream: Stream, state: dict,
            tick: Tick | None, table: str, existing: dict[str, str], spill: RejectSpill) -> _Source:
    plan = connector.scan_plan(stream, state)
    if plan is not None:
        try:
            run_setup(con, plan)
            types = drift.describe(con, f"({plan.select})", plan.params)
        except duckdb.Error as exc:
            raise ConnectorError(connector.redact(f"{connector.where}: cannot open {stream.name!r}: {exc}")) from None
        validator = Validator.for_stream(stream, [c for c, t in types.items() if t == "VARCHAR"], spill)
        if not validator.active:  # row rules need the Arrow path; everything else goes scanner → lake directly
            return _Source(f"({plan.select})", plan.params, types, pa.schema([]))
    return _arrow_source(con, connector, stream, state, tick, table, existing, spill)


def load_stream(
    lake: Lake,
    department: Department,
    stream: Stream,
    connector: Connector,
    progress: Tick | None = None,
    full_refresh: bool = False,
) -> LoadResult:
    """Load one stream into `raw_<dept>.<stream>` atomically: rows, quarantine, state and log commit together.

    A crash or kill before COMMIT leaves no new rows visible and the state unchanged, so the
    re-run reads exactly what was missing.
    """
    load_id, started, clock = new_load_id(), datetime.now(UTC), _Clock()
    table = f"{LAKE}.{department.raw_schema}.{stream.name}"
    mode = resolve_mode(stream, connector)
    spill, keep_reject = RejectSpill(lake.settings.home / "tmp"), connector.on_reject
    connector.on_reject = spill.add_unread  # bad records go to disk as they come, not to a list
    with lake.writer() as con:
        prepare(con, department.raw_schema, lake.settings.home / "tmp")
        existing = drift.table_columns(con, department.raw_schema, stream.name)
        state = None if full_refresh or not existing else read_state(con, department.code, stream.name)
        rebuild = not existing or full_refresh or mode == "replace" or (mode != "snapshot" and state is None)
        read_from = {} if rebuild else {**state, "cursor_op": ">=" if stream.primary_key else ">"}
        total = connector.estimate(stream, read_from) if progress else None
        if progress:
            progress(0, total=total)
        clock.mark("open")
        try:
            result = _load(con, connector, department, stream, table, mode, existing, rebuild, read_from,
                           load_id, started, progress, total, clock, spill)
        except BaseException as exc:
            log_load(con, load_id, department.code, stream.name, "failed", started, mode,
                     message=connector.redact(str(exc))[:2000])
            raise
        finally:
            apply.drop_stage(con)
            spill.discard()
            connector.on_reject = keep_reject
    return result


def _load(con: duckdb.DuckDBPyConnection, connector: Connector, department: Department, stream: Stream,
          table: str, mode: str, existing: dict[str, str], rebuild: bool, read_from: dict, load_id: str,
          started: datetime, progress: Tick | None, total: int | None, clock: _Clock,
          spill: RejectSpill) -> LoadResult:
    source = _source(con, connector, stream, read_from, progress, table, existing, spill)
    # No rows and no schema anywhere (a first load of an empty API, no declared columns): no table to make.
    silent = source.chunks is not None and len(source.schema) == 0
    changes = drift.compare(existing, source.types, empty_read=source.empty) if existing and not silent else []
    drift.check(changes, department.code, stream.name, stream.allow_schema_evolution)
    keys = stream.primary_key
    staged = not silent and not rebuild and (mode == "snapshot" or (mode == "incremental" and keys))
    with poll_progress(con, progress, total, enabled=not source.counted):
        if staged:
            staged_rows = apply.stage(con, source.relations(), source.params, keys, stream.cursor)
            if not source.counted:  # the Arrow path counted every row read, quarantined ones included
                source.rows = staged_rows
            if mode == "incremental" and not changes and read_from.get("cursor") is not None:
                # Rows re-read at the old cursor that did not change: not rewritten, not counted as updated.
                apply.drop_unchanged(con, table, existing, set(source.types), keys, stream.cursor, read_from["cursor"])
            clock.mark("stage")
        con.execute("BEGIN")
        try:
            applied, loaded = (apply.Applied(), 0) if silent else _apply(
                con, connector, stream, table, mode, existing, changes, source, rebuild, staged, load_id, started)
            if not source.counted and not staged:
                source.rows = loaded
            drift.record(con, department.code, stream.name, changes, load_id, started)
            spill.close()
            located = connector.locate(stream, spill.positioned(LOCATE_LIMIT))
            quarantine = write_quarantine(con, department.code, stream.name, load_id, started, spill, located)
            quarantined = quarantine.rows
            checkpoint = {k: v for k, v in connector.checkpoint(stream).items() if k != "replaced_files"}
            # Staged rows are all that changed: their max, with the old cursor, is the new cursor.
            cursor = {} if not stream.cursor or silent else cursor_state(
                con, apply.STAGE if staged and mode == "incremental" else table, stream.cursor, read_from)
            write_state(con, department.code, stream.name, {**checkpoint, **cursor}, load_id, started)
            rows_read = source.rows + spill.unread
            result = LoadResult(load_id, department.code, stream.name, table, rows_read, rows_read - quarantined,
                                source.bytes, started, datetime.now(UTC), source.schema, mode, quarantined,
                                applied.inserted, applied.updated, applied.deleted,
                                [f"{c.column} {c.change}" for c in changes])
            result.rows_quarantined_before = quarantine.known
            log_load(con, load_id, department.code, stream.name, "success", started, mode, result=result)
            clock.mark("write")
            con.execute("COMMIT")
            clock.mark("commit")
            result.phases, result.finished_at = clock.phases, datetime.now(UTC)
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return result


def _apply(con: duckdb.DuckDBPyConnection, connector: Connector, stream: Stream, table: str, mode: str,
           existing: dict[str, str], changes: list[drift.Change], source: _Source, rebuild: bool, staged: bool,
           load_id: str, at: datetime) -> tuple[apply.Applied, int]:
    if rebuild:
        applied = apply.replace(con, table, source.relations(), source.params, load_id, at)
        return applied, applied.inserted
    drift.evolve(con, table, changes)
    columns = {**existing, **{c.column: c.new_type for c in changes if c.new_type}}
    incoming = set(source.types)
    if staged and mode == "snapshot":
        return apply.snapshot_diff(con, table, columns, incoming, stream.primary_key, load_id, at), 0
    if staged:
        return apply.upsert(con, table, columns, incoming, stream.primary_key, load_id, at), 0
    inserted = apply.insert(con, table, columns, incoming, source.relations(), source.params, load_id, at)
    applied = apply.Applied(inserted=inserted)
    if mode == "files":
        applied.deleted = apply.delete_files(con, table, columns, connector.checkpoint(stream).get("replaced_files", []),
                                             load_id)
    return applied, inserted
