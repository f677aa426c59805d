"""The catalog's tables and engine: portable types (JSON as text, naive UTC timestamps) for SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from countyhub.core.dbschema import add_missing_columns, create_tables

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
    # The entry's search terms and their weights, computed when it was registered (JSON {"v": .., "impacts": ..}):
    # a search process applies a change without loading the Chinese dictionaries. NULL: tokenized when read.
    Column("search_terms", Text, nullable=True),
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
    # Added later (see upgrade): passed / warn / quarantined / failed, and run-level facts as JSON text
    # (rules, rules_passed, warnings, quarantined, published_version, data_docs). NULL on runs recorded before.
    Column("status", String(16), nullable=True),
    Column("extra_json", Text, nullable=True),
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

# One row per write to the catalog, in commit order: every process's in-memory index catches up by reading the rows
# after the last id it saw (the flow registers in one process while the web server searches in another).
changes = Table(
    "catalog_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(255), nullable=False),
    Column("what", String(32), nullable=False),
    Column("at", DateTime, nullable=False),
)

# Catalog interactions per dataset (page views, API reads, snippet copies, reported queries) for "usage".
usage = Table(
    "catalog_usage",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(255), nullable=False),
    Column("event", String(32), nullable=False),
    Column("at", DateTime, nullable=False),
    Index("ix_catalog_usage_dataset_at", "dataset", "at"),
)

# A scheduled task that failed for good (its retries used up): the dataset page shows the latest one until a later
# load or publication of the dataset succeeds. `task` names where it ran (dag.task), `message` is one masked line.
run_failures = Table(
    "catalog_run_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(255), nullable=False),
    Column("task", String(255), nullable=False),
    Column("run_id", String(255), nullable=False, default=""),
    Column("message", Text, nullable=False, default=""),
    Column("failed_at", DateTime, nullable=False),
    Index("ix_catalog_run_failures_dataset_failed", "dataset", "failed_at"),
)

column_lineage = Table(
    "catalog_column_lineage",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(255), nullable=False),
    Column("column", String(255), nullable=False),
    Column("upstream_dataset", String(255), nullable=False),
    Column("upstream_column", String(255), nullable=False),
    Column("transform", String(32), nullable=False, default="derived"),
    Index("ix_catalog_column_lineage_dataset", "dataset"),
    Index("ix_catalog_column_lineage_upstream", "upstream_dataset", "upstream_column"),
)


def utc_naive(ts: datetime) -> datetime:
    """Stored naive in UTC (portable across SQLite and PostgreSQL); a naive input is taken to be UTC already."""
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


def as_utc(ts: datetime | None) -> datetime | None:
    return ts.replace(tzinfo=UTC) if ts is not None else None


def row_dict(row: Any, *drop: str) -> dict[str, Any]:
    out = {k: (as_utc(v) if isinstance(v, datetime) else v) for k, v in row._mapping.items() if k not in drop}
    return out


# Columns added after the first release: catalogs created before get them when they are next opened.
_ADDED_COLUMNS = {gate_runs: ("status", "extra_json"), datasets: ("search_terms",)}


def upgrade(engine: Engine) -> None:
    """Create missing tables, then add any column a table created by an older version lacks."""
    create_tables(engine, metadata)
    for table, names in _ADDED_COLUMNS.items():
        add_missing_columns(engine, table, names)


def _wal(con: Any, _: Any) -> None:
    con.execute("PRAGMA journal_mode=WAL")
    # NORMAL: a commit is not fsynced until the next checkpoint. A killed process loses nothing (the WAL is in the
    # file system); a power cut may lose the last commits. FULL made every audit group commit wait for the disk.
    con.execute("PRAGMA synchronous=NORMAL")


def make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # The flow writes while the web server reads: WAL + a busy timeout instead of "database is locked".
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _wal)
        return engine
    # An in-memory catalog must be one shared connection, or each thread would see an empty database.
    return create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
