"""Load a stream into the raw zone: one load_id, one DuckLake transaction for rows, quarantine, state and log."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

import duckdb

from countyhub.connectors.base import Connector
from countyhub.core import faultpoints
from countyhub.core.departments import Department, Stream
from countyhub.lakehouse import apply, drift, duplicates, meta
from countyhub.lakehouse.lake import Lake
from countyhub.lakehouse.plan import LoadPlan, LoadRun, Tick, plan_load, prepare_session, resolve_mode
from countyhub.lakehouse.progress_poll import poll_progress
from countyhub.lakehouse.quarantine import write_quarantine
from countyhub.lakehouse.rejects import RejectSpill
from countyhub.lakehouse.result import PHASES, LoadResult
from countyhub.lakehouse.source import Source, open_source
from countyhub.lakehouse.state import cursor_state

__all__ = ["LOCATE_LIMIT", "PHASES", "LoadResult", "load_stream", "resolve_mode"]
# Rejected rows a connector is asked to point at their line in a file; later ones keep file and key.
LOCATE_LIMIT = 10_000


def load_stream(
    lake: Lake,
    department: Department,
    stream: Stream,
    connector: Connector,
    progress: Tick | None = None,
    full_refresh: bool = False,
    con: duckdb.DuckDBPyConnection | None = None,
    states: Mapping[tuple[str, str], meta.StreamState] | None = None,
) -> LoadResult:
    """Load one stream into `raw_<dept>.<stream>` atomically: rows, quarantine, state and log commit together.

    A crash or kill before COMMIT leaves no new rows visible and the state unchanged, so the
    re-run reads exactly what was missing. `con`: a writer connection of `lake` to share with other loads (its
    holder keeps the writer lock, see writer_session); without it the load opens its own. `states`: see plan_load.
    """
    with _writer(lake, con) as writer:
        run = LoadRun(writer, connector, RejectSpill(lake.settings.home / "tmp"), progress=progress)
        prepare_session(writer, department.raw_schema, lake.settings.home / "tmp")
        plan = plan_load(writer, department, stream, connector, full_refresh, states)
        run.total = connector.estimate(stream, plan.read_from) if progress else None
        if progress:
            progress(0, total=run.total)
        run.clock.mark("open")
        try:
            return _load(run, plan)
        except BaseException as exc:
            meta.write_load(writer, meta.LoadRecord(
                run.load_id, department.code, stream.name, 0, 0, 0, "failed", run.started_at, datetime.now(UTC),
                connector.redact(str(exc))[:2000], plan.mode))
            raise
        finally:
            apply.drop_stage(writer)
            run.rejects.discard()


@contextmanager
def _writer(lake: Lake, con: duckdb.DuckDBPyConnection | None) -> Iterator[duckdb.DuckDBPyConnection]:
    if con is not None:
        yield con
    else:
        with lake.writer() as own:
            yield own


def _load(run: LoadRun, plan: LoadPlan) -> LoadResult:
    con, connector, stream, rejects = run.con, run.connector, plan.stream, run.rejects
    source = open_source(run, plan)
    # No rows and no schema anywhere (a first load of an empty API, no declared columns): no table to make.
    silent = source.chunks is not None and len(source.schema) == 0
    changes = drift.compare(plan.existing, source.types, empty_read=source.empty) if plan.existing and not silent else []
    drift.check(changes, plan.department.code, stream.name, plan.allow_schema_evolution)
    staged = not silent and plan.stages
    with poll_progress(con, run.progress, run.total, enabled=not source.counted):
        if staged:
            staged_rows = apply.stage(con, source.relations(), source.params, list(plan.key), plan.cursor,
                                      rejects)
            if not source.counted:  # the Arrow path counted every row read, quarantined ones included
                source.rows = staged_rows
            if plan.mode == "incremental" and not changes and plan.read_from.get("cursor") is not None:
                # Rows re-read at the old cursor that did not change: not rewritten, not counted as updated.
                apply.drop_unchanged(con, plan.table, plan.existing, set(source.types), list(plan.key), plan.cursor,
                                     plan.read_from["cursor"])
            run.clock.mark("stage")
        con.execute("BEGIN")
        try:
            applied, loaded = (apply.Applied(), 0) if silent else _apply(run, plan, changes, source, staged)
            if not source.counted and not staged:
                source.rows = loaded
            drift.record(con, plan.department.code, stream.name, changes, run.load_id, run.started_at)
            rejects.close()
            located = connector.locate(stream, rejects.positioned(LOCATE_LIMIT))
            quarantine = write_quarantine(con, plan.department.code, stream.name, run.load_id, run.started_at,
                                          rejects, located)
            quarantined = quarantine.rows
            meta.write_skipped_lines(con, [meta.SkippedLine(run.load_id, plan.department.code, stream.name, s.where,
                                                            s.reason, s.text) for s in rejects.skipped])
            checkpoint = {k: v for k, v in connector.checkpoint(stream).items() if k != "replaced_files"}
            # Staged rows are all that changed: their max, with the old cursor, is the new cursor.
            cursor = {} if not plan.cursor or silent else cursor_state(
                con, apply.STAGE if staged and plan.mode == "incremental" else plan.table, plan.cursor, plan.read_from)
            meta.write_state(con, meta.StreamState(plan.department.code, stream.name, {**checkpoint, **cursor},
                                                   run.load_id, run.started_at))
            rows_read = source.rows + rejects.unread
            result = LoadResult(run.load_id, plan.department.code, stream.name, plan.table, rows_read,
                                rows_read - quarantined, source.bytes, run.started_at, datetime.now(UTC),
                                source.schema, plan.mode, quarantined, applied.inserted, applied.updated,
                                applied.deleted, [f"{c.column} {c.change}" for c in changes])
            result.rows_quarantined_before = quarantine.known
            result.rows_skipped = rejects.skipped_count
            meta.write_load(con, result.record())
            run.clock.mark("write")
            faultpoints.reached("load.before_commit")
            con.execute("COMMIT")
            faultpoints.reached("load.after_commit")
            run.clock.mark("commit")
            result.phases, result.finished_at = run.clock.phases, datetime.now(UTC)
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return result


def _apply(run: LoadRun, plan: LoadPlan, changes: list[drift.Change], source: Source,
           staged: bool) -> tuple[apply.Applied, int]:
    """Write the read rows as the plan's mode says; returns what changed and the rows inserted (unstaged loads)."""
    con, table, at, key = run.con, plan.table, run.started_at, list(plan.key)
    if plan.rebuild:
        applied = apply.replace(con, table, source.relations(), source.params, run.load_id, at)
        read = applied.inserted
        if key and plan.mode in ("incremental", "snapshot"):
            applied.inserted -= duplicates.settle_written(con, table, key, plan.cursor, run.load_id, run.rejects)
        elif key:  # appended by file, not merged by key: still, a row without its key is one nobody can fix later
            applied.inserted -= duplicates.drop_empty_keys(con, table, key, run.rejects, run.load_id)
        return applied, read
    drift.evolve(con, table, changes)
    columns = {**plan.existing, **{c.column: c.new_type for c in changes if c.new_type}}
    incoming = set(source.types)
    if staged and plan.mode == "snapshot":
        return apply.snapshot_diff(con, table, columns, incoming, key, run.load_id, at), 0
    if staged:
        return apply.upsert(con, table, columns, incoming, key, run.load_id, at), 0
    inserted = apply.insert(con, table, columns, incoming, source.relations(), source.params, run.load_id, at)
    applied = apply.Applied(inserted=inserted)
    if key and inserted:  # only this load's rows are checked: none were written, none to check (a scan of raw)
        applied.inserted -= duplicates.drop_empty_keys(con, table, key, run.rejects, run.load_id)
    if plan.mode == "files":
        replaced = run.connector.checkpoint(plan.stream).get("replaced_files", [])
        applied.deleted = apply.delete_files(con, table, columns, replaced, run.load_id)
    return applied, inserted
