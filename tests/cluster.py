"""A real Airflow deployment on this machine, with docker-compose.yml's own settings and local addresses.

Metadata in PostgreSQL, CeleryExecutor on Redis, api-server, scheduler, dag-processor, triggerer and two Celery workers as
separate processes; the lake's DuckLake catalog and the catalog store in PostgreSQL; lake data in an object store.
The environment comes from the `x-countyhub` block of docker-compose.yml, with its `${VAR}` and `${VAR:-default}`
filled the way Compose fills them: the compose file is the one place those settings are written down.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import httpx
import psutil
import sqlalchemy as sa
import yaml

from countyhub.core.departments import load_departments
from countyhub.core.settings import PROJECT_DIR
from countyhub.lakehouse import Lake
from countyhub.testing_servers import ObjectStore, free_port

COMPOSE = PROJECT_DIR / "docker-compose.yml"
BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get("COUNTYHUB_TEST_POSTGRES", "postgresql+psycopg://root@127.0.0.1:5432/test")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


def _filler(values: Mapping[str, str]) -> Any:
    def fill(text: Any) -> str:
        def one(m: re.Match[str]) -> str:
            value = values.get(m.group(1), "")
            return value if value or m.group(2) is None else m.group(2)
        return _VAR.sub(one, str(text))
    return fill


def compose_spec(compose: Path = COMPOSE) -> dict[str, Any]:
    return yaml.safe_load(compose.read_text(encoding="utf-8"))


def compose_environment(values: Mapping[str, str], compose: Path = COMPOSE) -> dict[str, str]:
    """The services' shared environment in docker-compose.yml, `${VAR}` filled from `values` (unset: empty;
    `${VAR:-default}`: the default when unset or empty), as `docker compose` does."""
    fill = _filler(values)
    return {key: fill(value) for key, value in compose_spec(compose)["x-countyhub"]["environment"].items()}


def compose_command(service: str, values: Mapping[str, str], compose: Path = COMPOSE) -> list[str]:
    """A service's command in docker-compose.yml, `${VAR}` filled."""
    fill = _filler(values)
    return [fill(part) for part in compose_spec(compose)["services"][service]["command"]]


# The ingest DAG of every department with sources (the DAG files `countyhub dags write` wrote).
INGEST_DAGS = [f"ingest_{d.code}" for d in load_departments(PROJECT_DIR / "departments") if d.sources]


_SCHEDULE = re.compile(r"^schedule:.*$", re.MULTILINE)


