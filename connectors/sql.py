"""SQL databases (PostgreSQL, MySQL/MariaDB, SQLite): DuckDB scanners where correct, SQLAlchemy otherwise."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from countyhub.connectors import sql_duckdb
from countyhub.connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorError,
    DiscoveredStream,
    RejectSink,
    ScanPlan,
)
from countyhub.connectors.options import StreamOptions
from countyhub.core.departments import Stream

BATCH_ROWS = 50_000
# Servers a department runs. A SQLite source is a local file scanned in-process, where a full scan is cheap.
INDEXED_BACKENDS = ("postgresql", "mysql", "mariadb")


class SqlConfig(ConnectorConfig):
    url: str
    password_env: str | None = None
    db_schema: str | None = None
    batch_rows: int = BATCH_ROWS
    # auto: DuckDB's scanner for PostgreSQL and MySQL/MariaDB; SQLAlchemy for SQLite, whose loose
    # typing (a number in a TEXT column) makes the scanner fail where SQLAlchemy reads fine.
    engine: Literal["auto", "duckdb", "sqlalchemy"] = "auto"


def arrow_type(sql_type: sa.types.TypeEngine) -> pa.DataType:
    """Map a reflected SQL type to Arrow; unknown types travel as text rather than failing the load."""
    if isinstance(sql_type, sa.Boolean):
        return pa.bool_()
    if isinstance(sql_type, sa.Integer):
        return pa.int64()
    if isinstance(sql_type, sa.Float):
        return pa.float64()
    if isinstance(sql_type, sa.Numeric):
        scale = getattr(sql_type, "scale", None)
        if scale is None:
            return pa.float64()
        return pa.decimal128(min(getattr(sql_type, "precision", None) or 38, 38), scale)
    if isinstance(sql_type, sa.DateTime):
        return pa.timestamp("us")
    if isinstance(sql_type, sa.Date):
        return pa.date32()
    if isinstance(sql_type, sa.LargeBinary):
        return pa.binary()
    return pa.string()


def to_arrow(values: tuple, type_: pa.DataType) -> pa.Array:
    """Build a column; SQLite's loose typing can put numbers in a TEXT column, which travel as text."""
    try:
        return pa.array(values, type=type_)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        if type_ != pa.string():
            raise
        return pa.array([None if v is None else str(v) for v in values], type=type_)


class SqlStreamOptions(StreamOptions):
    """A database stream: the table it reads."""

    table: str | None = None  # default: the stream name


