"""Publish: atomically replace lake.shared.<dataset> with a gated audit table and log the publication."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from contracts.gate import GateResult
from contracts.odcs import Contract
from lakehouse.lake import LAKE, Lake

PUBLICATIONS = f"{LAKE}.meta.publications"
_DDL = f"""CREATE TABLE IF NOT EXISTS {PUBLICATIONS} (
    dataset VARCHAR, version INTEGER, snapshot_id BIGINT, rows BIGINT, gate_run_id VARCHAR,
    contract_version VARCHAR, published_at TIMESTAMPTZ)"""


class PublishError(RuntimeError):
    """The audit table is not the one the gate passed; nothing was published."""


@dataclass(frozen=True)
class Publication:
    dataset: str
    version: int
    snapshot_id: int
    rows: int
    published_at: datetime
    gate_run_id: str = ""
    contract_version: str = ""


def publish(lake: Lake, contract: Contract, gate: GateResult) -> Publication | None:
    """If the gate passed, in ONE DuckLake transaction: replace shared.<dataset> and append to meta.publications.

    A failed gate returns None and leaves shared untouched (the last good version stays served).
    Holds the lake writer lock only for the copy.
    """
    if not gate.success:
        return None
    dataset = contract.dataset
    audit, shared = f"{LAKE}.audit.{dataset}", f"{LAKE}.shared.{dataset}"
    if gate.dataset != dataset or gate.table != audit:
        raise PublishError(f"gate run {gate.run_id} checked {gate.table}, not {audit}: refusing to publish it")
    with lake.writer() as con:
        con.execute(_DDL)
        con.execute("BEGIN")
        try:
            rows = con.execute(f"SELECT count(*) FROM {audit}").fetchone()[0]
            if gate.row_count is not None and rows != gate.row_count:
                raise PublishError(f"{audit} has {rows} rows but the gate checked {gate.row_count}: "
                                   "it was rebuilt after the gate; run the gate again")
            con.execute(f"CREATE OR REPLACE TABLE {shared} AS SELECT * FROM {audit}")
            version = con.execute(f"SELECT coalesce(max(version), 0) + 1 FROM {PUBLICATIONS} WHERE dataset = ?",
                                  [dataset]).fetchone()[0]
            # The snapshot this commit will create; checked after COMMIT (another writer on a
            # PostgreSQL catalog could take the number first).
            expected = con.execute(f"SELECT id FROM {LAKE}.current_snapshot()").fetchone()[0] + 1
            published_at = datetime.now(UTC)
            con.execute(f"INSERT INTO {PUBLICATIONS} VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [dataset, version, expected, rows, gate.run_id, contract.version, published_at])
            con.execute(f"CALL {LAKE}.set_commit_message('countyhub', ?, extra_info => ?)",
                        [f"publish {dataset} v{version}", json.dumps({"publish": dataset, "gate_run_id": gate.run_id})])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        snapshot_id = _committed_snapshot(con, gate.run_id)
        if snapshot_id != expected:
            con.execute(f"UPDATE {PUBLICATIONS} SET snapshot_id = ? WHERE dataset = ? AND version = ?",
                        [snapshot_id, dataset, version])
    return Publication(dataset, version, snapshot_id, rows, published_at, gate.run_id, contract.version)


def _committed_snapshot(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    return con.execute(
        f"SELECT max(snapshot_id) FROM {LAKE}.snapshots() WHERE json_extract_string(commit_extra_info, "
        "'$.gate_run_id') = ?", [run_id]).fetchone()[0]


def current_publication(lake: Lake, dataset: str) -> Publication | None:
    """The version of dataset that lake.shared serves now, or None if it was never published."""
    with lake.reader() as con:
        found = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = ? AND table_schema = 'meta' "
            "AND table_name = 'publications'", [LAKE]).fetchone()[0]
        if not found:
            return None
        row = con.execute(
            f"SELECT dataset, version, snapshot_id, rows, published_at, gate_run_id, contract_version "
            f"FROM {PUBLICATIONS} WHERE dataset = ? ORDER BY version DESC LIMIT 1", [dataset]).fetchone()
    return Publication(*row) if row else None
