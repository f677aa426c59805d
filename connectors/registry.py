"""Connector kinds register through the `countyhub.connectors` entry-point group, built-ins included."""

from __future__ import annotations

from importlib.metadata import entry_points

from countyhub.connectors.base import Connector, ConnectorError

GROUP = "countyhub.connectors"


def available_kinds() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=GROUP))


def get_connector(kind: str) -> type[Connector]:
    """The connector class for a kind; a connector that fails to import shows its original error."""
    matches = [ep for ep in entry_points(group=GROUP) if ep.name == kind]
    if not matches:
        raise ConnectorError(f"unknown connector kind {kind!r}; installed kinds: {', '.join(available_kinds())}")
    try:
        cls = matches[0].load()
    except Exception as exc:  # any import failure must surface with its cause
        raise ConnectorError(f"connector kind {kind!r} ({matches[0].value}) failed to import: {exc!r}") from exc
    return cls
