"""Department systems on real servers for the fault trials: a PostgreSQL and a MariaDB table behind a view that can
stall on one row (so a test can cut the read mid-stream), and a local JSON API that can answer 500s.

Each server source mirrors its department's SQLite file under the home (tests/faults/county.py writes the rows
there), so the trials' invariants read one place; the read being cut is the real server's.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from tests.faults.county import DEPARTMENTS, Layout, source_db
from tests.faults.harness import Check, County, Outcome
from tests.faults.invariants import LakeState, Verdict

POSTGRES_URL = os.environ.get("COUNTYHUB_TEST_POSTGRES", "postgresql+psycopg://root@127.0.0.1:5432/test")
MARIADB_URL = os.environ.get("COUNTYHUB_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
STALL_S = 60  # how long a stalled read waits for the test to cut it (it is cut within a second or two)
PAGE = 25  # the API's page size: the county's 70-odd rows are three or four pages


def servers_reachable() -> bool:
    """Both shared servers answer (the bench says so and skips their faults otherwise; pytest's fixtures fail in CI)."""
    for url in (POSTGRES_URL, MARIADB_URL):
        try:
            with sa.create_engine(url).connect() as con:
                con.execute(sa.text("SELECT 1"))
        except (sa.exc.SQLAlchemyError, OSError):
            return False
    return True


class _ServerTable(ABC):
    """A department's table on a SQL server, read through a view that sleeps on the row `stall(key)` names."""

    kind = ""
    url = ""

    def __init__(self, code: str, uid: str) -> None:
        self.code, (self.stream, self.key) = code, SERVER_DEPARTMENTS[code]
        self.table, self.view, self.control = f"fx{uid}_{self.stream}_t", f"fx{uid}_{self.stream}", f"fx{uid}_ctl"
        self.engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")

    def run(self, *statements: str, params: dict | None = None) -> list[Any]:
        """Execute each statement (autocommit); the rows of the last, if it returns any."""
        rows: list[Any] = []
        with self.engine.connect() as con:
            for statement in statements:
                result = con.execute(sa.text(statement), params or {})
                rows = result.fetchall() if result.returns_rows else []
        return rows

    def source_lines(self) -> str:
        return f'    kind: sql\n    config:\n      url: "{self.url}"\n'

    def stream_lines(self) -> str:
        return f"        table: {self.view}\n"

    def mirror(self, home: Path) -> None:
        """The table holds exactly the department file's rows."""
        with closing(sqlite3.connect(source_db(home, self.code))) as con:
            rows = con.execute(f"SELECT {self.key}, label, updated_at FROM {self.stream}").fetchall()
        with self.engine.begin() as con:
            con.execute(sa.text(f"DELETE FROM {self.table}"))
            con.execute(sa.text(f"INSERT INTO {self.table} VALUES (:k, :l, :u)"),
                        [{"k": k, "l": label, "u": u} for k, label, u in rows])

    def stall(self, key: int | None) -> None:
        self.run(f"UPDATE {self.control} SET stall_at = :k", params={"k": key})

    @abstractmethod
    def reader(self) -> int | None:
        """The server's id of the connection stalled mid-read on the view, once there is one."""

    @abstractmethod
    def cut(self, reader: int) -> None:
        """End that connection from the server's side."""

    def drop(self) -> None:
        self.run(f"DROP VIEW IF EXISTS {self.view}", f"DROP TABLE IF EXISTS {self.table}",
                 f"DROP TABLE IF EXISTS {self.control}")
        self.engine.dispose()


class PostgresTable(_ServerTable):
    kind, url = "postgresql", POSTGRES_URL

    def create(self) -> None:
        # The stall fires only inside the scanner's COPY, not in the row count the load's progress bar asks first.
        self.run(f"CREATE TABLE {self.table} ({self.key} integer PRIMARY KEY, label text, updated_at text)",
                 f"CREATE TABLE {self.control} (stall_at integer)", f"INSERT INTO {self.control} VALUES (NULL)",
                 f"""CREATE FUNCTION {self.view}_stall(k integer) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
                 BEGIN
                   IF k = (SELECT stall_at FROM {self.control}) AND current_query() LIKE 'COPY%' THEN
                     PERFORM pg_sleep({STALL_S});
                   END IF;
                   RETURN true;
                 END $$""",
                 f"CREATE VIEW {self.view} AS SELECT {self.key}, label, updated_at FROM {self.table} "
                 f"WHERE {self.view}_stall({self.key})")

    def reader(self) -> int | None:
        found = self.run("SELECT pid FROM pg_stat_activity WHERE query LIKE :q AND wait_event = 'PgSleep'",
                         params={"q": f"COPY%{self.view}%"})
        return found[0][0] if found else None

    def cut(self, reader: int) -> None:
        self.run("SELECT pg_terminate_backend(:p)", params={"p": reader})

    def drop(self) -> None:
        self.run(f"DROP VIEW IF EXISTS {self.view}", f"DROP FUNCTION IF EXISTS {self.view}_stall(integer)")
        super().drop()


class MariaDbTable(_ServerTable):
    kind, url = "mariadb", MARIADB_URL

    def create(self) -> None:
        # SLEEP() in the select list: the row count the progress bar asks first never evaluates it, the read does.
        # (A view calling a stored function is not listed by DuckDB's MySQL scanner.)
        self.run(f"CREATE TABLE {self.table} ({self.key} int PRIMARY KEY, label varchar(64), updated_at varchar(32))",
                 f"CREATE TABLE {self.control} (stall_at int)", f"INSERT INTO {self.control} VALUES (NULL)",
                 f"CREATE VIEW {self.view} AS SELECT {self.key}, label, IF({self.key} = (SELECT stall_at FROM "
                 f"{self.control}) AND SLEEP({STALL_S}) = 0, updated_at, updated_at) AS updated_at FROM {self.table}")

    def reader(self) -> int | None:
        found = self.run("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE :q AND STATE = 'User sleep'",
                         params={"q": f"%`{self.view}`%"})
        return found[0][0] if found else None

    def cut(self, reader: int) -> None:
        self.run(f"KILL CONNECTION {int(reader)}")


class FlakyApi:
    """The department's records as a paged JSON API (`data.items`, page/page_size), read from its SQLite file on
    every request; `fail(page, times)` makes that page answer 500 `times` times (-1: until `recover()`)."""

    def __init__(self, code: str, home: Path) -> None:
        self.code, (self.stream, self.key), self.home = code, SERVER_DEPARTMENTS[code], home
        self.fail_page: int | None = None
        self.failures_left = 0
        self.served_500 = 0
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                page, size = int(query.get("page", ["1"])[0]), int(query.get("page_size", [str(PAGE)])[0])
                status, body = api.answer(page, size)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="flaky-api", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, page: int, size: int) -> tuple[int, dict]:
        with self.lock:
            if page == self.fail_page and self.failures_left:
                self.failures_left -= self.failures_left > 0
                self.served_500 += 1
                return HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "the registry's database is restarting"}
        with closing(sqlite3.connect(source_db(self.home, self.code))) as con:
            rows = con.execute(f"SELECT {self.key}, label, updated_at FROM {self.stream} ORDER BY {self.key} "
                               "LIMIT ? OFFSET ?", [size, (page - 1) * size]).fetchall()
        return HTTPStatus.OK, {"data": {"items": [{self.key: k, "label": label, "updated_at": u}
                                                  for k, label, u in rows]}}

    def fail(self, page: int, times: int) -> None:
        with self.lock:
            self.fail_page, self.failures_left, self.served_500 = page, times, 0

    def recover(self, _county: County | None = None) -> None:
        with self.lock:
            self.fail_page, self.failures_left = None, 0

    def source_lines(self) -> str:
        # Few, quick retries: a trial's outage outlasts them; a short blip does not.
        return (f'    kind: http_json\n    config:\n      base_url: "{self.url}"\n      auth: none\n'
                "      max_retries: 2\n      backoff_s: 0.05\n")

    def stream_lines(self) -> str:
        return ("        path: /items\n        records: data.items\n"
                f"        pagination: {{type: page, size: {PAGE}}}\n")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


