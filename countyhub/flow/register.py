"""Register what the flow produced in the catalog: raw streams, dbt models, published datasets, gate runs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from countyhub.catalog.store import Catalog, Column, DatasetEntry
from countyhub.contracts.gate import GateResult
from countyhub.contracts.odcs import Contract, load_contracts
from countyhub.contracts.publish import Publication
from countyhub.core import faultpoints
from countyhub.core.departments import Department, load_departments
from countyhub.flow.runtime import Runtime
from countyhub.lakehouse import meta
from countyhub.lakehouse.touched import current_snapshot, touched_since

SAMPLE_ROWS = 5


def record_gate(runtime: Runtime, contract: Contract, gate: GateResult, publication: Publication | None) -> None:
    """Store a gate run (and the publication it allowed): in the lake (meta.gate_runs / meta.gate_results, what
    `countyhub quality report` reads) and against the shared dataset's catalog entry (what the pages read).

    Each rule's dict carries rule, kind, column, expectation, observed, threshold, success, severity, message
    and `samples` (a few offending rows, already masked by column classification).
    """
    from countyhub.contracts.runs import store_gate_run

    settings = runtime.settings
    store_gate_run(runtime.lake, contract, gate, publication)
    catalog, name = runtime.catalog, f"shared.{contract.dataset}"
    # Run-level facts as in meta.gate_runs; Data Docs relative to <home>/data_docs, which the catalog serves.
    docs_root, docs = (settings.home / "data_docs").resolve(), Path(gate.data_docs).resolve() if gate.data_docs else None
    extra = {"status": gate.status, "rules": len(gate.results), "rules_passed": sum(r.success for r in gate.results),
             "warnings": len(gate.warnings), "row_count": gate.row_count,
             "quarantined": publication.quarantined if publication else None,
             "quarantined_rules": {rule: n for rule, n in gate.quarantined.items() if n},
             "published_version": publication.version if publication else None,
             "data_docs": docs.relative_to(docs_root).as_posix() if docs and docs.is_relative_to(docs_root) else None}
    catalog.record_gate_run(name, gate.run_id, gate.success, gate.reason, [asdict(r) for r in gate.results],
                            gate.started_at, gate.finished_at, extra)
    if publication is not None:
        catalog.record_publication(name, publication.version, publication.snapshot_id, publication.rows,
                                   publication.published_at)


def record_failure(runtime: Runtime, datasets: Iterable[str], task: str, run_id: str, error: BaseException | str) -> None:
    """A scheduled task failed for good: each dataset it was making shows the failure on its catalog page until a
    later load or publication of it succeeds. The message is one line (the catalog masks personal data in it)."""
    text = " ".join(str(error).split()) or type(error).__name__
    now = datetime.now(UTC)
    for dataset in datasets:
        runtime.catalog.record_run_failure(dataset, task, run_id, text[:400], now)


class _LakeListing:
    """What registration reads of the lake's catalog, read once: every table's columns and every schema change;
    and each table's row count and sample, taken again only from a table a commit touched since the last
    registration (`touched`: None when that is not known, so every table is sampled)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, touched: set[str] | None = None,
                 registered: dict[str, dict[str, Any]] | None = None) -> None:
        self.con, self._touched, self._registered = con, touched, registered or {}
        self._columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, kind in con.execute(
                "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = 'lake' ORDER BY table_schema, table_name, ordinal_position").fetchall():
            self._columns.setdefault((schema, table), []).append((column, kind))
        self._changes: dict[tuple[str, str], list[meta.SchemaChange]] = {}
        for change in meta.schema_changes(con):  # newest first, and so per stream
            self._changes.setdefault((change.department, change.stream), []).append(change)

    def columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        return self._columns.get((schema, table), [])

    def sample(self, name: str) -> tuple[int, list[dict[str, Any]]]:
        """(rows, a few rows) of lake.<name>; a table no commit touched keeps what its entry says (masked as
        stored: masking is idempotent, so registering it again leaves the entry as it was)."""
        kept = self._registered.get(name)
        if self._touched is not None and name not in self._touched and kept and kept.get("row_count") is not None:
            return kept["row_count"], kept.get("sample_rows") or []
        return _sample(self.con, name)

    def schema_changes(self, department: str, stream: str) -> list[dict[str, Any]]:
        """The stream's schema changes as loads recorded them in lake.meta.schema_changes, newest first."""
        return [{"changed_at": c.changed_at.astimezone(UTC).isoformat(timespec="seconds"), "load_id": c.load_id,
                 "column": c.column_name, "change": c.change, "old_type": c.old_type, "new_type": c.new_type}
                for c in self._changes.get((department, stream), [])]


def _sample(con: duckdb.DuckDBPyConnection, name: str) -> tuple[int, list[dict[str, Any]]]:
    count = con.execute(f"SELECT count(*) FROM lake.{name}").fetchone()[0]
    cursor = con.execute(f"SELECT * FROM lake.{name} LIMIT {SAMPLE_ROWS}")
    names = [d[0] for d in cursor.description]
    return count, [dict(zip(names, map(_plain, row))) for row in cursor.fetchall()]


