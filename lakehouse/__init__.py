"""The governed lakehouse: DuckDB + Parquet under DuckLake, with raw/audit/shared/quarantine zones."""

from countyhub.core.vocab import ZONES  # re-exported: the lake's zones, defined with the other shared words
from countyhub.lakehouse.lake import Lake, LakeError

__all__ = ["ZONES", "Lake", "LakeError"]
