"""The scale-out column without containers: DuckLake metadata in the real PostgreSQL, concurrent writers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from countyhub.core.settings import load_settings
from countyhub.lakehouse import Lake
from tests.fixtures.servers import postgres_database

pytestmark = pytest.mark.integration
WRITER = """
import sys
from countyhub.core.settings import load_settings
from countyhub.lakehouse import Lake
with Lake(load_settings()).writer() as con:
    con.execute(f"CREATE OR REPLACE TABLE lake.shared.t{sys.argv[1]} AS SELECT range AS i FROM range(1000)")
"""


@pytest.fixture
def pg_lake_database(postgres_url: str) -> Iterator[str]:
    with postgres_database(postgres_url, "countyhub_it") as name:
        yield name


def test_six_writers_at_once_on_a_postgres_catalog(tmp_path, monkeypatch, pg_lake_database: str) -> None:
    monkeypatch.setenv("COUNTYHUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COUNTYHUB_LAKE_METADATA", f"postgres:dbname={pg_lake_database} host=127.0.0.1 user=root")
    settings = load_settings()
    assert not settings.lake_is_embedded
    with Lake(settings).writer():
        pass  # creates the zone schemas once, before the writers race
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(i)]) for i in range(6)]
    assert [w.wait(timeout=120) for w in writers] == [0] * 6
    with Lake(settings).reader() as con:
        counts = [con.execute(f"SELECT count(*) FROM lake.shared.t{i}").fetchone()[0] for i in range(6)]
    assert counts == [1000] * 6


SCHEMAS = """
import sys, time
from countyhub.core.settings import load_settings
from countyhub.lakehouse import Lake
from countyhub.lakehouse.lake import ensure_schemas
con = Lake(load_settings()).connect()
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))  # every process starts creating at once
ensure_schemas(con, [f"raw_new{i}" for i in range(20)])
"""


def test_writers_creating_the_same_new_schemas_at_once_all_succeed(tmp_path, monkeypatch,
                                                                  pg_lake_database: str) -> None:
    """Loads of a new department side by side each make its raw schema: DuckLake refuses all but the first commit
    of the same schema (seen in the Airflow cluster: one of two loads failed and waited a minute for its retry)."""
    import time

    monkeypatch.setenv("COUNTYHUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COUNTYHUB_LAKE_METADATA", f"postgres:dbname={pg_lake_database} host=127.0.0.1 user=root")
    settings = load_settings()
    with Lake(settings).writer():
        pass
    start = str(time.time() + 8)  # after every process has attached the lake
    writers = [subprocess.Popen([sys.executable, "-c", SCHEMAS, start], stderr=subprocess.PIPE, text=True)
               for _ in range(6)]
    errors = [w.communicate(timeout=120)[1] for w in writers]
    assert [w.returncode for w in writers] == [0] * 6, "\n".join(errors)[-3000:]
    with Lake(settings).reader() as con:
        have = {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas() WHERE database_name = 'lake'").fetchall()}
    assert {f"raw_new{i}" for i in range(20)} <= have


def test_the_writer_lock_on_postgres_lets_loads_share_and_a_build_go_alone(tmp_path, monkeypatch,
                                                                          pg_lake_database: str) -> None:
    """Across processes and machines: shared holders run together, an exclusive one (a dbt build) waits for them
    and they wait for it."""
    import threading

    monkeypatch.setenv("COUNTYHUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COUNTYHUB_LAKE_METADATA", f"postgres:dbname={pg_lake_database} host=127.0.0.1 user=root")
    lake = Lake(load_settings())
    events: list[str] = []

    def build() -> None:
        with lake.lock():
            events.append("build")

    with lake.lock(shared=True), lake.lock(shared=True):  # two loads at once: the second does not wait
        waiting = threading.Thread(target=build)
        waiting.start()
        waiting.join(timeout=2)
        assert waiting.is_alive() and events == []  # the build waits while any load holds the lock
        events.append("loads done")
    waiting.join(timeout=30)
    assert events == ["loads done", "build"]


def test_a_publish_that_meets_another_writers_change_is_tried_again(tmp_path, monkeypatch,
                                                                   pg_lake_database: str) -> None:
    """Gates publish side by side on a PostgreSQL catalog. DuckLake refuses a commit that meets another writer's
    conflicting change (here: the same shared table created meanwhile); the publish's transaction is tried again
    instead of failing its gate, and what it built is what is served."""
    from countyhub.contracts.publish import _new_version
    from countyhub.lakehouse import meta_gates

    lake = _pg_lake(tmp_path, monkeypatch, pg_lake_database)
    tries = []

    def build(con) -> int:
        tries.append(len(tries) + 1)
        con.execute("CREATE OR REPLACE TABLE lake.shared.mine AS SELECT 42 AS i")
        if len(tries) == 1:
            with lake.writer() as other:
                other.execute("CREATE OR REPLACE TABLE lake.shared.mine AS SELECT 7 AS i")
        return 1

    with lake.writer() as con:
        version, snapshot, rows, _ = _new_version(con, "mine", build, {}, "publish {dataset} v{version}",
                                                  {"gate_run_id": "g1"})
    assert tries == [1, 2] and (version, rows) == (1, 1)
    with lake.reader() as con:
        assert con.execute("SELECT i FROM lake.shared.mine").fetchall() == [(42,)]
        assert [(p.version, p.snapshot_id) for p in meta_gates.publications(con, "mine")] == [(1, snapshot)]


def test_a_publish_beside_another_correcting_its_snapshot_is_not_built_again(tmp_path, monkeypatch,
                                                                             pg_lake_database: str) -> None:
    """A publish whose commit got another snapshot id than expected records the right one after its commit. That
    correction used to UPDATE meta.publications, and DuckLake then refused every publish inserting its version
    meanwhile: in the Airflow cluster, eight gates at once, each correction made the others build their tables
    again. It is appended now: the publish beside it commits on its first try, and readers see the correction."""
    from datetime import UTC, datetime

    from countyhub.contracts.publish import _new_version
    from countyhub.lakehouse import meta_gates

    lake = _pg_lake(tmp_path, monkeypatch, pg_lake_database)
    with lake.writer() as con:  # another dataset's version, as its gate published it
        meta_gates.write_publication(con, {"dataset": "other", "version": 1, "snapshot_id": 1, "rows": 1,
                                           "published_at": datetime.now(UTC)})
    tries = []

    def build(con) -> int:
        tries.append(len(tries) + 1)
        con.execute("CREATE OR REPLACE TABLE lake.shared.mine AS SELECT 42 AS i")
        with lake.writer() as other:  # meanwhile the other publish corrects its version's snapshot id, and commits
            meta_gates.set_snapshot(other, "other", 1, 99)
        return 1

    with lake.writer() as con:
        version, snapshot, rows, _ = _new_version(con, "mine", build, {}, "publish {dataset} v{version}",
                                                  {"gate_run_id": "g1"})
    assert tries == [1] and (version, rows) == (1, 1)
    with lake.reader() as con:
        assert con.execute("SELECT i FROM lake.shared.mine").fetchall() == [(42,)]
        latest = {d: p.snapshot_id for d, (p, _) in meta_gates.latest_publications(con).items()}
        assert [p.snapshot_id for p in meta_gates.publications(con, "other")] == [99]
        assert [(p.dataset, p.snapshot_id) for p in meta_gates.all_publications(con)] == [("mine", snapshot),
                                                                                         ("other", 99)]
    assert latest == {"mine": snapshot, "other": 99}


def _pg_lake(tmp_path, monkeypatch, pg_lake_database: str) -> Lake:
    monkeypatch.setenv("COUNTYHUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COUNTYHUB_LAKE_METADATA", f"postgres:dbname={pg_lake_database} host=127.0.0.1 user=root")
    return Lake(load_settings())