SERVER_DEPARTMENTS = {"ppp": ("parcels", "parcel_id"), "mmm": ("members", "member_id"), "hhh": ("firms", "firm_id")}
SERVER_LAYOUT_DATASETS = {"people_roll": ("aaa", "persons", "person_id"),
                          "parcel_list": ("ppp", "parcels", "parcel_id"),
                          "member_list": ("mmm", "members", "member_id"),
                          "firm_list": ("hhh", "firms", "firm_id")}


class ServerCounty(County):
    """A county of four departments: aaa on its SQLite file, ppp on PostgreSQL, mmm on MariaDB, hhh behind an API."""

    def __init__(self, root: Path) -> None:
        uid = uuid.uuid4().hex[:8]
        self.postgres, self.mariadb = PostgresTable("ppp", uid), MariaDbTable("mmm", uid)
        self.api = FlakyApi("hhh", root / "home")
        self.tables = (self.postgres, self.mariadb)
        for table in self.tables:
            table.create()
        systems = {"ppp": self.postgres, "mmm": self.mariadb, "hhh": self.api}
        layout = Layout(departments={"aaa": DEPARTMENTS["aaa"], **SERVER_DEPARTMENTS}, datasets=SERVER_LAYOUT_DATASETS,
                        sources={c: s.source_lines() for c, s in systems.items()},
                        stream_options={c: s.stream_lines() for c, s in systems.items()})
        super().__init__(root, layout=layout, mirror=self._mirror)

    def _mirror(self, home: Path) -> None:
        for table in self.tables:
            table.mirror(home)

    def close(self) -> None:
        """Drop the county's tables from the shared servers and stop its API (the servers keep running)."""
        for table in self.tables:
            table.drop()
        self.api.stop()


