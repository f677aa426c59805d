"""The tamper-evident audit log: hash-chained entries appended in batches, verified from the first entry on."""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import json
import logging
import threading
import time
from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from countyhub.core import faultpoints
from countyhub.core.masking import mask_json, mask_text
from countyhub.sharing import tables as t
from countyhub.sharing.model import AuditEntry

GENESIS = "0" * 64  # what the first entry chains from
BATCH = 500
MAX_LIMIT = 1000
_log = logging.getLogger(__name__)
_a = t.audit_log.c
_COLUMNS = ("id", "at", "actor", "department", "action", "dataset", "prev_hash", "hash", "entry_json")


class AuditError(RuntimeError):
    """Queued entries could not be written (the message names the database error's kind, never an entry)."""


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _body(entry: AuditEntry) -> dict[str, Any]:
    """The fields kept in `entry_json` (the rest have their own columns)."""
    return {"columns": list(entry.columns), "purpose": entry.purpose, "grant_id": entry.grant_id,
            "rows": entry.rows, "detail": entry.detail}


def _canonical(entry_id: int, at: datetime, actor: str, department: str, action: str, dataset: str,
               body: dict[str, Any]) -> str:
    fields = {"id": entry_id, "at": at.isoformat(timespec="microseconds"), "actor": actor,
              "department": department, "action": action, "dataset": dataset, **body}
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _row_hash(row: Any) -> str | None:
    """The hash the row's content and previous hash give, or None when its stored JSON is no longer JSON."""
    try:
        body = json.loads(row.entry_json)
    except (TypeError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    return chain_hash(row.prev_hash, _canonical(row.id, row.at, row.actor, row.department, row.action,
                                                row.dataset, body))


class AuditLog:
    """Append-only; each entry carries the hash of the one before. Appends are batched by a writer thread.

    Several processes may write one database: each batch reads the last entry and inserts after it in one
    transaction that holds the table's write lock (SQLite: BEGIN IMMEDIATE, so the read cannot go stale
    before the write; PostgreSQL: LOCK TABLE in SHARE ROW EXCLUSIVE mode, which readers pass). Ids are
    allocated there, so id order is chain order; on any other database the primary key still refuses a
    second writer's copy of the same id, and that batch is retried after the new last entry.
    """

    def __init__(self, engine: Engine, clock: Any = _utc_now, batch_size: int = BATCH) -> None:
        self.engine, self.clock, self.batch_size = engine, clock, batch_size
        t.upgrade(engine)
        self._queue: list[AuditEntry] = []
        # One lock, two conditions: appends wake only the writer; a commit wakes only those waiting for one.
        lock = threading.Lock()
        self._cond, self._done = threading.Condition(lock), threading.Condition(lock)
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []  # async callers
        self._queued = self._written = 0
        self._error = ""
        self._closed = False
        self._thread: threading.Thread | None = None

    def append(self, entry: AuditEntry) -> int:
        """Queue an entry; it is written in the next batch. Returns its place in this process's queue, for
        `wait_written` (a caller that must not answer before its entry is on disk); flush() waits for all."""
        # Purposes and details are free text from callers: an ID or phone number in them is masked here, once.
        queued = replace(entry, columns=list(entry.columns), purpose=mask_text(entry.purpose or ""),
                         detail=json.loads(json.dumps(mask_json(entry.detail or {}), default=str)),
                         dataset=entry.dataset or "", at=entry.at or self.clock(), id=None, prev_hash="", hash="")
        with self._cond:
            if self._closed:
                raise AuditError("the audit log is closed")
            self._queue.append(queued)
            self._queued += 1
            seq = self._queued
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
                self._thread.start()
                atexit.register(self.close)  # entries queued when the process ends are still written
            self._cond.notify()
        return seq

    def flush(self, timeout: float = 60.0) -> None:
        """Block until every queued entry is committed."""
        with self._cond:
            target = self._queued
        self.wait_written(target, timeout)

    def wait_written(self, seq: int, timeout: float = 60.0) -> None:
        """Block until the entry `append` numbered `seq` (and every one before it) is committed: group commit,
        so many callers waiting at once share one transaction."""
        with self._cond:
            target = seq
            if not self._done.wait_for(lambda: self._written >= target, timeout):
                raise AuditError(f"audit log: {target - self._written} entries not written yet"
                                 + (f" ({self._error})" if self._error else ""))

    async def written(self, seq: int, timeout: float = 60.0) -> None:
        """`wait_written` for a coroutine: the event loop goes on serving while the batch commits."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._cond:
            if self._written >= seq:
                return
            self._waiters.append((seq, loop, future))
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AuditError(f"audit log: entry {seq} not written after {timeout:g} s"
                             + (f" ({self._error})" if self._error else "")) from None

    def _wake(self) -> None:
        """Resolve the futures of async callers whose entries are now committed (holding the lock)."""
        done = [w for w in self._waiters if w[0] <= self._written]
        if done:
            self._waiters = [w for w in self._waiters if w[0] > self._written]
            for _, loop, future in done:
                try:
                    loop.call_soon_threadsafe(lambda f=future: f.done() or f.set_result(None))
                except RuntimeError:  # that caller's loop has closed: nobody is waiting any more
                    pass

    def close(self) -> None:
        """Write what is queued, then stop the writer."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        atexit.unregister(self.close)

    def _run(self) -> None:
        delay = 0.01
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if not self._queue:
                    return
                batch = self._queue[: self.batch_size]  # appends only add at the end; this slice stays ours
            try:
                self._write(batch)
            except SQLAlchemyError as exc:  # locked, lost a race, or the database is away: retry, never drop
                with self._cond:
                    self._error = type(exc).__name__
                _log.warning("audit log: batch of %d not written (%s); retrying", len(batch), type(exc).__name__)
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            delay = 0.01
            with self._cond:
                del self._queue[: len(batch)]
                self._written += len(batch)
                self._error = ""
                self._done.notify_all()
                self._wake()

    def _write(self, batch: list[AuditEntry]) -> None:
        """One transaction for the whole batch (group commit), chained after the last entry committed."""
        sqlite = self.engine.dialect.name == "sqlite"
        if sqlite:
            # pysqlite would open a deferred transaction; autocommit mode lets us issue BEGIN IMMEDIATE ourselves.
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as con:
                con.exec_driver_sql("BEGIN IMMEDIATE")
                try:
                    self._insert(con, batch)
                    faultpoints.reached("audit.append")
                except BaseException:
                    con.exec_driver_sql("ROLLBACK")
                    raise
                con.exec_driver_sql("COMMIT")
            return
        with self.engine.begin() as con:
            if self.engine.dialect.name == "postgresql":
                con.execute(text(f"LOCK TABLE {t.audit_log.name} IN SHARE ROW EXCLUSIVE MODE"))
            self._insert(con, batch)
            faultpoints.reached("audit.append")

    def _insert(self, con: Connection, batch: list[AuditEntry]) -> None:
        last = con.execute(select(_a.id, _a.hash).order_by(_a.id.desc()).limit(1)).first()
        entry_id, prev = (last.id, last.hash) if last else (0, GENESIS)
        stamp = _a.at.type.bind_processor(self.engine.dialect) or (lambda v: v)  # how the DateTime type stores it
        rows = []
        for e in batch:
            entry_id += 1
            body = _body(e)
            digest = chain_hash(prev, _canonical(entry_id, e.at, e.actor, e.department, e.action, e.dataset, body))
            rows.append((entry_id, stamp(e.at), e.actor, e.department, e.action, e.dataset, prev, digest,
                         json.dumps(body, sort_keys=True, ensure_ascii=False)))
            prev = digest
        # The driver's executemany, not insert(): at a thousand entries a second SQLAlchemy's per-row parameter
        # processing cost more than the inserts themselves.
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        con.exec_driver_sql(f"INSERT INTO {t.audit_log.name} ({', '.join(_COLUMNS)}) "
                            f"VALUES ({', '.join([mark] * len(_COLUMNS))})", rows)

    def verify(self, page: int = 5000) -> tuple[int, str | None]:
        """(entries checked, None) when the chain holds; else the count so far and which entry was altered,
        removed or reordered (e.g. "entry 41: its content was changed")."""
        count, last_id, last_hash = 0, 0, GENESIS
        while True:
            with self.engine.connect() as con:
                rows = con.execute(select(t.audit_log).where(_a.id > last_id).order_by(_a.id).limit(page)).all()
            if not rows:
                return count, None
            for row in rows:
                if row.id != last_id + 1:
                    return count, f"entry {last_id + 1} is missing (ids jump from {last_id} to {row.id})"
                if row.prev_hash != last_hash:
                    before = f"entry {last_id}'s" if last_id else "the log's start"
                    return count, f"entry {row.id}: out of order (its previous hash is not {before})"
                if _row_hash(row) != row.hash:
                    return count, f"entry {row.id}: its content was changed"
                count, last_id, last_hash = count + 1, row.id, row.hash

    def published_versions(self) -> set[tuple[str, int]]:
        """(dataset, version) of every "publish" entry: which publications the log has recorded."""
        with self.engine.connect() as con:
            rows = con.execute(select(_a.dataset, _a.entry_json).where(_a.action == "publish")).all()
        found = set()
        for dataset, body in rows:
            version = (json.loads(body).get("detail") or {}).get("version")
            if isinstance(version, int):
                found.add((dataset, version))
        return found

    def entries(self, department: str | None = None, dataset: str | None = None, limit: int = 100,
                datasets: Collection[str] | None = None) -> list[AuditEntry]:
        """Newest first. `department`: what that department's users did; `dataset`: that dataset only;
        `datasets`: only these (a steward's view is the datasets its department owns, which the catalog knows)."""
        query = select(t.audit_log).order_by(_a.id.desc()).limit(max(1, min(limit, MAX_LIMIT)))
        if department:
            query = query.where(_a.department == department)
        if dataset:
            query = query.where(_a.dataset == dataset)
        if datasets is not None:
            query = query.where(_a.dataset.in_(list(datasets)))
        with self.engine.connect() as con:
            rows = con.execute(query).all()
        out = []
        for r in rows:
            body = json.loads(r.entry_json)
            out.append(AuditEntry(action=r.action, actor=r.actor, department=r.department, dataset=r.dataset,
                                  columns=body.get("columns", []), purpose=body.get("purpose", ""),
                                  grant_id=body.get("grant_id"), rows=body.get("rows"), detail=body.get("detail", {}),
                                  at=r.at, id=r.id, prev_hash=r.prev_hash, hash=r.hash))
        return out
