"""Publish: atomically replace lake.shared.<dataset> with a gated audit table (minus quarantined rows), and roll back."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from countyhub.contracts.odcs import Contract
from countyhub.contracts.rules.cn_ids import register as register_udfs
from countyhub.contracts.rules.predicates import violation_sql
from countyhub.core import faultpoints
from countyhub.lakehouse import meta_gates
from countyhub.lakehouse.fingerprint import content_hash, row_changes
from countyhub.lakehouse.lake import LAKE, Lake
from countyhub.lakehouse.meta_gates import Publication
from countyhub.lakehouse.touched import touched_since

T = TypeVar("T")

if TYPE_CHECKING:  # the gate brings in Great Expectations (seconds to import); publishing only reads its result
    from countyhub.contracts.gate import GateResult

__all__ = ["Publication", "PublishError", "current_publication", "prepare_publications", "publications", "publish",
           "publish_order", "published_contract_yaml", "quarantine_table", "rollback", "unchanged_publications"]


class PublishError(RuntimeError):
    """The audit table is not the one the gate passed; nothing was published."""


def prepare_publications(lake: Lake) -> None:
    """Create the publication log if the lake has none yet, before any gate runs.

    Contract rules may read it (township_overview compares itself with resident_profile's served rows);
    on a lake where nothing was published yet such a rule must see an empty log, not a missing table.
    """
    with lake.writer():
        pass  # opening a writer brings the meta tables, publications included, to the current version


def quarantine_table(dataset: str) -> str:
    return f"{LAKE}.quarantine.shared__{dataset}"


def _quarantine(con: duckdb.DuckDBPyConnection, contract: Contract, gate: GateResult, audit: str) -> tuple[str, int]:
    """Copy offending rows (with the rules they broke and their load_id) to quarantine; returns the keep-filter."""
    rules = [r for r in contract.rules if r.severity == "quarantine" and gate.quarantined.get(r.name)]
    if not rules:
        return "TRUE", 0
    checks = [(r.name, violation_sql(r.kind, r.column or "", r.params)) for r in rules]
    broke = "list_filter([" + ", ".join(f"CASE WHEN {sql} THEN '{name}' END" for name, sql in checks) + "], " \
            "lambda x: x IS NOT NULL)"
    any_bad = " OR ".join(sql for _, sql in checks)
    load_id = "_b.load_id" if any(c.name == "load_id" for c in contract.columns) else "?"
    target = quarantine_table(contract.dataset)
    con.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT *, ''::VARCHAR AS _rule, ''::VARCHAR AS _load_id, "
                f"''::VARCHAR AS _gate_run_id, now() AS _quarantined_at FROM {audit} LIMIT 0")
    params = [] if load_id != "?" else [gate.run_id]
    con.execute(f"INSERT INTO {target} SELECT _b.*, array_to_string({broke}, ','), {load_id}, ?, now() "
                f"FROM {audit} AS _b WHERE {any_bad}", [*params, gate.run_id])
    counts = dict(con.execute(f"SELECT r, count(*) FROM (SELECT unnest(string_split(_rule, ',')) AS r FROM {target} "
                              "WHERE _gate_run_id = ?) GROUP BY r", [gate.run_id]).fetchall())
    if counts != {r.name: gate.quarantined[r.name] for r in rules}:
        raise PublishError(f"{audit}: quarantine counts {counts} differ from the gate's {gate.quarantined}: "
                           "it was rebuilt after the gate; run the gate again")
    held = con.execute(f"SELECT count(*) FROM {target} WHERE _gate_run_id = ?", [gate.run_id]).fetchone()[0]
    return f"NOT ({any_bad})", held


def publish(lake: Lake, contract: Contract, gate: GateResult,
            on_commit: Callable[[Publication], None] | None = None) -> Publication | None:
    """If the gate passed, in ONE DuckLake transaction: quarantine offending rows, replace shared.<dataset>
    with the rest, and append to meta.publications (with the contract text, for compatibility checks).

    A failed gate returns None and leaves shared untouched (the last good version stays served).
    Holds the lake writer lock only for the copy, and for `on_commit(the new version)`: what must be recorded
    elsewhere (the audit log) is recorded before another writer, or its reconciliation, can see the version.
    """
    if not gate.success:
        return None
    dataset = contract.dataset
    audit, shared = f"{LAKE}.audit.{dataset}", f"{LAKE}.shared.{dataset}"
    if gate.dataset != dataset or gate.table != audit:
        raise PublishError(f"gate run {gate.run_id} checked {gate.table}, not {audit}: refusing to publish it")
    held, changes, digest = 0, None, ""

    def build(con: duckdb.DuckDBPyConnection) -> int:
        nonlocal held, changes, digest
        total = con.execute(f"SELECT count(*) FROM {audit}").fetchone()[0]
        if gate.row_count is not None and total != gate.row_count:
            raise PublishError(f"{audit} has {total} rows but the gate checked {gate.row_count}: "
                               "it was rebuilt after the gate; run the gate again")
        keep, held = _quarantine(con, contract, gate, audit)
        if _exists(con, "shared", dataset):
            changes = row_changes(con, audit, shared, where=keep)
        digest = content_hash(con, audit)  # the flow compares the next build with it: unchanged rows, no new version
        con.execute(f"CREATE OR REPLACE TABLE {shared} AS SELECT * FROM {audit} AS _b WHERE {keep}")
        rows = con.execute(f"SELECT count(*) FROM {shared}").fetchone()[0]
        if rows + held != total:
            raise PublishError(f"{audit}: {rows} published + {held} quarantined != {total} rows")
        return rows

    with lake.writer() as con:
        register_udfs(con)
        record = {"gate_run_id": gate.run_id, "contract_version": contract.version, "quarantined": lambda: held,
                  "warnings": len(gate.warnings), "contract_yaml": contract.path.read_text(encoding="utf-8"),
                  "content_hash": lambda: digest,
                  "rows_added": lambda: changes[0] if changes else None,
                  "rows_removed": lambda: changes[1] if changes else None}
        version, snapshot_id, rows, at = _new_version(con, dataset, build, record, "publish {dataset} v{version}",
                                                      {"publish": dataset, "gate_run_id": gate.run_id})
        publication = Publication(dataset, version, snapshot_id, rows, at, gate.run_id, contract.version, held,
                                  len(gate.warnings), content_hash=digest,
                                  rows_added=changes[0] if changes else None,
                                  rows_removed=changes[1] if changes else None)
        if on_commit is not None:
            on_commit(publication)
    return publication


def unchanged_publications(lake: Lake, contracts: list[Contract]) -> dict[str, Publication]:
    """{dataset: the version shared serves now} for each contract whose audit rows hash as they did when that version
    was published, under the same contract text: publishing again would serve the same rows (gate it otherwise).

    One connection and one read of meta.publications for every contract, and an audit table is read only if a commit
    touched it since (DuckLake's snapshot log): on a day with nothing new this is all the gate stage does.
    """
    found: dict[str, Publication] = {}
    with lake.reader() as con:
        latest = meta_gates.latest_publications(con)
        audit = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                                          "AND schema_name = 'audit'", [LAKE]).fetchall()}
        for contract in contracts:
            current, text = latest.get(contract.dataset, (None, None))
            if current is None or current.content_hash is None or current.restored_version is not None:
                continue  # never published, published before hashes were kept, or a rollback serves older rows
            if contract.dataset not in audit or contract.path.read_text(encoding="utf-8") != text:
                continue
            # Untouched since its publication, the audit table is the one whose hash was stored: no need to read it.
            touched = touched_since(con, current.snapshot_id)
            if touched is not None and f"audit.{contract.dataset}" not in touched or content_hash(
                    con, f"{LAKE}.audit.{contract.dataset}") == current.content_hash:
                found[contract.dataset] = current
    return found


def _exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? "
                       "AND table_name = ?", [LAKE, schema, name]).fetchone()[0] > 0


def _new_version(con: duckdb.DuckDBPyConnection, dataset: str, build: Callable[[duckdb.DuckDBPyConnection], int],
                 record: dict[str, Any], message: str, extra: dict[str, str]) -> tuple[int, int, int, datetime]:
    """ONE lake transaction for publish and rollback alike: build() replaces shared.<dataset> and returns its rows,
    the next version is appended to meta.publications (record: its other columns; a callable is read after
    build()), and the commit is tagged with extra["gate_run_id"]. Returns (version, snapshot_id, rows, time).

    On a PostgreSQL catalog publishes of different datasets run side by side, and DuckLake refuses a commit that
    meets another writer's change to the same meta table: the whole transaction is then tried again."""
    return _retried_on_conflict(lambda: _new_version_once(con, dataset, build, record, message, extra))


CONFLICT_ATTEMPTS = 5
log = logging.getLogger(__name__)


def _retried_on_conflict(step: Callable[[], T]) -> T:
    """DuckLake refuses a commit that meets another writer's change to the same table (a publish beside another
    on a PostgreSQL catalog): the step is tried again, by then after the other's commit."""
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            return step()
        except duckdb.TransactionException as exc:
            if "Transaction conflict" not in str(exc) or attempt == CONFLICT_ATTEMPTS:
                raise
            log.warning("publish met another writer's commit (attempt %d of %d), trying again: %s", attempt,
                        CONFLICT_ATTEMPTS, str(exc).splitlines()[0][:200])
            time.sleep(random.uniform(0.1, 0.5) * attempt)
    raise AssertionError("unreachable")


def _new_version_once(con: duckdb.DuckDBPyConnection, dataset: str, build: Callable[[duckdb.DuckDBPyConnection], int],
                      record: dict[str, Any], message: str, extra: dict[str, str]) -> tuple[int, int, int, datetime]:
    con.execute("BEGIN")
    try:
        rows = build(con)
        version = meta_gates.next_version(con, dataset)
        # The snapshot this commit will create; checked after COMMIT (another writer on a
        # PostgreSQL catalog could take the number first).
        expected = con.execute(f"SELECT id FROM {LAKE}.current_snapshot()").fetchone()[0] + 1
        at = datetime.now(UTC)
        values = {"dataset": dataset, "version": version, "snapshot_id": expected, "rows": rows, "published_at": at,
                  **{k: v() if callable(v) else v for k, v in record.items()}}
        meta_gates.write_publication(con, values)
        con.execute(f"CALL {LAKE}.set_commit_message('countyhub', ?, extra_info => ?)",
                    [message.format(dataset=dataset, version=version), json.dumps(extra)])
        faultpoints.reached("publish.before_commit")
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.TransactionException:
            pass  # a refused COMMIT has already ended the transaction: the error to show is the refusal
        raise
    faultpoints.reached("publish.after_commit")
    snapshot_id = con.execute(
        f"SELECT max(snapshot_id) FROM {LAKE}.snapshots() WHERE json_extract_string(commit_extra_info, "
        "'$.gate_run_id') = ?", [extra["gate_run_id"]]).fetchone()[0]
    if snapshot_id != expected:
        _retried_on_conflict(lambda: meta_gates.set_snapshot(con, dataset, version, snapshot_id))
    return version, snapshot_id, rows, at


def _contract_text(con: duckdb.DuckDBPyConnection, dataset: str, version: int) -> str | None:
    """The contract text version was published under; a rollback without its own text has the restored one's.

    None when that version predates stored contract texts (never a later version's text: that is not
    the contract the version was checked against).
    """
    by_version = meta_gates.contract_texts(con, dataset)
    seen: set[int] = set()
    while version in by_version and version not in seen:
        seen.add(version)
        text, restored = by_version[version]
        if text is not None:
            return text
        version = restored
    return None


def rollback(lake: Lake, dataset: str, to_version: int,
             on_commit: Callable[[Publication], None] | None = None) -> Publication:
    """Serve an earlier published version again, as a new version (the log only grows), in one transaction;
    `on_commit` as for `publish`.

    The new version records the contract text of the one it restores, so `contracts check` compares
    edits against the contract actually served.
    """
    with lake.writer() as con:
        found = [p for p in meta_gates.publications(con, dataset) if p.version == to_version]
        if not found:
            raise PublishError(f"{dataset} has no published version {to_version}")
        old = (found[0].snapshot_id, found[0].gate_run_id, found[0].contract_version)
        shared = f"{LAKE}.shared.{dataset}"

        def build(con: duckdb.DuckDBPyConnection) -> int:
            con.execute(f"CREATE OR REPLACE TABLE {shared} AS SELECT * FROM {shared} AT (VERSION => {int(old[0])})")
            return con.execute(f"SELECT count(*) FROM {shared}").fetchone()[0]

        record = {"gate_run_id": old[1], "contract_version": old[2], "quarantined": None, "warnings": None,
                  "restored_version": to_version, "contract_yaml": _contract_text(con, dataset, to_version)}
        marker = f"rollback-{dataset}-{datetime.now(UTC).timestamp()}"
        version, snapshot_id, rows, at = _new_version(
            con, dataset, build, record, f"rollback {{dataset}} to v{to_version} as v{{version}}",
            {"gate_run_id": marker})
        publication = Publication(dataset, version, snapshot_id, rows, at, old[1], old[2], None, None, to_version)
        if on_commit is not None:
            on_commit(publication)
    return publication


def publications(lake: Lake, dataset: str) -> list[Publication]:
    """Every version of dataset, newest first ([] if never published)."""
    with lake.reader() as con:
        return meta_gates.publications(con, dataset)


def current_publication(lake: Lake, dataset: str) -> Publication | None:
    """The version of dataset that lake.shared serves now, or None if it was never published."""
    found = publications(lake, dataset)
    return found[0] if found else None


def published_contract_yaml(lake: Lake, dataset: str) -> str | None:
    """The contract text of the version shared serves now (after a rollback: the restored version's).

    None before the first publication, or when the served version predates stored contract texts.
    """
    with lake.reader() as con:
        versions = meta_gates.contract_texts(con, dataset)  # {} before the first publication
        return _contract_text(con, dataset, max(versions)) if versions else None


def publish_order(contracts: list[Contract]) -> list[Contract]:
    """Contracts with every dataset they reference first (referential rules read the published parent)."""
    by_name, done, out = {c.dataset: c for c in contracts}, set(), []

    def visit(contract: Contract, path: tuple[str, ...]) -> None:
        if contract.dataset in done:
            return
        if contract.dataset in path:
            raise ValueError(f"contracts reference each other in a cycle: {' -> '.join((*path, contract.dataset))}")
        for parent in sorted(contract.references):
            if parent in by_name:
                visit(by_name[parent], (*path, contract.dataset))
        done.add(contract.dataset)
        out.append(contract)

    for contract in contracts:
        visit(contract, ())
    return out