def _latest(changes: list[dict[str, Any]], kind: str) -> dict[str, str]:
    """{column: date} for the columns whose latest added/dropped change is `kind` (the list is newest first)."""
    latest: dict[str, dict[str, Any]] = {}
    for c in changes:
        if c["change"] in ("added", "dropped"):
            latest.setdefault(c["column"], c)
    return {column: c["changed_at"][:10] for column, c in latest.items() if c["change"] == kind}


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _raw_entries(lake: _LakeListing, departments: list[Department]) -> list[DatasetEntry]:
    entries = []
    for dept in departments:
        for source in dept.sources:
            for stream in source.streams:
                cols = lake.columns(dept.raw_schema, stream.name)
                if not cols:
                    continue  # never loaded yet
                name = f"{dept.raw_schema}.{stream.name}"
                rows, sample = lake.sample(name)
                changes = lake.schema_changes(dept.code, stream.name)
                since, dropped = _latest(changes, "added"), _latest(changes, "dropped")
                entries.append(DatasetEntry(
                    name=name, kind="raw_stream", title_zh=stream.title or stream.name,
                    title_en=stream.title_en or stream.name.replace("_", " "),
                    description=stream.description or f"{dept.name} {source.title or source.name}: {stream.title or stream.name}",
                    department_code=dept.code, department_name=dept.name, sharing_type=dept.sharing_type,
                    classification=stream.classification,
                    columns=[Column(n, t, classification=stream.classification, since=since.get(n, ""),
                                    dropped=dropped.get(n, "")) for n, t in cols],
                    keywords=[*stream.keywords, dept.name_en, source.kind], update_cycle=dept.schedule or "",
                    row_count=rows, sample_rows=sample, steward=dept.owner.steward, contact=dept.owner.email or "",
                    sharing_conditions=dept.sharing_conditions or "", legal_basis=dept.legal_basis or "",
                    origin=f"{source.title or source.name} ({source.kind}) / {stream.name}",
                    schema_changes=changes,
                ))
    return entries


def _dbt_entries(lake: _LakeListing, manifest_path: Path, departments: dict[str, Department],
                 contracts: dict[str, Contract]) -> list[DatasetEntry]:
    """dbt models from the manifest, with lineage from depends_on (sources map to raw_<dept>.<stream>)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    names = {uid: f"{n['schema']}.{n['name']}" for uid, n in {**manifest["nodes"], **manifest["sources"]}.items()}
    entries = []
    for node in manifest["nodes"].values():
        if node["resource_type"] not in ("model", "seed"):
            continue
        schema, table = node["schema"], node["alias"] or node["name"]
        cols = lake.columns(schema, table)
        if not cols:
            continue
        contract = contracts.get(table) if schema == "audit" else None
        dept_code = contract.department if contract else _department_of(node, departments)
        dept = departments.get(dept_code)
        documented = node.get("columns", {})
        # A view is a query over what it reads: counting or sampling it runs the query (at county scale, joins
        # over millions of rows on every registration), so its rows are those of its tables upstream.
        is_view = node.get("config", {}).get("materialized") == "view"
        rows, sample = (None, []) if is_view else lake.sample(f"{schema}.{table}")
        entries.append(DatasetEntry(
            name=f"{schema}.{table}", kind="model",
            title_zh=(contract.title if contract else None) or table, title_en=table.replace("_", " "),
            description=node.get("description") or "",
            department_code=dept_code, department_name=dept.name if dept else dept_code,
            sharing_type=contract.sharing_type if contract else (dept.sharing_type if dept else "conditional"),
            classification=contract.classification if contract else "internal",
            columns=[Column(n, t, documented.get(n, {}).get("description", "") or "") for n, t in cols],
            upstream=[names[u] for u in node.get("depends_on", {}).get("nodes", []) if u in names],
            keywords=list(node.get("tags", [])), row_count=rows, sample_rows=sample,
            steward=dept.owner.steward if dept else "",
        ))
    return entries


def _department_of(node: dict[str, Any], departments: dict[str, Department]) -> str:
    """staging/<dept>/stg_<dept>__x belongs to <dept>; everything built across departments to dsj."""
    for part in node.get("fqn", []):
        if part in departments:
            return part
    return "dsj"


def _published_entries(lake: _LakeListing, contracts: list[Contract],
                       departments: dict[str, Department]) -> list[DatasetEntry]:
    entries = []
    for c in contracts:
        if not lake.columns("shared", c.dataset):
            continue  # never passed a gate yet
        rows, sample = lake.sample(f"shared.{c.dataset}")
        dept = departments.get(c.department)
        entries.append(DatasetEntry(
            name=f"shared.{c.dataset}", kind="published", title_zh=c.title or c.dataset,
            title_en=c.dataset.replace("_", " "), description=c.description or "",
            department_code=c.department, department_name=dept.name if dept else c.department,
            sharing_type=c.sharing_type, classification=c.classification,
            columns=[Column(col.name, col.physical_type,
                            " ".join(x for x in (col.business_name, col.description) if x), col.classification)
                     for col in c.columns],
            upstream=[f"audit.{c.dataset}"], keywords=list(c.custom.get("tags", [])),
            update_cycle=c.update_cycle or "", contract=str(c.path), row_count=rows, sample_rows=sample,
            contract_version=c.version, sharing_conditions=c.sharing_conditions or "", legal_basis=c.legal_basis or "",
            steward=c.owner, contact=dept.owner.email or "" if dept else "",
            themes=_as_list(c.custom.get("themes")), resource_code=str(c.custom.get("resourceCode") or ""),
            resource_class=str(c.custom.get("resourceClass") or ""), sharing_modes=_as_list(c.custom.get("sharingModes")),
            open_attribute=str(c.custom.get("openAttribute") or ""), related=_as_list(c.custom.get("related")),
        ))
    return entries


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _column_lineage(catalog: Catalog, manifest_path: Path, entries: list[DatasetEntry],
                    contracts: list[Contract]) -> None:
    """Column edges from dbt's compiled SQL (sqlglot), plus audit -> shared for every published dataset."""
    from countyhub.catalog.lineage import column_edges_from_manifest, publish_edges

    cols = {e.name: [c.name for c in e.columns] for e in entries}
    edges = column_edges_from_manifest(manifest_path, cols, compiled_dir=manifest_path.parent / "compiled")
    for c in contracts:
        if f"shared.{c.dataset}" in cols:
            edges += publish_edges(f"shared.{c.dataset}", f"audit.{c.dataset}", cols[f"shared.{c.dataset}"])
    catalog.set_column_lineage(edges, datasets=set(cols))


