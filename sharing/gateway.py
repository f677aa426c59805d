"""The query gateway: one parsed, checked SELECT over per-caller masked views, on a locked-down DuckDB connection."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import duckdb.sqltypes
import pyarrow as pa
import sqlglot
from sqlglot import exp

from countyhub.lakehouse import Lake
from countyhub.sharing import sqlcheck
from countyhub.sharing.masks import column_kind, mask_sql, pseudonym, pseudonym_column
from countyhub.sharing.model import Access, BadRequest, DatasetInfo
from countyhub.sharing.serving import ServingCache


@dataclass(frozen=True)
class View:
    """What the caller's `shared.<dataset>` means: the published table, the visible columns, masked ones masked."""

    dataset: DatasetInfo
    access: Access

    @property
    def zone(self) -> str:
        return self.dataset.zone

    @property
    def table(self) -> str:
        return self.dataset.name.split(".", 1)[-1]


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool  # more rows than the row limit existed
    table: pa.Table | None = field(default=None, repr=False)  # the same rows as Arrow, for downloads


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Gateway:
    """Runs analysts' SQL against the lake's published tables through masked views only.

    One DuckDB database per process (per zone scope) holds the lake attached READ_ONLY and is locked before
    any caller's SQL runs: external access off except the lake's own Parquet folder, configuration locked,
    no extension autoload or install, memory and thread caps. Each call gets its own cursor (a DuckDB
    connection of that database). A caller's `shared.<dataset>` becomes a subquery that projects only the
    visible columns with masks applied, so the caller's SQL never names a lake table itself. Published tables
    are read from in-memory serving copies of the current snapshot when they fit in `serving_bytes`
    (sharing/serving.py; 0 turns copies off).

    `threads=1`: a query runs on its caller's thread, so concurrent callers share the cores instead of each
    query asking for all of them.
    """

    def __init__(self, lake: Lake, pseudonym_key: bytes | None = None, memory_limit: str = "512MB",
                 timeout_seconds: float = 10.0, threads: int = 1, serving_bytes: int = 256 << 20) -> None:
        """`pseudonym_key` (the county key, from the environment) enables the keyed pseudonym column."""
        self.lake, self.pseudonym_key = lake, pseudonym_key
        self.memory_limit, self.timeout_seconds, self.threads = memory_limit, timeout_seconds, threads
        self.serving = ServingCache(lambda: self._cursor("shared"), serving_bytes)
        # A random suffix, and sqlcheck refuses every `_countyhub*` function: callers cannot call the HMAC.
        self._udf = f"_countyhub_pk_{secrets.token_hex(4)}"
        self._bases: dict[str, duckdb.DuckDBPyConnection] = {}
        self._views: dict[str, exp.Expression] = {}
        self._lock = threading.Lock()

    def _data_dir(self, scope: str) -> str:
        """The only folder a locked database may read: shared/ for callers' SQL, the whole lake for platform zones.

        DuckLake keeps a table's files under <data_path>/<schema>/<table>/ (publish and rollback both write new
        files into shared/), so the database that runs callers' SQL cannot read a raw zone's files even if a
        check were missed.
        """
        root = self.lake.settings.lake_data.rstrip("/") + "/"
        return root + "shared/" if scope == "shared" else root

    def _open(self, scope: str) -> duckdb.DuckDBPyConnection:
        config = self.lake.duckdb_config()
        con = duckdb.connect(config={"extension_directory": str(config["extension_directory"]),
                                     "autoinstall_known_extensions": False, "autoload_known_extensions": False,
                                     "allow_community_extensions": False, "allow_unsigned_extensions": False})
        try:
            con.execute("LOAD ducklake")
            meta = self.lake.settings.lake_metadata
            con.execute("LOAD postgres_scanner" if meta.startswith("postgres:") else "LOAD sqlite_scanner")
            if self.lake.on_object_store:
                con.execute("LOAD httpfs")
                self.lake.create_s3_secret(con)  # the lake's own secret resolution (AWS_* names), not a copy of it
            con.execute(self.lake.attach_sql(read_only=True))
            if self.pseudonym_key is not None:
                key = self.pseudonym_key

                def keyed(values: pa.Array) -> pa.Array:
                    return pa.array([pseudonym(key, v) for v in values.to_pylist()], pa.string())

                con.create_function(self._udf, keyed, [duckdb.sqltypes.VARCHAR], duckdb.sqltypes.VARCHAR,
                                    type="arrow", null_handling="special", side_effects=False)
            # DuckDB's "Securing DuckDB" settings; allowed_directories must be set before external access is off.
            for setting in (f"SET allowed_directories = ['{self._data_dir(scope)}']",
                            "SET enable_external_access = false", "SET python_enable_replacements = false",
                            f"SET memory_limit = '{self.memory_limit}'", f"SET threads = {int(self.threads)}",
                            "SET lock_configuration = true"):
                con.execute(setting)
        except Exception:
            con.close()
            raise
        return con

    def _cursor(self, scope: str) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if scope not in self._bases:
                self._bases[scope] = self._open(scope)
            return self._bases[scope].cursor()

    def close(self) -> None:
        self.serving.wait(30)  # a copy being taken holds a cursor of the database about to close
        with self._lock:
            for con in self._bases.values():
                con.close()
            self._bases.clear()

    def view_columns(self, view: View) -> list[str]:
        """The columns a view has: the visible ones, then a pseudonym per ID-number column (with a key)."""
        names = list(view.access.columns)
        return names + [pseudonym_column(c) for c in self._keyed(view)]

    def _keyed(self, view: View) -> list[str]:
        if self.pseudonym_key is None:
            return []
        visible = set(view.access.columns)
        return [c.name for c in view.dataset.columns if c.name in visible and column_kind(c) == "id_number"]

    def view_select(self, view: View, page: bool = False, source: str | None = None) -> str:
        """The SELECT a caller's view of a dataset is: visible columns, masked ones masked, pseudonyms added.

        `page` takes LIMIT ? OFFSET ? from the table before masking, so a deep page does not mask and hash every
        row it skips. `source` is the relation to read (a serving copy); the lake table by default.
        """
        info = {c.name: c for c in view.dataset.columns}
        parts = [f"{mask_sql(info[c])} AS {_q(c)}" if c in view.access.masked else _q(c) for c in view.access.columns]
        parts += [f"{self._udf}({_q(c)}) AS {_q(pseudonym_column(c))}" for c in self._keyed(view)]
        source = source or f"lake.{_q(view.zone)}.{_q(view.table)}"
        if page:
            source = f"(SELECT {', '.join(_q(c) for c in view.access.columns)} FROM {source} LIMIT ? OFFSET ?)"
        return f"SELECT {', '.join(parts) or 'NULL AS nothing'} FROM {source}"

    def _parsed_view(self, view: View, source: str) -> exp.Expression:
        """The view's SELECT as a sqlglot tree (parsed once per distinct view: the masks are long CASE chains)."""
        text = self.view_select(view, source=source)
        with self._lock:
            tree = self._views.get(text)
        if tree is None:
            tree = sqlglot.parse_one(text, dialect="duckdb")
            with self._lock:
                if len(self._views) > 512:
                    self._views.clear()
                self._views[text] = tree
        return tree

    def check(self, sql: str, views: Mapping[str, View], denied: Mapping[str, str] | None = None) -> sqlcheck.Checked:
        """Parse with sqlglot: exactly one SELECT, only `shared.<name>` of `views` (bare names) and CTEs, no table
        functions, files, ATTACH/COPY/PRAGMA/SET/INSTALL/LOAD. BadRequest/Forbidden with a clear message otherwise;
        `denied` gives the policy's reason for datasets the caller knows of but may not read."""
        return sqlcheck.check(sql, views, denied)

    def query(self, sql: str, views: Mapping[str, View], limit: int = 10_000,
              denied: Mapping[str, str] | None = None) -> QueryResult:
        """Run a checked query; at most `limit` rows (truncated says more existed), at most timeout_seconds."""
        checked = self.check(sql, views, denied)
        con, sources = self._sources("shared", [views[name].table for name in checked.datasets])
        trees = {name: self._parsed_view(views[name], sources[views[name].table]) for name in checked.datasets}
        text = sqlcheck.rewrite(checked, trees)
        return self._run(con, f"SELECT * FROM ({text}) AS _q LIMIT {int(limit) + 1}", [], limit)

    def rows(self, view: View, columns: list[str] | None, limit: int, offset: int) -> QueryResult:
        """A page of one dataset's rows as the caller may see them (what GET /api/datasets/{name}/rows returns).

        Pages follow the table's stored order (no sort: a sort of a million rows per page would cost more than
        the page); the published table only changes by a publish, which replaces it as a whole.
        """
        wanted = columns or self.view_columns(view)
        self._known(view, wanted)
        if view.zone == "shared":
            con, sources = self._sources("shared", [view.table])
            source: str | None = sources[view.table]
        else:
            con, source = self._cursor("lake"), None
        sql = f"SELECT {', '.join(_q(c) for c in wanted)} FROM ({self.view_select(view, True, source)}) AS _v"
        return self._run(con, sql, [int(limit) + 1, int(offset)], limit)

    def filtered(self, view: View, filters: Mapping[str, Any], columns: list[str], limit: int,
                 offset: int = 0) -> QueryResult:
        """Rows of the caller's view whose columns equal `filters` (bound as parameters, on the masked view: a
        masked column never matches a raw value), at most `limit`; what a list data service answers."""
        self._known(view, [*filters, *columns])
        con, sources = self._sources("shared", [view.table])
        source = sources[view.table]
        where = " AND ".join(f"{_q(c)} = ?" for c in filters) or "TRUE"
        sql = (f"SELECT {', '.join(_q(c) for c in columns)} FROM ({self.view_select(view, source=source)}) AS _v "
               f"WHERE {where} LIMIT ? OFFSET ?")
        return self._run(con, sql, [*filters.values(), int(limit) + 1, int(offset)], limit)

    def _known(self, view: View, names: list[str]) -> None:
        """BadRequest naming the columns the caller's view does not have."""
        have = set(self.view_columns(view))
        unknown = [c for c in names if c not in have]
        if unknown:
            raise BadRequest(f"unknown columns: {', '.join(sqlcheck.show(c, 40) for c in unknown[:5])}")

    def _sources(self, scope: str, tables: list[str]) -> tuple[duckdb.DuckDBPyConnection, dict[str, str]]:
        """A cursor, and the relation each published table is read from now (its serving copy or the lake)."""
        con = self._cursor(scope)
        try:
            return con, {table: self.serving.source(con, table) for table in tables}
        except Exception:
            con.close()
            raise

    def _run(self, con: duckdb.DuckDBPyConnection, sql: str, params: list[Any], limit: int) -> QueryResult:
        """Run on `con` (closed afterwards), interrupted after timeout_seconds."""
        timer = threading.Timer(self.timeout_seconds, con.interrupt)
        try:
            timer.start()
            table = con.execute(sql, params).to_arrow_table()
        except duckdb.InterruptException:
            raise BadRequest(f"query took longer than {self.timeout_seconds:g} s; filter or aggregate more") from None
        except duckdb.OutOfMemoryException:
            raise BadRequest(f"query needs more memory than the gateway allows ({self.memory_limit})") from None
        except duckdb.PermissionException:
            raise BadRequest("query tried to reach files outside the published data; it is not allowed") from None
        except duckdb.Error as exc:
            # DuckDB's first line names the problem (binder/type/conversion); the rest quotes the SQL: drop it.
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BadRequest(f"query failed: {first[:300]}") from None
        finally:
            timer.cancel()
            con.close()
        truncated = table.num_rows > limit
        if truncated:
            table = table.slice(0, limit)
        rows = list(zip(*(column.to_pylist() for column in table.columns), strict=True)) if table.num_columns else []
        return QueryResult(table.column_names, rows, truncated, table)