def departments_run_once(dest: Path) -> Path:
    """The project's department files in `dest`, each ingest DAG scheduled "@once": it runs when unpaused and then
    only when triggered. On their own schedules a test or bench crossing the hour (cgj is @hourly) or midnight
    would get extra ingest runs, and builds after them, that it did not start."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted((PROJECT_DIR / "departments").glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        once, found = _SCHEDULE.subn('schedule: "@once"', text)
        (dest / path.name).write_text(once if found else f'{text.rstrip()}\nschedule: "@once"\n', encoding="utf-8")
    return dest


def raw_counts(lake: Lake, streams: Iterable[str]) -> dict[str, int]:
    """Rows in raw_<department>.<stream> for each `department.stream`."""
    with lake.reader() as con:
        return {s: con.execute(f"SELECT count(*) FROM raw_{s}").fetchone()[0] for s in streams}


# The services the cluster starts, as named in docker-compose.yml (each worker replica separately).
SERVICES = ("airflow-api", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker")


@dataclass
class Cluster:
    """Start with `with Cluster(home, store=...) as cluster:`; everything started is stopped on exit."""

    home: Path
    store: ObjectStore | None = None  # the object store for lake data (None keeps the lake data under home)
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. the demo API's address and token
    name: str = field(default_factory=lambda: f"ch_{uuid.uuid4().hex[:8]}")
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    api_port: int = 0
    services: bool = True  # False: prepare the databases and the lake, start no Airflow service
    # Redis database 1-15, a different one per cluster: workers of another cluster on this machine (a test run
    # stopped before it could clean up) would otherwise take this cluster's tasks from the shared queue.
    redis_db: int = field(default_factory=lambda: 1 + secrets.randbelow(15))
    filled: dict[str, str] = field(default_factory=dict)  # the values docker-compose.yml's variables got
    # The PostgreSQL server of the three databases (the compose file's one `postgres`), as an admin URL.
    postgres: str = PG_ADMIN
    # name -> (compose service, command, extra environment) of each process started
    commands: dict[str, tuple[str, list[str], dict[str, str]]] = field(default_factory=dict)
    restarts: list[str] = field(default_factory=list)  # services started again after they exited, as Compose would

    @property
    def databases(self) -> tuple[str, ...]:
        return (f"{self.name}_airflow", f"{self.name}_lake", f"{self.name}_catalog")

    def values(self) -> dict[str, str]:
        """What this machine gives docker-compose.yml's variables (the compose file's defaults name containers)."""
        airflow_db, lake_db, catalog_db = self.databases
        server = sa.engine.make_url(self.postgres)
        return {
            "PG_HOST": server.host or "127.0.0.1", "PG_PORT": str(server.port or 5432),
            "PG_USER": server.username or "root", "POSTGRES_PASSWORD": server.password or "", "REDIS_HOST": "127.0.0.1",
            "REDIS_DB": str(self.redis_db), "AIRFLOW_DB": airflow_db, "LAKE_DB": lake_db, "CATALOG_DB": catalog_db,
            "AIRFLOW_API_HOST": "127.0.0.1", "AIRFLOW_API_PORT": str(self.api_port), "COUNTYHUB_HOME": str(self.home),
            "DAGS_FOLDER": str(PROJECT_DIR / "dags"), "LAKE_BUCKET": self.store.bucket if self.store else "",
            "S3_ENDPOINT": self.store.endpoint_url if self.store else "",
            "MINIO_ROOT_USER": self.store.access_key if self.store else "",
            "MINIO_ROOT_PASSWORD": self.store.secret_key if self.store else "",
            "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(24), "AIRFLOW_FERNET_KEY": "",
        }

    def __enter__(self) -> Self:
        self.api_port = free_port()
        self.filled = self.values()
        once = departments_run_once(self.home / "cluster-departments")
        self.env = {**os.environ, **compose_environment(self.filled), "COUNTYHUB_DEPARTMENTS_DIR": str(once),
                    **self.extra_env, "AIRFLOW_HOME": str(self.home / "airflow"),
                    "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
        if self.store is None:  # no object store given: lake data stays on this machine's disk
            self.env["COUNTYHUB_LAKE_DATA"] = str(self.home / "lake" / "data") + "/"
        self.home.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(self.postgres, isolation_level="AUTOCOMMIT")
        with engine.connect() as con:
            for db in self.databases:
                con.execute(sa.text(f"CREATE DATABASE {db}"))
        try:
            values = self.filled
            self._run("sh", "-c", compose_command("airflow-init", values)[-1])  # migrate, lake init, pools
            if not self.services:  # the databases and the lake only: for the same flow run from the CLI
                return self
            for service in SERVICES[:-1]:
                self._start(service, *compose_command(service, values))
            for n in range(1, compose_spec()["services"]["airflow-worker"]["deploy"]["replicas"] + 1):
                # Local differences only: in compose each worker container has its own host name and ports.
                self._start(f"airflow-worker-{n}", *compose_command("airflow-worker", values),
                            "--celery-hostname", f"worker{n}@%h",
                            env={"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}, service="airflow-worker")
            self._wait_for_api()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        engine = sa.create_engine(self.postgres, isolation_level="AUTOCOMMIT")
        with engine.connect() as con:
            for db in self.databases:
                con.execute(sa.text(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))

    def _run(self, tool: str, *args: str) -> str:
        done = subprocess.run([tool, *args], check=False, env=self.env, capture_output=True, text=True,
                              timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    def _start(self, name: str, tool: str, *args: str, env: Mapping[str, str] | None = None,
               service: str | None = None) -> None:
        log = (self.home / "logs")
        log.mkdir(exist_ok=True)
        self.commands[name] = (service or name, [tool, *args], dict(env or {}))
        self.processes[name] = subprocess.Popen(
            [tool, *args], env={**self.env, **(env or {})}, start_new_session=True,
            stdout=(log / f"{name}.log").open("a"), stderr=subprocess.STDOUT)

    def log(self, name: str) -> str:
        return (self.home / "logs" / f"{name}.log").read_text(errors="replace")

    def _wait_for_api(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(f"http://127.0.0.1:{self.api_port}/api/v2/monitor/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise TimeoutError(f"the api-server did not answer in {timeout:.0f} s:\n{self.log('airflow-api')[-3000:]}")

    def api(self, method: str, path: str, **body: Any) -> Any:
        """One call to Airflow's REST API (/api/v2), as its admin user: the api-server's simple auth manager wrote
        the password it generated into AIRFLOW_HOME."""
        base = f"http://127.0.0.1:{self.api_port}"
        passwords = json.loads((self.home / "airflow" / "simple_auth_manager_passwords.json.generated").read_text())
        token = httpx.post(f"{base}/auth/token", json={"username": "admin", "password": passwords["admin"]},
                           timeout=30).raise_for_status().json()["access_token"]
        answer = httpx.request(method, f"{base}/api/v2{path}", json=body or None, timeout=30,
                               headers={"Authorization": f"Bearer {token}"})
        if answer.is_error:
            raise RuntimeError(f"{method} /api/v2{path}: {answer.status_code} {answer.text[:500]}")
        return answer.json()

    def check_alive(self) -> None:
        """A service that exited is started again if docker-compose.yml's `restart:` says Compose would (the
        restart is recorded in `restarts`); otherwise its exit fails the test, with its log."""
        for name, proc in list(self.processes.items()):
            if proc.poll() is None:
                continue
            service, (tool, *args), env = self.commands[name]
            policy = compose_spec()["services"][service].get("restart", "no")
            if policy in ("always", "unless-stopped") or (policy == "on-failure" and proc.returncode != 0):
                self.restarts.append(f"{name} (exit {proc.returncode})")
                self._start(name, tool, *args, env=env, service=service)
                continue
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log(name)[-4000:]}")

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) so far of each compose service (both workers summed), with every process of
        each started process's session: a worker's pool and the tasks it ran count (a finished task's time is in
        its reaped parent's children times)."""
        by_session: dict[int, float] = {}
        for p in psutil.process_iter():
            try:
                session, t = os.getsid(p.pid), p.cpu_times()
            except (psutil.Error, OSError):  # ended while being read
                continue
            by_session[session] = by_session.get(session, 0.0) + t.user + t.system + t.children_user + t.children_system
        used: dict[str, float] = {}
        for name, proc in self.processes.items():
            service = self.commands[name][0]
            used[service] = used.get(service, 0.0) + by_session.get(proc.pid, 0.0)
        return used

    # -- reading and steering Airflow -------------------------------------------------------------------------
    def metadata(self) -> sa.Engine:
        return sa.create_engine(self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], pool_pre_ping=True)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        """A query on Airflow's metadata; while its PostgreSQL restarts, asked again for up to a minute."""
        deadline = time.monotonic() + 60
        while True:
            engine = self.metadata()
            try:
                with engine.connect() as con:
                    return list(con.execute(sa.text(sql), params))
            except sa.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
            finally:
                engine.dispose()

    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float = 180) -> None:
        """Until the dag-processor has parsed every DAG file into the metadata database."""
        wanted, deadline = set(dag_ids), time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if wanted <= {r.dag_id for r in self.rows("SELECT dag_id FROM dag WHERE NOT is_stale")}:
                return
            time.sleep(2)
        raise TimeoutError(f"DAGs not parsed in {timeout:.0f} s: {sorted(wanted)}\n{self.log('airflow-dag-processor')[-3000:]}")

    def trigger(self, dag_id: str) -> None:
        self._run("airflow", "dags", "trigger", dag_id)

    def unpause(self, *dag_ids: str) -> None:
        """All at once (one command): a DAG scheduled on assets must not be paused when its assets' events come."""
        pattern = "^(" + "|".join(re.escape(d) for d in dag_ids) + ")$"
        self._run("airflow", "dags", "unpause", "--treat-dag-id-as-regex", "--yes", pattern)

    def wait_until_idle(self, dag_ids: Iterable[str], timeout: float = 900) -> dict[str, list[str]]:
        """Until each DAG has a finished run and none is queued or running; returns {dag_id: [run states]}."""
        wanted, deadline = set(dag_ids), time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            runs: dict[str, list[str]] = {}
            for r in self.rows("SELECT dag_id, state FROM dag_run ORDER BY id"):
                runs.setdefault(r.dag_id, []).append(r.state)
            busy = any(s in ("queued", "running") for states in runs.values() for s in states)
            if not busy and all(d in runs for d in wanted):
                time.sleep(5)  # an asset event may be about to start the next build: look again
                again = self.rows("SELECT count(*) AS n FROM dag_run WHERE state IN ('queued', 'running')")
                if again[0].n == 0:
                    return runs
            time.sleep(3)
        raise TimeoutError(f"runs still going after {timeout:.0f} s:\n{self.unfinished()}")

    def run_all(self, dag_ids: Iterable[str], timeout: float = 1800) -> tuple[float, dict[str, list[str]]]:
        """Unpause the DAGs (each scheduled DAG gets its latest run, the build follows its assets) and wait
        until all is done: (seconds from unpausing to idle, {dag_id: run states})."""
        dag_ids = list(dag_ids)
        self.wait_for_dags(dag_ids)
        started = datetime.now(UTC)
        self.unpause(*dag_ids)
        runs = self.wait_until_idle(dag_ids, timeout)
        finished = self.rows("SELECT max(end_date) AS at FROM dag_run")[0].at  # not when this loop noticed
        return (finished - started).total_seconds(), runs

    def kill_worker_running(self, dag_id: str, task_id: str, timeout: float = 600) -> str:
        """Wait until a try of the task runs, then SIGKILL the whole Celery worker running it (the worker, its pool
        and the task, as when the worker's machine goes away); returns the worker's name."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            running = self.rows("SELECT run_id, try_number FROM task_instance WHERE dag_id = :d AND task_id = :t "
                                "AND state = 'running'", d=dag_id, t=task_id)
            if running:
                # The worker's log names the try it executes: ".../run_id=<run>/task_id=<task>/attempt=<n>.log".
                wanted = f"run_id={running[0].run_id}/task_id={task_id}/attempt={running[0].try_number}.log"
                for name, proc in self.processes.items():
                    if name.startswith("airflow-worker") and wanted in self.log(name):
                        # Every process under the worker: Airflow starts each task in a session of its own, which
                        # a kill of the worker's process group would leave running.
                        for child in psutil.Process(proc.pid).children(recursive=True):
                            try:
                                child.kill()
                            except psutil.NoSuchProcess:  # a short-lived one (a task's helper) ended meanwhile
                                pass
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait()
                        del self.processes[name]
                        return name
            time.sleep(0.3)
        raise TimeoutError(f"{dag_id}.{task_id} did not run on a worker within {timeout:.0f} s")

    def unfinished(self) -> str:
        """Every DAG run not yet successful and each of its tasks that has not succeeded or been skipped, with its
        try and times, and the scheduler's last warnings: what a time-out's message needs to say why."""
        lines = []
        for run in self.rows("SELECT dag_id, run_id, state, start_date FROM dag_run WHERE state <> 'success' "
                             "ORDER BY id"):
            lines.append(f"{run.dag_id} {run.run_id} {run.state} since {run.start_date:%H:%M:%S}")
            for ti in self.rows("SELECT task_id, state, try_number, queued_dttm, start_date, end_date "
                                "FROM task_instance WHERE dag_id = :d AND run_id = :r "
                                "AND coalesce(state, 'none') NOT IN ('success', 'skipped') ORDER BY task_id",
                                d=run.dag_id, r=run.run_id):
                times = " ".join(f"{name} {at:%H:%M:%S}" for name, at in
                                 (("queued", ti.queued_dttm), ("started", ti.start_date), ("ended", ti.end_date)) if at)
                lines.append(f"  {ti.task_id} {ti.state} try {ti.try_number} {times}")
        warnings = [line for line in self.log("airflow-scheduler").splitlines()
                    if "[warning" in line or "[error" in line][-15:]
        return "\n".join([f"now {datetime.now(UTC):%H:%M:%S}", *lines, "scheduler's last warnings:", *warnings])

    def task_states(self, dag_id: str) -> list[Any]:
        return self.rows("SELECT task_id, state, hostname, try_number FROM task_instance WHERE dag_id = :d "
                         "ORDER BY start_date", d=dag_id)
