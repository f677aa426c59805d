"""Callers' SQL, parsed with sqlglot and checked: one SELECT over shared.<dataset> names and CTEs, nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from countyhub.sharing.model import BadRequest, Forbidden

MAX_SQL = 20_000
# Prefixes of functions that read files, settings, the catalog or other databases (or our own pseudonym UDF,
# which would be an HMAC oracle: feed it guessed ID numbers and match their keys).
DENIED_PREFIXES = ("read_", "duckdb_", "pragma_", "ducklake_", "sqlite_", "postgres_", "mysql_", "parquet_",
                   "iceberg_", "delta_", "json_execute", "arrow_scan", "python_", "_countyhub", "icu_", "fts_")
DENIED = frozenset({"getenv", "current_setting", "glob", "sniff_csv", "query", "query_table", "which_secret",
                    "getvariable", "checkpoint", "force_checkpoint", "load_extension", "install_extension",
                    "enable_logging", "disable_logging", "truncate_duckdb_logs", "iceberg_scan", "delta_scan"})
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "system", "temp", "main", "memory"})
# Anything that is not a query, wherever it appears in the tree.
STATEMENTS = tuple(getattr(exp, n) for n in (
    "Command", "Pragma", "Set", "Copy", "Attach", "Detach", "Install", "Use", "Create", "Drop", "Insert", "Update",
    "Delete", "Merge", "Into", "Alter", "Describe", "Summarize", "Transaction", "Commit", "Rollback", "LoadData",
    "Export", "Analyze", "Refresh") if hasattr(exp, n))
# Table arguments the rewrite would not carry over to the masked subquery: refused rather than silently dropped.
MODIFIERS = ("system_time", "changes", "partition", "rows_from", "indexed", "hints", "format", "pattern", "only",
             "ordinality")
CARRIED = ("laterals", "joins", "pivots", "sample")
HOW = "name published datasets as shared.<dataset>"


@dataclass
class Checked:
    """A checked query: its tree (shared tables still named shared.<dataset>) and the datasets it reads."""

    tree: exp.Expression
    datasets: set[str]  # bare dataset names, lower case


def show(name: str, limit: int = 60) -> str:
    """A caller-given name, safe to put in a message: quoted with escapes, cut short."""
    return repr(name if len(name) <= limit else name[:limit] + "…")


def _function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return type(node).__name__.lower()


def _statement_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        word = str(node.this or "").upper()
        return word if word.isalpha() and len(word) <= 20 else "this statement"
    return type(node).__name__.upper()


def parse(sql: str) -> exp.Expression:
    """The one statement in `sql`, or BadRequest (never quoting the SQL back)."""
    if not isinstance(sql, str) or not sql.strip():
        raise BadRequest("send one SELECT statement in \"sql\"")
    if len(sql) > MAX_SQL:
        raise BadRequest(f"the SQL is {len(sql)} characters; the limit is {MAX_SQL}")
    try:
        trees = [t for t in sqlglot.parse(sql, dialect="duckdb") if t is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" at line {first.get('line')}, column {first.get('col')}" if first else ""
        raise BadRequest(f"cannot parse the SQL{where}: {first.get('description', 'syntax error')}") from None
    except TokenError:
        raise BadRequest("cannot parse the SQL: an unterminated string, identifier or comment") from None
    if len(trees) != 1:
        raise BadRequest(f"send exactly one statement (got {len(trees)})")
    return trees[0]


def _cte_names(node: exp.Expression) -> set[str]:
    """CTE names in scope at `node`: those of every WITH on the way up to the root."""
    names: set[str] = set()
    while node is not None:
        with_ = node.args.get("with_") or node.args.get("with")  # sqlglot 30 names the arg with_
        if isinstance(with_, exp.With):
            names |= {str(c.alias_or_name).lower() for c in with_.expressions}
        node = node.parent
    return names


def _check_table(table: exp.Table, views: Mapping[str, object], denied: Mapping[str, str]) -> str | None:
    """The dataset a table reference reads (None for a CTE), or a refusal."""
    if not isinstance(table.this, exp.Identifier):
        what = _function_name(table.this)
        raise BadRequest(f"table functions and file readers are not allowed in FROM ({show(what)}); {HOW}")
    name, db, catalog = table.name.lower(), table.db.lower(), table.catalog.lower()
    if catalog:
        raise BadRequest(f"three-part names are not allowed ({show(catalog)}…): the lake is the platform's; {HOW}")
    if not db:
        if name in _cte_names(table):
            return None
        if any(ch in name for ch in "/\\.:*?") or table.this.quoted and name.startswith(("~", "s3", "http")):
            raise BadRequest(f"file paths are not allowed as tables; {HOW}")
        raise BadRequest(f"unknown table {show(name)}: {HOW} (or a name from your WITH clause)")
    if db in SYSTEM_SCHEMAS or db.startswith(("duckdb_", "pg_")):
        raise BadRequest(f"system catalogs are not queryable ({show(db)}); {HOW}")
    if db != "shared":
        if db.startswith("raw_") or db in ("staging", "intermediate", "audit", "quarantine", "meta"):
            raise Forbidden(f"zone {show(db)} is the platform's own and not queryable here; {HOW}")
        raise BadRequest(f"unknown schema {show(db)}; {HOW}")
    if table.args.get("version") is not None or table.args.get("when") is not None:
        raise BadRequest("time travel (AT / FOR VERSION) is not available here: shared serves the published version")
    if any(table.args.get(key) for key in MODIFIERS):
        raise BadRequest(f"table modifiers other than an alias, TABLESAMPLE or PIVOT are not allowed; {HOW}")
    if name in views:
        return name
    if name in denied:
        raise Forbidden(f"shared.{name}: {denied[name]}")
    raise BadRequest(f"no shared dataset named {show(name)} (try /api/search)")


def check(sql: str, views: Mapping[str, object], denied: Mapping[str, str] | None = None) -> Checked:
    """Parse and check; `views` are the bare names the caller may read, `denied` the reasons for known others."""
    tree = parse(sql)
    root = tree.unnest() if isinstance(tree, exp.Subquery) else tree
    if not isinstance(root, exp.Select | exp.SetOperation):
        raise BadRequest(f"only SELECT queries are allowed ({_statement_name(root)} is not)")
    for node in tree.walk():
        if isinstance(node, STATEMENTS):
            raise BadRequest(f"only SELECT queries are allowed ({_statement_name(node)} is not)")
        if isinstance(node, exp.Func):
            fn = _function_name(node)
            if fn in DENIED or fn.startswith(DENIED_PREFIXES):
                raise BadRequest(f"function {show(fn)} reads files, settings or the system catalog and is not allowed")
        if isinstance(node, exp.From | exp.Join):
            source = node.this
            if isinstance(source, exp.Unnest) or isinstance(source, exp.Lateral) and isinstance(source.this, exp.Func):
                raise BadRequest(f"table functions are not allowed in FROM ({show(_function_name(source))}); {HOW}")
    datasets = set()
    for table in tree.find_all(exp.Table):
        name = _check_table(table, views, denied or {})
        if name:
            datasets.add(name)
    return Checked(tree, datasets)


def rewrite(checked: Checked, view_select: Mapping[str, exp.Expression]) -> str:
    """The checked query as DuckDB SQL, each shared.<dataset> replaced by its masked SELECT (a subquery)."""
    tree = checked.tree.copy()
    for table in list(tree.find_all(exp.Table)):
        if table.db.lower() != "shared":
            continue
        # Without an alias the subquery is aliased by the dataset's name, so `x.col` and `shared.x.col` still bind.
        alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name, quoted=True))
        sub = exp.Subquery(this=view_select[table.name.lower()].copy(), alias=alias)
        for key in CARRIED:
            if table.args.get(key):
                sub.set(key, table.args[key])
        table.replace(sub)
    for column in tree.find_all(exp.Column):
        if column.args.get("db") is not None and str(column.db).lower() == "shared":
            column.set("db", None)
    return tree.sql(dialect="duckdb", identify=True)


def referenced(sql: str) -> set[str]:
    """The bare names of every shared.<dataset> the SQL mentions (to decide access on before the full check)."""
    tree = parse(sql)
    return {t.name.lower() for t in tree.find_all(exp.Table)
            if isinstance(t.this, exp.Identifier) and t.db.lower() == "shared" and not t.catalog}
