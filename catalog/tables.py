"""The catalog's tables: plain portable types (JSON as text, naive UTC timestamps) so SQLite and PostgreSQL both work."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    BigInteger,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

datasets = Table(
    "catalog_datasets",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("title_zh", String(255), nullable=False, default=""),
    Column("title_en", String(255), nullable=False, default=""),
    Column("department_code", String(64), nullable=False),
    Column("department_name", String(255), nullable=False, default=""),
    Column("sharing_type", String(32), nullable=False),
    Column("classification", String(32), nullable=False),
    Column("row_count", BigInteger, nullable=True),
    # The whole entry (columns, lineage, keywords, masked samples) as JSON text: read back whole, never queried inside.
    Column("entry_json", Text, nullable=False),
    Column("registered_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

loads = Table(
    "catalog_loads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(255), nullable=False),
    Column("load_id", String(255), nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("status", String(32), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=False),
    Column("message", Text, nullable=False, default=""),
    UniqueConstraint("dataset", "load_id", name="uq_catalog_loads_dataset_load"),
    Index("ix_catalog_loads_dataset_finished", "dataset", "finished_at"),
)

gate_runs = Table(
    "catalog_gate_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(255), nullable=False),
    Column("run_id", String(255), nullable=False),
    Column("success", Boolean, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("results_json", Text, nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=False),
    UniqueConstraint("dataset", "run_id", name="uq_catalog_gate_runs_dataset_run"),
    Index("ix_catalog_gate_runs_dataset_started", "dataset", "started_at"),
)

publications = Table(
    "catalog_publications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("snapshot_id", BigInteger, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("published_at", DateTime, nullable=False),
    UniqueConstraint("dataset", "version", name="uq_catalog_publications_dataset_version"),
)
