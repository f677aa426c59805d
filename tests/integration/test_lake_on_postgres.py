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
