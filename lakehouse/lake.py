"""Open the DuckLake as schema-per-zone, with extensions loaded from pip packages and writers serialized."""

from __future__ import annotations

import fcntl
import re
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import duckdb

from countyhub.core.extensions import extension_config
from countyhub.core.secrets import resolve_secret
from countyhub.core.settings import Settings
from countyhub.lakehouse import meta
from countyhub.lakehouse.names import LAKE, ZONES

__all__ = ["LAKE", "ZONES", "Lake", "LakeError", "ensure_schemas"]
PROBE = "lake_probe"  # alias of the read-only attach that asks the catalog where it keeps its files
PROBE_TABLES = 20  # tables asked for a data file before concluding there is none to check
S3_SECRET = "lake_s3"  # the DuckDB secret every connection to a lake on an object store gets
S3_KEY_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")  # the object store's keys: the standard AWS names


# The advisory lock key of the lake's writers in its PostgreSQL catalog database (any fixed 64-bit number).
WRITER_LOCK_KEY = 0x636F756E7479  # "county"


class LakeError(RuntimeError):
    """The lake cannot be opened: its catalog or data folder is missing, moved, locked or unreachable."""


def ensure_schemas(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] | list[str]) -> list[str]:
    """Create the lake schemas that are missing; returns those it created.

    Each CREATE SCHEMA, even IF NOT EXISTS, is a DuckLake round trip: look once, so a routine
    writer (every incremental load opens one) creates nothing.
    """
    created, have = [], _schemas(con)
    for schema in [schema for schema in schemas if schema not in have]:
        try:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {LAKE}.{schema}")
        except duckdb.TransactionException as exc:
            # Another writer committed the same schema first (two loads of a new department at once, on a
            # PostgreSQL catalog): DuckLake refuses the second commit, and the schema is there all the same.
            if "Transaction conflict" not in str(exc) or schema not in _schemas(con):
                raise
            continue
        created.append(schema)
    return created


def _schemas(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas() WHERE database_name = ?",
                                      [LAKE]).fetchall()}


