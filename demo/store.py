"""Where the demo county's source systems live under {home}/demo, and how they are written."""

from __future__ import annotations

import json
import math
import random
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Self

DEFAULT_SEED = 2016
GAJ_DB = "gaj_household.db"
CGJ_DB = "cgj_urban.db"
RSJ_DB = "rsj_social_insurance.db"
ZJJ_DB = "zjj_housing.db"
JYJ_DB = "jyj_education.db"
WJJ_DB = "wjj_health.db"
ENTERPRISES_JSON = "scjgj_enterprises.json"
MZJ_DROP = Path("drops") / "mzj"
JYJ_DROP = Path("drops") / "jyj"
MANIFEST_JSON = "manifest.json"


# The indexes next_day() reads through, so a day touches only the rows it changes: persons by birth date
# (children due a dose, the elderly, a newborn's ID number) and by household (a child's guardian), vaccinations by
# child. The rows and their order are what the tables hold without them.
DAY_INDEXES = {
    GAJ_DB: ("CREATE INDEX IF NOT EXISTS persons_birth_date ON persons (birth_date)",
             "CREATE INDEX IF NOT EXISTS persons_household ON persons (household_id)"),
    WJJ_DB: ("CREATE INDEX IF NOT EXISTS vaccinations_child ON vaccinations (child_id_number)",),
    CGJ_DB: ("CREATE INDEX IF NOT EXISTS cases_status ON cases (status)",),
}
# A day's changes are scattered over the file: pages enough to hold them all, so none spills (and syncs the
# rollback journal) before the commit.
DAY_CACHE_KIB = 256 * 1024


def demo_dir(home: Path) -> Path:
    return Path(home) / "demo"


def rng_for(seed: int, part: str) -> random.Random:
    # One stream per source system, so e.g. the urban grid does not change when the population does.
    return random.Random(f"{seed}:{part}")


def write_sqlite(path: Path, tables: dict[str, tuple[str, list[tuple]]]) -> None:
    """Build into a temporary file and swap it in: a re-run replaces the database, never appends. The file is
    thrown away on failure, so it is written without a rollback journal or fsyncs."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        with conn:
            for name, (ddl, rows) in tables.items():
                conn.execute(ddl)
                if rows:
                    marks = ",".join("?" * len(rows[0]))
                    conn.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
            for ddl in DAY_INDEXES.get(path.name, ()):
                conn.execute(ddl)
    finally:
        conn.close()
    tmp.replace(path)


def open_for_day(path: Path) -> sqlite3.Connection:
    """A connection for a day's changes to the database at `path`, with the indexes next_day() reads through
    (a home generated before they existed gets them once)."""
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA cache_size = -{DAY_CACHE_KIB}")
    ensure_day_indexes(conn, path.name)
    return conn


class BackgroundWrites:
    """write_sqlite() on one background thread, so the databases are written while the next system is drawn
    (sqlite3 lets go of the GIL while it inserts). Leaving the block waits for every write and raises the first
    failure; each database still appears only when complete (write_sqlite's swap)."""

    def __enter__(self) -> Self:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-sqlite")
        self._pending: list[Future] = []
        return self

    def write(self, path: Path, tables: dict[str, tuple[str, list[tuple]]]) -> None:
        self._pending.append(self._pool.submit(write_sqlite, path, tables))

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)
        if exc[0] is None:  # else the block's own error is the one to see
            for done in self._pending:
                done.result()


def ensure_day_indexes(conn: sqlite3.Connection, name: str) -> None:
    """DAY_INDEXES of database `name`."""
    for ddl in DAY_INDEXES.get(name, ()):
        conn.execute(ddl)


def write_json(path: Path, records: list[dict]) -> None:
    path.write_text(json_text(records), encoding="utf-8")


def json_text(records: list[dict]) -> str:
    """json.dumps(records, ensure_ascii=False, indent=1) plus a newline. indent makes json fall back to its
    pure-Python encoder, so flat records of scalars are laid out here, the same text several times faster."""
    lines = []
    for record in records:
        fields = []
        for key, value in record.items():
            if type(key) is not str or (text := _scalar(value)) is None:
                return json.dumps(records, ensure_ascii=False, indent=1) + "\n"
            fields.append(f"  {encode_basestring(key)}: {text}")
        lines.append(" {\n" + ",\n".join(fields) + "\n }" if fields else " {}")
    return "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"


def _scalar(value: object) -> str | None:
    """The JSON of a str, int, finite float, bool or None as json.dumps writes it; None for anything else."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is float:
        return float.__repr__(value) if math.isfinite(value) else None  # type: ignore[arg-type]
    if kind is int:
        return int.__repr__(value)  # type: ignore[arg-type]
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    return None
