"""Pluggable connectors: a department system in, Arrow record batches out.

What a connector (built-in or plugin) imports is exported here; the modules behind it may move.
"""

from countyhub.connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorError,
    DiscoveredStream,
    Rejected,
    ScanPlan,
    StreamEmptyError,
)
from countyhub.connectors.options import OpenStreamOptions, StreamOptions
from countyhub.connectors.registry import available_kinds, get_connector
from countyhub.connectors.validate import check_department, check_departments
from countyhub.core.departments import Stream

__all__ = [
    # Writing a connector
    "Connector", "ConnectorConfig", "ConnectorError", "DiscoveredStream", "OpenStreamOptions", "Rejected",
    "ScanPlan", "Stream", "StreamEmptyError", "StreamOptions",
    # Finding and checking connectors
    "available_kinds", "check_department", "check_departments", "get_connector",
]
