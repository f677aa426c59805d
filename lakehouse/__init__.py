"""The governed lakehouse: DuckDB + Parquet under DuckLake, with raw/audit/shared/quarantine zones."""

from lakehouse.lake import Lake, ZONES

__all__ = ["Lake", "ZONES"]
