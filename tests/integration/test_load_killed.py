"""A load killed with SIGKILL mid-transaction leaves no rows visible and the state unchanged; the re-run catches up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from countyhub.connectors import get_connector
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake
from countyhub.lakehouse.load import load_stream

pytestmark = pytest.mark.integration
TABLE = "ch_it_killed"
DEPT = Department(code="kill", name="测试局", name_en="Test bureau", owner={"steward": "qa"})
STREAM = Stream(name="persons", table=TABLE, primary_key=["person_id"], cursor="updated_at")

# Runs in a child process: a full-refresh load whose reader announces itself after a few batches and
# then stalls, so the parent can kill it while the lake transaction is open.
CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from countyhub.connectors.sql import SqlConnector
    from countyhub.core.departments import Department, Stream
    from countyhub.core.settings import load_settings
    from countyhub.lakehouse import Lake
    from countyhub.lakehouse.load import load_stream

    class Stalling(SqlConnector):
        def scan_plan(self, stream, state=None):
            return None
        def read(self, stream, state=None, rejects=None):
            for n, batch in enumerate(super().read(stream, state, rejects)):
                if n == 3:
                    Path(sys.argv[2]).write_text("mid-load")
                    time.sleep(120)
                yield batch

    dept = Department(code="kill", name="测试局", name_en="Test bureau", owner={"steward": "qa"})
    stream = Stream(name="persons", table=sys.argv[3], primary_key=["person_id"], cursor="updated_at")
    load_stream(Lake(load_settings()), dept, stream, Stalling({"url": sys.argv[1], "batch_rows": 500}),
                full_refresh=True)
""")


def _seed(url: str, start: int, count: int, replace: bool) -> None:
    with sa.create_engine(url).begin() as con:
        if replace:
            con.execute(sa.text(f"DROP TABLE IF EXISTS {TABLE}"))
            con.execute(sa.text(f"CREATE TABLE {TABLE} (person_id INTEGER PRIMARY KEY, name VARCHAR(40), "
                                "updated_at TIMESTAMP)"))
        con.execute(sa.text(f"INSERT INTO {TABLE} SELECT g, '居民' || g, TIMESTAMP '2026-01-01' + g * INTERVAL '1 second' "
                            f"FROM generate_series({start}, {start + count - 1}) g"))


def _rows(lake: Lake, sql: str) -> list[tuple]:
    with lake.reader() as con:
        return con.execute(sql).fetchall()


def test_killed_load_leaves_nothing_and_rerun_loads_exactly_the_missing_rows(settings: Settings, postgres_url: str,
                                                                            tmp_path: Path) -> None:
    _seed(postgres_url, 1, 5000, replace=True)
    lake = Lake(settings)
    load_stream(lake, DEPT, STREAM, get_connector("sql")({"url": postgres_url}))
    state = _rows(lake, "SELECT state FROM meta.stream_state")
    _seed(postgres_url, 5001, 3000, replace=False)

    marker = tmp_path / "marker"
    child = subprocess.Popen([sys.executable, "-c", CHILD, postgres_url, str(marker), TABLE],
                             env={**os.environ, "COUNTYHUB_HOME": str(settings.home)})
    deadline = time.monotonic() + 120
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the child never reached the middle of its load"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    assert _rows(lake, "SELECT count(*), max(person_id) FROM raw_kill.persons") == [(5000, 5000)]
    assert _rows(lake, "SELECT state FROM meta.stream_state") == state
    rerun = load_stream(lake, DEPT, STREAM, get_connector("sql")({"url": postgres_url}))
    # the row at the old cursor is read again (>=) and, unchanged, left as it is
    assert (rerun.rows_read, rerun.rows_inserted, rerun.rows_updated) == (3001, 3000, 0)
    assert _rows(lake, "SELECT count(*), count(DISTINCT person_id) FROM raw_kill.persons") == [(8000, 8000)]
