"""Principals, grants and dataset facts cached for as long as the authorization state they were read at holds."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from countyhub.sharing import tables as t

V = TypeVar("V")
MAX_ITEMS = 50_000


class AuthzCache:
    """A call reads one small row (the sharing generation, plus the max of each `also` column, e.g. the catalog's
    change log) instead of the user, the dataset entry and the grant. Every change to those moves the row in the
    change's own transaction, so a revoked token or grant fails the very next call. Time limits (a grant's
    expiry) are still checked on the cached value at each call by its user.
    """

    def __init__(self, engine: Engine, also: Sequence[ColumnElement[Any]] = ()) -> None:
        self.engine = engine
        self._query = select(t.state.c.generation, *(select(func.max(c)).scalar_subquery() for c in also)).where(
            t.state.c.id == 1)
        self._version: tuple[Any, ...] | None = None
        self._values: dict[Any, Any] = {}
        self._lock = threading.Lock()
        # SQLite: one DBAPI connection per thread, kept, and the statement compiled once. Outside a transaction
        # each SELECT reads the newest commit (WAL), and this skips SQLAlchemy's per-statement work, which was
        # an eighth of a service call.
        self._raw = threading.local()
        self._sql = str(self._query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})) \
            if engine.dialect.name == "sqlite" else None

    def _read(self) -> Any:
        if self._sql is None:
            with self.engine.connect() as con:
                return con.execute(self._query).first()
        con = getattr(self._raw, "con", None)
        if con is None:
            con = self._raw.con = self.engine.raw_connection()
        return con.cursor().execute(self._sql).fetchone()

    def version(self) -> tuple[Any, ...]:
        """The authorization state now; values cached at another one are dropped."""
        row = self._read()
        version = tuple(row) if row is not None else (None,)
        with self._lock:
            if version != self._version:
                self._version, self._values = version, {}
        return version

    def get(self, version: tuple[Any, ...], key: Any, load: Callable[[], V]) -> V:
        """The value for `key` at `version` (as `version()` returned it), loading it once; an exception from
        `load` (a refusal) is never cached."""
        with self._lock:
            if version == self._version and key in self._values:
                return self._values[key]
        value = load()
        with self._lock:
            if version == self._version:
                if len(self._values) >= MAX_ITEMS:
                    self._values.clear()
                self._values[key] = value
        return value
