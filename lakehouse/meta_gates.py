"""Typed rows of the gate's meta tables (publications, gate_runs, gate_results), declared in lakehouse.meta."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import duckdb

from countyhub.lakehouse.meta import insert_rows, present_columns, read_rows, table


@dataclass(frozen=True)
class Publication:
    """One version of a shared dataset (meta.publications); older rows have None for columns added later."""

    dataset: str
    version: int
    snapshot_id: int
    rows: int
    published_at: datetime
    gate_run_id: str = ""
    contract_version: str = ""
    quarantined: int | None = 0  # rows held back in lake.quarantine.shared__<dataset>
    warnings: int | None = 0  # failed warn rules: published with a flag
    restored_version: int | None = None  # set when this version is a rollback to an earlier one
    content_hash: str | None = None  # of the audit table the gate passed (lakehouse.fingerprint), quarantined rows too
    rows_added: int | None = None  # rows served now that the previous version did not serve (None: not compared)
    rows_removed: int | None = None  # rows the previous version served that this one does not


def publications(con: duckdb.DuckDBPyConnection, dataset: str) -> list[Publication]:
    """Every version of dataset, newest first ([] if never published)."""
    return _corrected(con, read_rows(con, Publication, "publications", "dataset = ?", [dataset], order="version DESC"))


def all_publications(con: duckdb.DuckDBPyConnection) -> list[Publication]:
    """Every version of every dataset, oldest first."""
    return _corrected(con, read_rows(con, Publication, "publications", order="dataset, version"))


def _corrected(con: duckdb.DuckDBPyConnection, found: list[Publication]) -> list[Publication]:
    """Each version with the snapshot id its commit got, where set_snapshot recorded one other than expected."""
    if not found or not present_columns(con, "publication_snapshots"):
        return found
    fixes = {(d, v): s for d, v, s in con.execute(
        f"SELECT dataset, version, max(snapshot_id) FROM {table('publication_snapshots')} GROUP BY dataset, version"
    ).fetchall()}
    return [replace(p, snapshot_id=fixes[p.dataset, p.version]) if (p.dataset, p.version) in fixes else p
            for p in found]


def latest_rows(con: duckdb.DuckDBPyConnection, dataset: str) -> int | None:
    """Rows of the version shared serves now, or None before the first publication."""
    found = read_rows(con, Publication, "publications", "dataset = ? AND version = (SELECT max(version) FROM "
                  f"{table('publications')} WHERE dataset = ?)", [dataset, dataset])
    return found[0].rows if found else None


def contract_texts(con: duckdb.DuckDBPyConnection, dataset: str) -> dict[int, tuple[str | None, int | None]]:
    """{version: (contract text it was published under, version it restored)} for every version of dataset."""
    found = read_rows(con, _ContractText, "publications", "dataset = ?", [dataset])
    return {r.version: (r.contract_yaml, r.restored_version) for r in found}


def latest_publications(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[Publication, str | None]]:
    """{dataset: (the version shared serves now, the contract text it was published under)}: two reads for all."""
    newest = f"(dataset, version) IN (SELECT dataset, max(version) FROM {table('publications')} GROUP BY dataset)"
    texts = {r.dataset: r.contract_yaml for r in read_rows(con, _DatasetText, "publications", newest)}
    return {p.dataset: (p, texts.get(p.dataset))
            for p in _corrected(con, read_rows(con, Publication, "publications", newest))}


@dataclass(frozen=True)
class _DatasetText:
    dataset: str
    contract_yaml: str | None


@dataclass(frozen=True)
class _ContractText:
    version: int
    contract_yaml: str | None
    restored_version: int | None


def next_version(con: duckdb.DuckDBPyConnection, dataset: str) -> int:
    return con.execute(f"SELECT coalesce(max(version), 0) + 1 FROM {table('publications')} WHERE dataset = ?",
                       [dataset]).fetchone()[0]


def write_publication(con: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> None:
    """Append a version: `values` names its columns (dataset, version, snapshot_id, rows, published_at, ...)."""
    con.execute(f"INSERT INTO {table('publications')} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                list(values.values()))


def set_snapshot(con: duckdb.DuckDBPyConnection, dataset: str, version: int, snapshot_id: int) -> None:
    """Correct a version's snapshot id after COMMIT (another writer took the expected number first).

    Appended to meta.publication_snapshots, which every reader here applies. An UPDATE of publications would delete
    from it, and DuckLake refuses the commit of every publish that inserted into it meanwhile: with eight gates
    publishing at once on a PostgreSQL catalog, each correction forced the others to build their tables again."""
    con.execute(f"INSERT INTO {table('publication_snapshots')} (dataset, version, snapshot_id) VALUES (?, ?, ?)",
                [dataset, version, snapshot_id])


@dataclass(frozen=True)
class GateRun:
    """One gate run over a dataset (meta.gate_runs)."""

    run_id: str
    dataset: str
    department: str
    contract_version: str
    status: str  # passed | warn | quarantined | failed
    success: bool
    reason: str | None
    row_count: int | None
    rules: int
    rules_passed: int
    warnings: int
    quarantined: int | None
    published_version: int | None
    data_docs: str | None
    started_at: datetime
    finished_at: datetime


@dataclass(frozen=True)
class GateRuleResult:
    """One rule's outcome in a gate run (meta.gate_results); samples already masked, as JSON text."""

    run_id: str
    dataset: str
    rule: str
    kind: str
    column_name: str | None
    severity: str
    expectation: str | None
    observed: str | None
    threshold: str | None
    success: bool
    message: str | None
    samples_json: str


def write_gate_run(con: duckdb.DuckDBPyConnection, run: GateRun, results: list[GateRuleResult]) -> None:
    """Append a run and its rules in the caller's transaction."""
    insert_rows(con, "gate_runs", [run])
    insert_rows(con, "gate_results", results)


def gate_runs(con: duckdb.DuckDBPyConnection, department: str | None = None,
              since: date | None = None) -> list[GateRun]:
    """Gate runs, oldest first, of one department and/or since a day ([] on a lake without any)."""
    where, params = ["TRUE"], []
    if department:
        where.append("department = ?")
        params.append(department)
    if since:
        where.append("started_at >= ?")
        params.append(since)
    return read_rows(con, GateRun, "gate_runs", " AND ".join(where), params, order="started_at")


def failing_rules(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """{run_id: the rules that failed in it, by name} ({} on a lake without gate results)."""
    if not present_columns(con, "gate_results"):
        return {}
    return dict(con.execute(f"SELECT run_id, list(rule ORDER BY rule) FROM {table('gate_results')} "
                            "WHERE NOT success GROUP BY run_id").fetchall())
