"""Ingest: run each department stream's connector into the raw zone, with progress."""

from __future__ import annotations

from collections.abc import Callable

from connectors import Connector, get_connector
from countyhub.departments import Department, Source, expand
from countyhub.settings import Settings
from lakehouse import Lake
from lakehouse.load import LoadResult, load_stream


def connector_for(settings: Settings, department: Department, source: Source) -> Connector:
    """Build the connector of a source with {home} and ${ENV} filled in its (secret-free) config."""
    cls = get_connector(source.kind)
    return cls(expand(source.config, settings.home), where=f"{department.path or department.code}: source {source.name}")


def ingest_department(
    settings: Settings,
    department: Department,
    stream_name: str | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> list[LoadResult]:
    """Load every stream of a department (or just `stream_name`) into `raw_<department>`."""
    lake, results = Lake(settings), []
    for source in department.sources:
        connector = connector_for(settings, department, source)
        for stream in source.streams:
            if stream_name and stream.name != stream_name:
                continue
            label = f"{department.code}.{stream.name}"
            tick = (lambda n, label=label: progress(label, n)) if progress else None
            results.append(load_stream(lake, department, stream, connector, tick))
    if stream_name and not results:
        raise KeyError(f"department {department.code} has no stream {stream_name!r}")
    return results
