"""The governed lakehouse: DuckDB + Parquet under DuckLake, with raw/audit/shared/quarantine zones."""

from countyhub.lakehouse.lake import ZONES, Lake, LakeError

__all__ = ["ZONES", "Lake", "LakeError"]
