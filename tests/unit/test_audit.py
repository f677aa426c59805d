"""The audit log: hash chain in a fixed format, masked purposes, group commit, tamper detection, concurrent writers."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, select, update

from countyhub.sharing import tables as t
from countyhub.sharing.audit import AuditError, AuditLog
from countyhub.sharing.model import AuditEntry

AT = datetime(2025, 3, 3, 2, 0, 0, 123456)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "catalog.sqlite"


@pytest.fixture
def log(db: Path):
    audit = AuditLog(create_engine(f"sqlite:///{db}"))
    yield audit
    audit.close()


def read(n: int, who: str = "li_mzj", **kw) -> AuditEntry:
    return AuditEntry(action="read_rows", actor=who, department="mzj", dataset="shared.resident_profile",
                      columns=["person_id"], rows=n, at=AT, **kw)


def fill(log: AuditLog, n: int) -> None:
    for i in range(1, n + 1):
        log.append(read(i))
    log.flush()


def test_the_first_entry_chains_from_the_genesis_value_in_the_documented_format(log: AuditLog) -> None:
    log.append(AuditEntry(action="grant_approve", actor="zhou_dsj", department="dsj", dataset="shared.resident_profile",
                          columns=["person_id"], purpose="低保复核", grant_id=7, detail={"request_id": 3}, at=AT))
    log.flush()
    canonical = ('{"action":"grant_approve","actor":"zhou_dsj","at":"2025-03-03T02:00:00.123456","columns":["person_id"],'
                 '"dataset":"shared.resident_profile","department":"dsj","detail":{"request_id":3},"grant_id":7,'
                 '"id":1,"purpose":"低保复核","rows":null}')
    expected = hashlib.sha256(("0" * 64 + canonical).encode()).hexdigest()
    [entry] = log.entries()
    assert (entry.id, entry.prev_hash, entry.hash) == (1, "0" * 64, expected)
    assert (entry.grant_id, entry.detail, entry.at) == (7, {"request_id": 3}, AT)


def test_ids_and_numbers_never_reach_the_store(log: AuditLog, db: Path) -> None:
    log.append(read(1, purpose="核查 511724199001011234 电话13812345678", detail={"note": "13812345678"}))
    log.flush()
    raw = db.read_bytes().decode("utf-8", "replace")
    assert "511724199001011234" not in raw and "13812345678" not in raw
    assert log.entries()[0].purpose == "核查 511724********1234 电话138****5678"


def test_entries_newest_first_with_filters(log: AuditLog) -> None:
    log.append(read(1))
    log.append(AuditEntry(action="read_rows", actor="wu", department="cgj", dataset="shared.urban_cases", at=AT))
    log.append(AuditEntry(action="user_add", actor="root", department="dsj", detail={"user": "li"}, at=AT))
    log.flush()
    assert [e.id for e in log.entries()] == [3, 2, 1]
    assert [e.id for e in log.entries(department="cgj")] == [2]
    assert [e.id for e in log.entries(dataset="shared.resident_profile")] == [1]
    assert [e.id for e in log.entries(datasets={"shared.urban_cases", "shared.resident_profile"})] == [2, 1]
    assert [e.id for e in log.entries(limit=1)] == [3]


def test_an_intact_log_verifies(log: AuditLog) -> None:
    assert log.verify() == (0, None)
    fill(log, 5)
    assert log.verify() == (5, None)
    assert log.verify(page=2) == (5, None)  # walked in pages, same answer


def test_a_changed_value_is_named(log: AuditLog) -> None:
    fill(log, 5)
    with log.engine.begin() as con:
        con.execute(update(t.audit_log).where(t.audit_log.c.id == 3).values(actor="someone_else"))
    assert log.verify() == (2, "entry 3: its content was changed")


def test_a_changed_json_field_is_named(log: AuditLog) -> None:
    fill(log, 5)
    with log.engine.begin() as con:
        body = json.loads(con.execute(select(t.audit_log.c.entry_json).where(t.audit_log.c.id == 4)).scalar())
        body["rows"] = 0
        con.execute(update(t.audit_log).where(t.audit_log.c.id == 4).values(entry_json=json.dumps(body)))
    assert log.verify() == (3, "entry 4: its content was changed")


def test_a_deleted_entry_is_named(log: AuditLog) -> None:
    fill(log, 5)
    with log.engine.begin() as con:
        con.execute(t.audit_log.delete().where(t.audit_log.c.id == 3))
    assert log.verify() == (2, "entry 3 is missing (ids jump from 2 to 4)")


def test_two_swapped_entries_are_named(log: AuditLog) -> None:
    fill(log, 5)
    cols = [c for c in t.audit_log.c if c.name != "id"]
    with log.engine.begin() as con:
        two, three = (con.execute(select(*cols).where(t.audit_log.c.id == i)).one()._asdict() for i in (2, 3))
        con.execute(update(t.audit_log).where(t.audit_log.c.id == 2).values(**three))
        con.execute(update(t.audit_log).where(t.audit_log.c.id == 3).values(**two))
    assert log.verify() == (1, "entry 2: out of order (its previous hash is not entry 1's)")


def test_a_slow_database_does_not_hold_up_appends_and_the_queue_is_written_in_one_batch(log: AuditLog, db: Path) -> None:
    inserts: list[int] = []
    event.listen(log.engine, "before_cursor_execute",
                 lambda con, cur, stmt, params, ctx, many: inserts.append(len(params) if many else 1)
                 if stmt.startswith("INSERT INTO sharing_audit_log") else None)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    for i in range(300):
        log.append(read(i))  # every append returns while the database is locked
    with pytest.raises(AuditError, match="entries not written yet"):
        log.flush(timeout=0.2)
    blocker.execute("COMMIT")
    blocker.close()
    log.flush()
    assert sum(inserts) == 300 and len(inserts) <= 2  # what queued while blocked went in one transaction
    assert log.verify() == (300, None)


def test_eight_threads_appending_at_once_keep_one_chain(log: AuditLog) -> None:
    def work(n: int) -> None:
        for i in range(200):
            log.append(read(i, who=f"user{n}"))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    log.flush()
    assert log.verify() == (1600, None)
    with log.engine.connect() as con:
        assert con.execute(select(t.audit_log.c.id).order_by(t.audit_log.c.id)).scalars().all() == list(range(1, 1601))


WRITER = """
import sys
from sqlalchemy import create_engine
from countyhub.sharing.audit import AuditLog
from countyhub.sharing.model import AuditEntry
log = AuditLog(create_engine("sqlite:///" + sys.argv[1]), batch_size=7)
for i in range(300):
    log.append(AuditEntry(action="query", actor=sys.argv[2], department="mzj", rows=i))
    if i % 50 == 0:
        log.flush()
log.close()
"""


def test_several_processes_writing_one_database_keep_one_chain(log: AuditLog, db: Path) -> None:
    log.append(read(0))
    log.flush()  # tables exist before the writers start
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), f"proc{n}"]) for n in range(3)]
    for i in range(100):
        log.append(read(i))
    log.flush()
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert log.verify() == (1 + 100 + 900, None)
