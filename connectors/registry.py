"""Connector kinds register through the `countyhub.connectors` entry-point group, built-ins included."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint, entry_points

from countyhub.connectors.base import Connector, ConnectorError

GROUP = "countyhub.connectors"
# The group's entry points by the sys.path they were found on: a lookup reads every installed distribution's
# metadata (~0.1 s), and a run asks for kinds once per department and source.
_found: dict[tuple[str, ...], tuple[EntryPoint, ...]] = {}


def _entry_points() -> tuple[EntryPoint, ...]:
    key = tuple(sys.path)
    if key not in _found:
        _found.clear()
        _found[key] = tuple(entry_points(group=GROUP))
    return _found[key]


def available_kinds() -> list[str]:
    return sorted(ep.name for ep in _entry_points())


def get_connector(kind: str) -> type[Connector]:
    """The connector class for a kind; a connector that fails to import shows its original error."""
    matches = [ep for ep in _entry_points() if ep.name == kind]
    if not matches:
        raise ConnectorError(f"unknown connector kind {kind!r}; installed kinds: {', '.join(available_kinds())}")
    try:
        cls = matches[0].load()
    except Exception as exc:  # any import failure must surface with its cause
        raise ConnectorError(f"connector kind {kind!r} ({matches[0].value}) failed to import: {exc!r}") from exc
    return cls