class SqlConnector(Connector):
    """One database; each stream is a table (`table:` in the stream, default the stream name)."""

    kind = "sql"
    Config = SqlConfig
    Options = SqlStreamOptions

    def __init__(self, config: dict[str, Any], where: str = "", **context: Any) -> None:
        super().__init__(config, where, **context)
        url = make_url(self.config.url)
        password = self.secret("password_env")
        self._password = password.get_secret_value() if password is not None else None
        if self._password is not None:
            url = url.set(password=self._password)
        self._url = url
        self.safe_url = url.render_as_string(hide_password=True)
        self.engine = sa.create_engine(url, pool_pre_ping=True)
        scanner = sql_duckdb.scanner_type(url)
        if self.config.engine == "duckdb" and scanner is None:
            raise ConnectorError(f"{self.where}: engine duckdb has no scanner for {url.get_backend_name()}")
        self.uses_duckdb = scanner is not None and self.config.engine != "sqlalchemy"

    def secrets(self) -> list[str]:
        return [s for s in (self._password, self._url.password) if s]

    def _fail(self, action: str, exc: Exception) -> ConnectorError:
        # The driver's message may echo the URL; keep only its first line and our password-free URL.
        detail = str(getattr(exc, "orig", exc)).splitlines()[0] if str(exc) else type(exc).__name__
        return ConnectorError(self.redact(f"{self.where}: cannot {action} {self.safe_url}: {detail}"))

    def check(self) -> None:
        try:
            with self.engine.connect() as con:
                con.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            raise self._fail("connect to", exc) from None

    def table_name(self, stream: Stream) -> str:
        return SqlStreamOptions.of(stream, self.where).table or stream.name

    def table(self, stream: Stream) -> sa.Table:
        """The stream's table as the database describes it (columns, types, primary key)."""
        return self._table(stream)

    def _table(self, stream: Stream) -> sa.Table:
        name = self.table_name(stream)
        try:
            return sa.Table(name, sa.MetaData(), autoload_with=self.engine, schema=self.config.db_schema)
        except sa.exc.NoSuchTableError:
            raise ConnectorError(f"{self.where}: table {name!r} not found in {self.safe_url}") from None
        except sa.exc.SQLAlchemyError as exc:
            raise self._fail(f"read table {name!r} of", exc) from None

    def advise(self, streams: list[Stream]) -> list[str]:
        """A warning per stream whose cursor column no index leads with (PostgreSQL, MySQL/MariaDB).

        Without one, every incremental load makes the server scan the whole table to find the few
        changed rows; the fix is on the department's side, and cheap.
        """
        if self._url.get_backend_name() not in INDEXED_BACKENDS:
            return []
        inspector = sa.inspect(self.engine)
        schema = self.config.db_schema or sql_duckdb.url_schema(self._url)
        warnings = []
        for stream in streams:
            if not stream.cursor:
                continue
            name = self.table_name(stream)
            try:
                leading = [i["column_names"][0] for i in inspector.get_indexes(name, schema=schema) if i["column_names"]]
                leading += inspector.get_pk_constraint(name, schema=schema)["constrained_columns"][:1]
            except sa.exc.SQLAlchemyError as exc:
                raise self._fail(f"read the indexes of {name!r} in", exc) from None
            if stream.cursor.lower() in {str(c).lower() for c in leading if c}:
                continue
            quote = self.engine.dialect.identifier_preparer.quote
            target = ".".join(quote(p) for p in (*([schema] if schema else []), name))
            index = quote(f"{name}_{stream.cursor}_idx")
            warnings.append(f"stream {stream.name}: cursor column {stream.cursor!r} of table {name!r} has no index, so "
                            f"every incremental load scans the whole table; ask the department to add one: "
                            f"CREATE INDEX {index} ON {target} ({quote(stream.cursor)});")
        return warnings

    def scan_plan(self, stream: Stream, state: dict[str, Any] | None = None) -> ScanPlan | None:
        if not self.uses_duckdb:
            return None
        return sql_duckdb.table_plan(self._url, self._password, self.table_name(stream),
                                     self.config.db_schema, stream.cursor, state)

    def _duckdb(self, plan: ScanPlan) -> duckdb.DuckDBPyConnection:
        from countyhub.core.extensions import extension_config

        # The runtime's DuckDB settings; a connector built on its own (a test, a notebook) verifies the
        # scanner extensions into a folder of its own instead.
        config = self.duckdb_config or extension_config(Path(tempfile.gettempdir()) / "countyhub-duckdb-extensions")
        con = duckdb.connect(config=config)
        try:
            sql_duckdb.run_setup(con, plan)
        except duckdb.Error as exc:
            con.close()
            raise self._fail("connect to", exc) from None
        return con

    def _schema(self, stream: Stream, table: sa.Table) -> pa.Schema:
        plan = self.scan_plan(stream)
        if plan is None:
            return pa.schema([(c.name, arrow_type(c.type)) for c in table.columns])
        con = self._duckdb(plan)
        try:
            return con.execute(f"SELECT * FROM ({plan.select}) LIMIT 0", plan.params).to_arrow_table().schema
        finally:
            con.close()

    def discover(self, streams: list[Stream] | None = None) -> list[DiscoveredStream]:
        if streams is None:
            names = sa.inspect(self.engine).get_table_names(schema=self.config.db_schema)
            streams = [Stream(name=n.lower(), table=n) for n in names]
        found = []
        for stream in streams:
            table = self._table(stream)
            key = stream.primary_key or [c.name for c in table.primary_key.columns]
            found.append(DiscoveredStream(stream.name, self._schema(stream, table), key, self.estimate(stream)))
        return found

    def estimate(self, stream: Stream, state: dict[str, Any] | None = None) -> int | None:
        table = self._table(stream)
        query = sa.select(sa.func.count()).select_from(table)
        if stream.cursor and state and state.get("cursor") is not None:
            column = table.c[stream.cursor]
            query = query.where(column >= state["cursor"] if state.get("cursor_op") == ">=" else column > state["cursor"])
        try:
            with self.engine.connect() as con:
                return con.execute(query).scalar_one()
        except sa.exc.SQLAlchemyError as exc:
            raise self._fail(f"count {stream.name!r} in", exc) from None

    def read(self, stream: Stream, state: dict[str, Any] | None = None,
             rejects: RejectSink | None = None) -> Iterator[pa.RecordBatch]:
        plan = self.scan_plan(stream, state)
        if plan is not None:
            yield from self._read_duckdb(stream, plan)
            return
        table = self._table(stream)
        schema = pa.schema([(c.name, arrow_type(c.type)) for c in table.columns])
        query = sa.select(table)
        if stream.cursor and state and state.get("cursor") is not None:
            column = table.c[stream.cursor]
            query = query.where(column >= state["cursor"] if state.get("cursor_op") == ">=" else column > state["cursor"])
        try:
            with self.engine.connect().execution_options(stream_results=True) as con:
                result = con.execute(query)
                while rows := result.fetchmany(self.config.batch_rows):
                    columns = list(zip(*rows))
                    yield pa.RecordBatch.from_arrays(
                        [to_arrow(col, f.type) for col, f in zip(columns, schema)], schema=schema
                    )
        except sa.exc.SQLAlchemyError as exc:
            raise self._fail(f"read {stream.name!r} from", exc) from None

    def _read_duckdb(self, stream: Stream, plan: ScanPlan) -> Iterator[pa.RecordBatch]:
        con = self._duckdb(plan)
        try:
            yield from con.execute(plan.select, plan.params).to_arrow_reader(self.config.batch_rows)
        except duckdb.Error as exc:
            raise self._fail(f"read {stream.name!r} from", exc) from None
        finally:
            con.close()