@contextmanager
def server_county(root: Path) -> Iterator[ServerCounty]:
    county = None
    try:
        county = ServerCounty(root)
        yield county
    finally:
        if county is not None:
            county.close()


def sources_fail(cuts: list[tuple[_ServerTable, int]] = (), outage: tuple[FlakyApi, int, int] | None = None
                 ) -> Callable[[County], Outcome]:
    """The injection: `countyhub run` while each source in `cuts` stalls its read on the given row — the test cuts
    that connection on the server (pg_terminate_backend / KILL) as soon as it sees it stalled, then lets the view
    go — and `outage` = (api, page, times) answers 500 on that page `times` times (-1: until `recover()`)."""
    def inject(county: County) -> Outcome:
        if outage:
            outage[0].fail(outage[1], outage[2])
        ran, cut = threading.Event(), []
        watchers = [threading.Thread(target=_cut_when_stalled, args=(table, key, ran, cut), daemon=True)
                    for table, key in cuts]
        for watcher in watchers:
            watcher.start()
        try:
            outcome = county.countyhub("run")
        finally:
            ran.set()
            for watcher in watchers:
                watcher.join()
        for table, _ in cuts:
            if table.view not in cut:
                outcome.output += f"\n(trial: the read of {table.view} never stalled: nothing was cut)"
        return outcome
    return inject


def _cut_when_stalled(table: _ServerTable, key: int, ran: threading.Event, cut: list[str]) -> None:
    table.stall(key)
    try:
        while not ran.is_set():
            reader = table.reader()
            if reader is not None:
                table.cut(reader)
                cut.append(table.view)
                return
            time.sleep(0.05)
    finally:
        table.stall(None)


def only_departments_failed(codes: tuple[str, ...], layout: Layout) -> Check:
    """A faulted run's further check: each of `codes` failed to load, in one line naming it, and its datasets kept
    their version; every other department loaded and published its new rows (no codes: everyone did)."""
    def check(outcome: Outcome, before: LakeState, source: dict[str, list], after: LakeState, verdict: Verdict) -> None:
        for code in codes:
            if f"department {code} failed to load" not in outcome.output:
                verdict.recovered = False
                verdict.notes.append(f"no line saying department {code} failed to load: {outcome.output[-400:]}")
        for dataset, (dept, _, _) in layout.datasets.items():
            if dept in codes:
                if after.version[dataset] != before.version[dataset] or (
                        frozenset(after.raw[dept]) != frozenset(before.raw[dept])):
                    verdict.partial += 1
                    verdict.notes.append(f"{dataset}: its department failed, yet raw or shared moved")
            elif frozenset(after.shared[dataset]) != frozenset(source[dept]) or (
                    after.version[dataset] <= before.version[dataset]):
                verdict.recovered = False
                verdict.notes.append(f"{dataset}: department {dept} did not finish and publish while {codes} failed")
    return check
