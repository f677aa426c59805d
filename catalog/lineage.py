"""Column-level lineage of dbt models from manifest.json and the compiled SQL, with sqlglot; plus publish edges."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import Node, lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope

from countyhub.catalog.lineage_store import ColumnEdge

log = logging.getLogger(__name__)
_RESOURCES = ("model", "seed", "snapshot")
ROWS = "*"  # the column of an edge that changes which rows a model has (join keys, filters), not one value
_ROW_CLAUSES = ("where", "joins", "group", "having", "qualify")


def _dataset(node: dict[str, Any]) -> str:
    return f"{node['schema']}.{node.get('alias') or node.get('identifier') or node['name']}"


def _compiled_sql(node: dict[str, Any], compiled_dir: Path | None) -> str | None:
    """The compiled SQL from the manifest (dbt compile/build put it there) or target/compiled/<package>/<path>."""
    if node.get("compiled_code"):
        return node["compiled_code"]
    candidates = [Path(node["compiled_path"])] if node.get("compiled_path") else []
    if compiled_dir is not None:
        candidates.append(compiled_dir / node.get("package_name", "") / node.get("original_file_path", ""))
    for path in candidates:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None


def _topological(nodes: dict[str, dict[str, Any]]) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(uid: str) -> None:
        if state.get(uid) == 2 or uid not in nodes:
            return
        if state.get(uid) == 1:
            return  # a cycle cannot come out of dbt; ignore rather than recurse forever
        state[uid] = 1
        for dep in nodes[uid].get("depends_on", {}).get("nodes", []):
            visit(dep)
        state[uid] = 2
        order.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    return order


class _Schema:
    """sqlglot's nested {catalog: {db: {table: {column: type}}}}, keyed by every catalog name dbt used."""

    def __init__(self, catalogs: set[str]) -> None:
        self.catalogs = catalogs or {"lake"}
        self.mapping: dict[str, dict[str, dict[str, dict[str, str]]]] = {}

    def put(self, dataset: str, columns: Iterable[str]) -> None:
        db, table = dataset.split(".", 1)
        for cat in self.catalogs:
            self.mapping.setdefault(cat, {}).setdefault(db, {})[table] = {c: "varchar" for c in columns}

    def has(self, dataset: str) -> bool:
        db, table = dataset.split(".", 1)
        return any(table in self.mapping.get(c, {}).get(db, {}) for c in self.catalogs)


def _leaves(node: Node, plain: bool = True) -> Iterable[tuple[exp.Table, str, bool]]:
    """(source table, source column, copied unchanged?) for every leaf of a sqlglot lineage tree."""
    expression = node.expression.unalias() if isinstance(node.expression, exp.Alias) else node.expression
    plain = plain and isinstance(expression, exp.Column | exp.Table)
    if not node.downstream and isinstance(node.source, exp.Table):
        yield node.source, node.name.rsplit(".", 1)[-1].strip('"'), plain
    for child in node.downstream:
        yield from _leaves(child, plain)


def _resolve(scope: Scope, alias: str, column: str, depth: int = 0) -> set[tuple[str, str]]:
    """The real table columns behind `alias.column` in a scope, through CTEs and subqueries."""
    source = scope.sources.get(alias)
    if isinstance(source, exp.Table):
        return {(f"{source.db}.{source.name}" if source.db else source.name, column)}
    if isinstance(source, Scope) and isinstance(source.expression, exp.Select) and depth < 20:
        out: set[tuple[str, str]] = set()
        for projection in source.expression.selects:
            if projection.alias_or_name == column:
                for col in projection.find_all(exp.Column):
                    out |= _resolve(source, col.table, col.name, depth + 1)
        return out
    return set()


def row_edges(dataset: str, expression: exp.Expression) -> list[ColumnEdge]:
    """Columns used in joins, filters and grouping: a change there changes the model's rows, so every
    output column depends on them (lineage of projected columns alone would miss it)."""
    found: set[tuple[str, str]] = set()
    for scope in traverse_scope(expression):
        if not isinstance(scope.expression, exp.Select):
            continue
        for clause in _ROW_CLAUSES:
            parts = scope.expression.args.get(clause)
            for part in parts if isinstance(parts, list) else [parts] if parts else []:
                for col in part.find_all(exp.Column):
                    found |= _resolve(scope, col.table, col.name)
    return [ColumnEdge(dataset, ROWS, up, col, "filter") for up, col in sorted(found) if up != dataset]


def model_edges(dataset: str, sql: str, schema: _Schema, dialect: str = "duckdb") -> tuple[list[str], list[ColumnEdge]]:
    """The output columns of one model and the edges from its sources' columns into them."""
    expression = qualify(sqlglot.parse_one(sql, dialect=dialect), schema=schema.mapping, dialect=dialect,
                         validate_qualify_columns=False, quote_identifiers=False)
    outputs = list(expression.named_selects)
    edges = []
    for column in outputs:
        try:
            root = lineage(column, expression, schema=schema.mapping, dialect=dialect)
        except SqlglotError as exc:
            log.info("lineage of %s.%s skipped: %s", dataset, column, exc)
            continue
        for table, source_col, plain in _leaves(root):
            upstream = f"{table.db}.{table.name}" if table.db else table.name
            edges.append(ColumnEdge(dataset, column, upstream, source_col, "identity" if plain else "derived"))
    return outputs, list(dict.fromkeys(edges + row_edges(dataset, expression)))


def column_edges_from_manifest(manifest_path: Path, columns: dict[str, list[str]] | None = None,
                               compiled_dir: Path | None = None, dialect: str = "duckdb") -> list[ColumnEdge]:
    """Column edges of every dbt model, in dependency order so each model's output feeds its children's schema.

    `columns` ({dataset: [column, ...]}, e.g. from the lake's information_schema) tells sqlglot what `select *`
    expands to for sources; without it the manifest's documented columns are used. A model whose SQL sqlglot
    cannot parse is skipped (logged), never fatal: lineage is informative, not a gate.
    """
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    nodes = {uid: n for uid, n in manifest.get("nodes", {}).items() if n.get("resource_type") in _RESOURCES}
    sources = manifest.get("sources", {})
    schema = _Schema({n.get("database") for n in [*nodes.values(), *sources.values()] if n.get("database")})
    for node in [*sources.values(), *nodes.values()]:
        if node.get("columns"):
            schema.put(_dataset(node), node["columns"])
    for name, cols in (columns or {}).items():
        if "." in name and cols:
            schema.put(name, cols)
    edges: list[ColumnEdge] = []
    for uid in _topological(nodes):
        node = nodes[uid]
        sql = _compiled_sql(node, compiled_dir) if node["resource_type"] != "seed" else None
        if not sql:
            continue
        try:
            outputs, found = model_edges(_dataset(node), sql, schema, dialect)
        except SqlglotError as exc:
            log.info("lineage of %s skipped: %s", _dataset(node), exc)
            continue
        if outputs and not (columns or {}).get(_dataset(node)):
            schema.put(_dataset(node), outputs)
        edges += found
    return edges


def publish_edges(published: str, built_from: str, columns: Iterable[str]) -> list[ColumnEdge]:
    """A publish copies the audited table as is: shared.x.c comes unchanged from audit.x.c."""
    return [ColumnEdge(published, c, built_from, c, "identity") for c in columns]