class Lake:
    """Connections to the lakehouse; `lake.<zone>.<table>` names every table."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._config: dict[str, str | bool] | None = None
        self._moved: bool | None = None
        # Set once this object has brought lake.meta to meta.VERSION: no other writer of this code lowers it,
        # so later writers skip the catalog query (a fresh connection's first one loads the whole catalog).
        self._meta_current = False

    def duckdb_config(self) -> dict[str, str | bool]:
        if self._config is None:
            self._config = extension_config(self.settings.extension_dir)
        return dict(self._config)

    def attach_options(self) -> dict[str, str | bool]:
        """DuckLake ATTACH options (lower-case keys, as dbt-duckdb's profile takes them).

        A lake whose folder was moved, data included, opens from its new place: the catalog still
        names the old data path, so the configured one is asked to override it.
        """
        meta = self.settings.lake_metadata
        if meta.startswith("sqlite:"):
            Path(meta.removeprefix("sqlite:")).parent.mkdir(parents=True, exist_ok=True)
        if self._moved is None:
            self._moved = self._data_moved()
        if "://" not in self.settings.lake_data:
            Path(self.settings.lake_data).mkdir(parents=True, exist_ok=True)
        return {"data_path": self.settings.lake_data, **({"override_data_path": True} if self._moved else {})}

    def attach_sql(self, alias: str = LAKE, read_only: bool = False) -> str:
        options = self.attach_options()
        text = f"DATA_PATH '{options['data_path']}'" + (", OVERRIDE_DATA_PATH true" if options.get("override_data_path")
                                                        else "")
        return f"ATTACH IF NOT EXISTS 'ducklake:{self.settings.lake_metadata}' AS {alias} ({text}" + (
            ", READ_ONLY)" if read_only else ")")

    def _data_moved(self) -> bool:
        """True if the embedded catalog records another data path and the configured one holds the lake's files.

        Raises LakeError when the configured folder does not hold them: opening there would lose track
        of every table's files.
        """
        configured = self.settings.lake_data
        path = Path(self.settings.lake_metadata.removeprefix("sqlite:"))
        if not self.settings.lake_metadata.startswith("sqlite:") or "://" in configured or not path.exists():
            return False
        try:
            recorded, sample = self._recorded_data_path()
        except duckdb.Error:
            return False  # not a DuckLake catalog: DuckLake's own error will name it on the real ATTACH
        if recorded is None or recorded.rstrip("/") == configured.rstrip("/"):
            return False
        if sample is None or (Path(configured) / sample).exists():
            return True
        raise LakeError(f"the lake's catalog {path} keeps its Parquet files under {recorded}, but lake_data is "
                        f"{configured}, which does not hold them. If you moved the lake, move its data folder there "
                        f"too; otherwise set lake_data (COUNTYHUB_LAKE_DATA) back to {recorded}.")

    def _recorded_data_path(self) -> tuple[str | None, str | None]:
        """The data path the catalog records, and one live data file relative to it (None if there is none).

        Asked through DuckLake itself, attached read-only without a DATA_PATH so that it reports its own.
        """
        with closing(duckdb.connect(config=self.duckdb_config())) as con:
            con.execute(f"ATTACH 'ducklake:{self.settings.lake_metadata}' AS {PROBE} (READ_ONLY)")
            recorded = con.execute(f"SELECT data_path FROM ducklake_settings('{PROBE}')").fetchone()[0]
            tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? "
                                 "LIMIT ?", [PROBE, PROBE_TABLES]).fetchall()
            for schema, name in tables:  # a table whose rows are all inlined in the catalog has no file
                found = con.execute(f"SELECT data_file FROM ducklake_list_files('{PROBE}', ?, schema => ?) LIMIT 1",
                                    [name, schema]).fetchone()
                if found and recorded and found[0].startswith(recorded):
                    return recorded, found[0].removeprefix(recorded)
        return recorded, None

    def where(self) -> str:
        """The lake's catalog as it may be shown: a password in it is starred out."""
        return re.sub(r"password=\S+", "password=***", self.settings.lake_metadata)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A fresh in-memory DuckDB with the lake attached as `lake` and the zone schemas present."""
        con = duckdb.connect(config=self.duckdb_config())
        self.create_s3_secret(con)
        try:
            con.execute(self.attach_sql())
        except duckdb.Error as exc:
            con.close()
            raise LakeError(f"cannot open the lake (catalog {self.where()}, data {self.settings.lake_data}): "
                            f"{' '.join(str(exc).split())}") from None
        con.execute(f"USE {LAKE}")
        return con

    @property
    def on_object_store(self) -> bool:
        return self.settings.lake_data.startswith("s3://")

    def s3_secret_options(self) -> dict[str, str]:
        """The object store's DuckDB S3 secret options except its keys (lower case, as dbt-duckdb's profile takes them).

        With no endpoint (AWS itself) DuckDB's defaults apply: HTTPS and virtual-host URLs. A configured endpoint
        (MinIO, any S3-compatible store) is addressed by path, over HTTPS only if its URL says so.
        """
        options = {"region": self.settings.s3_region}
        endpoint = self.settings.s3_endpoint
        if endpoint:
            options |= {"endpoint": endpoint.split("://")[-1].rstrip("/"),
                        "use_ssl": str(endpoint.startswith("https://")).lower(), "url_style": "path"}
        return options

    def create_s3_secret(self, con: duckdb.DuckDBPyConnection) -> None:
        """Give a connection the object store's secret (nothing for a lake on local disk).

        The keys are secrets: the standard AWS_* names, resolved where every secret is, never configuration.
        """
        if not self.on_object_store:
            return
        options = {"key_id": resolve_secret(S3_KEY_ENV[0]) or "", "secret": resolve_secret(S3_KEY_ENV[1]) or "",
                   **self.s3_secret_options()}
        con.execute(f"CREATE OR REPLACE SECRET {S3_SECRET} (TYPE s3, "
                    + ", ".join(f"{name.upper()} ?" for name in options) + ")", list(options.values()))

    @contextmanager
    def lock(self, shared: bool = False) -> Iterator[None]:
        """Hold the writer lock. Writers that open their own connections, like dbt, run inside this.

        Embedded default (SQLite metadata, one writer at a time): a file lock, always exclusive. DuckLake on
        PostgreSQL takes several writers at once, but not schema changes beside them: a dbt build run next to
        loads left a view whose schema the catalog could not find, and no process could open the lake after. So
        there the lock is a PostgreSQL advisory lock in the lake's own database, across every machine: loads and
        publishes take it `shared` (they run side by side), a build takes it exclusive.
        """
        if not self.settings.lake_is_embedded:
            with self._advisory_lock(shared):
                yield
            return
        lock_path = self.settings.home / "lake" / ".writer.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    @contextmanager
    def _advisory_lock(self, shared: bool) -> Iterator[None]:
        import psycopg

        dsn = self.settings.lake_metadata.removeprefix("postgres:")
        try:
            con = psycopg.connect(dsn, autocommit=True, application_name="countyhub-writer-lock")
        except psycopg.Error as exc:
            raise LakeError(f"cannot take the lake's writer lock (catalog {self.where()}): "
                            f"{' '.join(str(exc).split())}") from None
        try:
            con.execute(f"SELECT pg_advisory_lock{'_shared' if shared else ''}(%s)", [WRITER_LOCK_KEY])
            yield
        finally:
            con.close()  # closing the session releases its advisory locks, also after a crash

    @contextmanager
    def writer(self, shared: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for writing, holding the writer lock (`shared`: beside other loads and publishes, where
        the catalog allows it), with the zone schemas and meta tables current."""
        with self.lock(shared):
            con = self.open_writer()
            try:
                yield con
            finally:
                con.close()

    def open_writer(self) -> duckdb.DuckDBPyConnection:
        """A new writer connection with the zone schemas and meta tables current; the caller holds `lock()`."""
        con = self.connect()
        try:
            # A schema created here means a new (or emptied) lake: its meta tables are missing too.
            if ensure_schemas(con, ZONES) or not self._meta_current:
                meta.migrate(con)
                self._meta_current = True
        except BaseException:
            con.close()
            raise
        return con

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self.connect()
        try:
            yield con
        finally:
            con.close()
