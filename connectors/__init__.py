"""Pluggable connectors: a department system in, Arrow record batches out."""

from countyhub.connectors.base import Connector, ConnectorError, DiscoveredStream, StreamEmptyError
from countyhub.connectors.registry import available_kinds, get_connector

__all__ = ["Connector", "ConnectorError", "DiscoveredStream", "StreamEmptyError", "available_kinds", "get_connector"]