def _lineage_digest(manifest_path: Path, entries: list[DatasetEntry], catalog_url: str) -> str:
    """What column lineage is computed from: every model's code and inputs, and the columns the lake has.

    The same digest means the same edges: sqlglot, the slowest part of registering, is not run again.
    """
    nodes = json.loads(manifest_path.read_text(encoding="utf-8")).get("nodes", {})
    code = sorted((uid, n.get("raw_code"), n.get("depends_on"), n.get("config", {}).get("materialized"))
                  for uid, n in nodes.items())
    cols = sorted((e.name, [(c.name, c.type) for c in e.columns]) for e in entries)
    text = json.dumps([code, cols, catalog_url], ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _registered_snapshot(marker: Path, catalog_url: str) -> int | None:
    """The lake snapshot the last registration into this catalog read (None: none recorded, or another catalog)."""
    try:
        record = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record.get("snapshot") if record.get("catalog_url") == catalog_url else None


def register_all(runtime: Runtime, manifest_path: Path | None = None) -> int:
    """(Re-)register every dataset that exists in the lake; upserts, so a re-run adds nothing twice."""
    from countyhub.flow.build import manifest_file

    settings = runtime.settings
    departments = load_departments(settings.departments_dir)
    by_code = {d.code: d for d in departments}
    contracts = load_contracts(settings.contracts_dir)
    catalog = runtime.catalog
    manifest_path = manifest_path or manifest_file(settings)
    registered = settings.home / "catalog-registered.json"
    with runtime.lake.reader() as con:
        snapshot, since = current_snapshot(con), _registered_snapshot(registered, settings.catalog_url)
        touched = touched_since(con, since) if since is not None else None
        lake = _LakeListing(con, touched, {e["name"]: e for e in catalog.entries()} if touched is not None else None)
        entries = _raw_entries(lake, departments)
        if manifest_path.exists():
            entries += _dbt_entries(lake, manifest_path, by_code, {c.dataset: c for c in contracts})
        entries += _published_entries(lake, contracts, by_code)
        loads = meta.loads(con)
    for entry in entries:
        faultpoints.reached("catalog.register")
        catalog.register_dataset(entry)  # an entry that says what it said before is not written again
    if manifest_path.exists():
        digest = _lineage_digest(manifest_path, entries, settings.catalog_url)
        marker = manifest_path.parent / "lineage.digest"
        if not catalog.has_column_lineage() or not marker.is_file() or marker.read_text() != digest:
            _column_lineage(catalog, manifest_path, entries, contracts)
            marker.write_text(digest)
    registered.write_text(json.dumps({"catalog_url": settings.catalog_url, "snapshot": snapshot}), encoding="utf-8")
    recorded = catalog.recorded_loads()
    for load in (x for x in loads if (f"raw_{x.department}.{x.stream}", x.load_id) not in recorded):
        catalog.record_load(f"raw_{load.department}.{load.stream}", load.load_id, load.rows_loaded, load.status,
                            load.started_at, load.finished_at, load.message)
    return len(entries)
