"""The audit log on a PostgreSQL catalog: several processes and threads appending at once keep one chain."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from countyhub.sharing.audit import AuditLog
from countyhub.sharing.model import AuditEntry
from tests.fixtures.servers import postgres_database

WRITER = """
import sys
from sqlalchemy import create_engine
from countyhub.sharing.audit import AuditLog
from countyhub.sharing.model import AuditEntry
log = AuditLog(create_engine(sys.argv[1]), batch_size=13)
for i in range(400):
    log.append(AuditEntry(action="query", actor=sys.argv[2], department="mzj", rows=i))
log.close()
"""


@pytest.fixture
def pg_catalog(postgres_url: str) -> Iterator[str]:
    with postgres_database(postgres_url, "countyhub_audit") as name:
        yield postgres_url.rsplit("/", 1)[0] + "/" + name


def test_processes_and_threads_appending_to_postgres_keep_one_chain(pg_catalog: str) -> None:
    log = AuditLog(sa.create_engine(pg_catalog))
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, pg_catalog, f"proc{n}"]) for n in range(3)]

    def work(n: int) -> None:
        for i in range(100):
            log.append(AuditEntry(action="read_rows", actor=f"thread{n}", department="cgj", rows=i))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    log.close()
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert log.verify() == (3 * 400 + 4 * 100, None)
    assert [e.id for e in log.entries(limit=3)] == [1600, 1599, 1598]
    log.engine.dispose()
