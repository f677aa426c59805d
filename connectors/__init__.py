"""Pluggable connectors: a department system in, Arrow record batches out.

What a connector (built-in or plugin) imports is exported here; the modules behind it may move.
"""

from countyhub.connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorError,
    DiscoveredStream,
    Rejected,
    RejectList,
    RejectSink,
    ScanPlan,
    StreamEmptyError,
    sink,
)
from countyhub.connectors.options import OpenStreamOptions, StreamOptions
from countyhub.connectors.registry import available_kinds, get_connector
from countyhub.connectors.validate import check_department, check_departments
from countyhub.core.departments import Stream

__all__ = [
    "Connector",
    "ConnectorConfig",
    "ConnectorError",
    "DiscoveredStream",
    "OpenStreamOptions",
    "RejectList",
    "RejectSink",
    "Rejected",
    "ScanPlan",
    "Stream",
    "StreamEmptyError",
    "StreamOptions",
    "available_kinds",
    "check_department",
    "check_departments",
    "get_connector",
    "sink",
]
