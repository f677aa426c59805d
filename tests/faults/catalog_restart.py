"""The lake's PostgreSQL catalog restarted during a run: a private PostgreSQL 15 (its own data folder and port,
never the shared server), the county's DuckLake metadata in it, `pg_ctl restart -m fast` mid-build or as the run
starts."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from tests.faults.harness import County, Outcome, finish
from tests.faults.invariants import LakeState
from tests.faults.kills import dbt_building_a_table

BIN = Path("/usr/lib/postgresql/15/bin")
LAKE_DB, SEED_DB = "lake", "lake_seed"


def can_run_postgres() -> bool:
    return (BIN / "pg_ctl").exists() and shutil.which("runuser") is not None and _has_user("postgres")


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class PrivatePostgres:
    """A PostgreSQL of the test's own in a folder owned by `postgres`, trust auth, on a free port."""

    def __init__(self) -> None:
        from tests.fixtures.servers import free_port

        self.folder = Path(tempfile.mkdtemp(prefix="countyhub-faults-pg-"))
        self.folder.chmod(0o755)  # the postgres user must reach its data folder
        self.data, self.port = self.folder / "data", free_port()
        shutil.chown(self.folder, "postgres")
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.pg_ctl("start")
        self.engine = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres",
                                       isolation_level="AUTOCOMMIT", pool_pre_ping=True)

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(BIN / tool), *args], check=True,
                       capture_output=True, cwd=self.folder)

    def pg_ctl(self, action: str, *args: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder}"
        self._pg("pg_ctl", action, "-D", str(self.data), "-w", "-l", str(self.folder / "log"), "-o", options, *args)

    def restart(self) -> None:
        self.pg_ctl("restart", "-m", "fast")

    def sql(self, *statements: str) -> None:
        with self.engine.connect() as con:
            for statement in statements:
                con.execute(sa.text(statement))

    def metadata(self, database: str = LAKE_DB) -> str:
        return f"postgres:dbname={database} host=127.0.0.1 port={self.port} user=postgres"

    def stop(self) -> None:
        self.engine.dispose()
        try:
            self.pg_ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class PgCatalogCounty(County):
    """The two-department county with its lake's metadata in a private PostgreSQL: a trial's fresh home gets the
    seeded catalog back as a copy of a template database."""

    def __init__(self, root: Path, server: PrivatePostgres) -> None:
        self.server = server
        server.sql(f"CREATE DATABASE {LAKE_DB}")
        super().__init__(root, environ={"COUNTYHUB_LAKE_METADATA": server.metadata()})
        self.lake_metadata = server.metadata()
        server.sql(f"DROP DATABASE IF EXISTS {SEED_DB}", f"CREATE DATABASE {SEED_DB} TEMPLATE {LAKE_DB}")

    def fresh(self) -> LakeState:
        self.server.sql(f"DROP DATABASE IF EXISTS {LAKE_DB} WITH (FORCE)",
                        f"CREATE DATABASE {LAKE_DB} TEMPLATE {SEED_DB}")
        return super().fresh()


@contextmanager
def pg_catalog_county(root: Path) -> Iterator[PgCatalogCounty]:
    """The county and its private PostgreSQL, stopped (and its folder removed) however the block ends."""
    server = PrivatePostgres()
    try:
        yield PgCatalogCounty(root, server)
    finally:
        server.stop()


# point -> when the restart comes
RESTART_POINTS = ("as the run starts", "dbt building a table")


def restart_during_run(point: str) -> Callable[[County], Outcome]:
    """The injection: `countyhub run`, the catalog's PostgreSQL restarted (fast) at `point`."""
    def inject(county: County) -> Outcome:
        assert isinstance(county, PgCatalogCounty)
        ready = (lambda: True) if point == "as the run starts" else dbt_building_a_table(county)
        child = county.start("run")
        done = threading.Event()

        def restart() -> None:
            while not done.is_set() and not ready():
                time.sleep(0.02)
            if not done.is_set():
                county.server.restart()

        restarter = threading.Thread(target=restart, daemon=True)
        restarter.start()
        outcome = finish(child)
        done.set()
        restarter.join()
        return outcome
    return inject
