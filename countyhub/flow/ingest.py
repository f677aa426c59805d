"""Ingest: run each department stream's connector into the raw zone, with progress."""

from __future__ import annotations

from collections.abc import Callable

from countyhub.connectors import Connector, check_department, get_connector
from countyhub.core.departments import Department, Source, expand
from countyhub.flow.runtime import Runtime
from countyhub.lakehouse.load import LoadResult, load_stream
from countyhub.lakehouse.writer_session import WriterSession, writer_session

Progress = Callable[..., None]  # progress(label, rows, total=None)


def connector_for(runtime: Runtime, department: Department, source: Source) -> Connector:
    """Build the connector of a source with {home} and ${VAR} filled in its (secret-free) config.

    Secrets it names resolve in the runtime's environment; DuckDB scanners use the runtime's settings.
    """
    cls = get_connector(source.kind)
    return cls(expand(source.config, runtime.settings.home, runtime.environ),
               where=f"{department.path or department.code}: source {source.name}",
               environ=runtime.environ, duckdb_config=runtime.duckdb_config())


def ingest_department(
    runtime: Runtime,
    department: Department,
    stream_name: str | None = None,
    progress: Progress | None = None,
    full_refresh: bool = False,
    session: WriterSession | None = None,
) -> list[LoadResult]:
    """Load every stream of a department (or just `stream_name`) into `raw_<department>`.

    `full_refresh` ignores the saved state (cursor, files seen) and rebuilds each raw table. The loads share
    `session`'s writer connection (one per department without it); each still commits or rolls back alone.
    """
    check_department(department)  # an unknown kind or a misspelt option stops the run before any load
    if stream_name:
        department.stream(stream_name)  # raises KeyError naming the department before anything runs
    if session is None:
        with writer_session(runtime.lake) as own:
            return _ingest(runtime, department, own, stream_name, progress, full_refresh)
    return _ingest(runtime, department, session, stream_name, progress, full_refresh)


def _ingest(runtime: Runtime, department: Department, session: WriterSession, stream_name: str | None,
            progress: Progress | None, full_refresh: bool) -> list[LoadResult]:
    lake, results = runtime.lake, []
    for source in department.sources:
        connector = None
        for stream in source.streams:
            if stream_name and stream.name != stream_name:
                continue
            connector = connector or connector_for(runtime, department, source)
            label = f"{department.code}.{stream.name}"

            def tick(rows: int, total: int | None = None, label: str = label) -> None:
                if progress:
                    progress(label, rows, total=total) if total is not None else progress(label, rows)

            try:
                results.append(load_stream(lake, department, stream, connector, tick if progress else None,
                                           full_refresh, con=session.connection(), states=session.states()))
            except Exception as exc:
                if f"source {source.name}" not in str(exc):  # a scanner's error names neither source nor stream
                    exc.add_note(f"source {source.name}, stream {stream.name}:")
                raise
            finally:
                session.loaded(department.code, stream.name)
    return results
