"""Pluggable connectors: a department system in, Arrow record batches out."""

from connectors.base import Connector, ConnectorError, DiscoveredStream
from connectors.registry import available_kinds, get_connector

__all__ = ["Connector", "ConnectorError", "DiscoveredStream", "available_kinds", "get_connector"]
