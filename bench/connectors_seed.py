"""Seed the connector benchmark's database sources: ~10-column tables in PostgreSQL and MariaDB."""

from __future__ import annotations

import os
import time

import sqlalchemy as sa

# The servers every machine has (STACK.md); point elsewhere to measure against a differently tuned server.
PG_URL = os.environ.get("COUNTYHUB_BENCH_POSTGRES", "postgresql+psycopg://root@127.0.0.1:5432/test")
MY_URL = os.environ.get("COUNTYHUB_BENCH_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
# Integers, text with Chinese, timestamps, decimals: what a department's registry table looks like.
PG_SELECT = """SELECT g AS id, g % 1000 AS township_id, '居民' || g || '号' AS name,
    '四川省达州市大竹县竹阳街道' || (g % 500) || '号' AS address, (g * 1.25)::numeric(14,2) AS amount,
    (g % 97)::numeric(10,3) AS rate, TIMESTAMP '2024-01-01' + g * INTERVAL '1 second' AS updated_at,
    TIMESTAMP '1950-01-01' + (g % 25000) * INTERVAL '1 day' AS born, g % 7 AS kind, '备注' || (g % 13) AS remark
    FROM generate_series(1, {rows}) g"""
MY_SELECT = """SELECT seq AS id, seq % 1000 AS township_id, CONCAT('居民', seq, '号') AS name,
    CONCAT('四川省达州市大竹县竹阳街道', seq % 500, '号') AS address, CAST(seq * 1.25 AS DECIMAL(14,2)) AS amount,
    CAST(seq % 97 AS DECIMAL(10,3)) AS rate, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND AS updated_at,
    TIMESTAMP '1950-01-01 00:00:00' + INTERVAL (seq % 25000) DAY AS born, seq % 7 AS kind,
    CONCAT('备注', seq % 13) AS remark FROM seq_1_to_{rows}"""


def table_name(rows: int) -> str:
    return f"ch_bench_{rows}"


def seed_postgres(rows: int, url: str = PG_URL) -> str:
    name = table_name(rows)
    with sa.create_engine(url).begin() as con:
        con.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
        con.execute(sa.text(f"CREATE TABLE {name} AS {PG_SELECT.format(rows=rows)}"))
        con.execute(sa.text(f"ALTER TABLE {name} ADD PRIMARY KEY (id)"))
        # Department systems index their change timestamp; incremental reads depend on it.
        con.execute(sa.text(f"CREATE INDEX ON {name} (updated_at)"))
        con.execute(sa.text(f"ANALYZE {name}"))
    return name


def seed_mariadb(rows: int, url: str = MY_URL) -> str:
    name = table_name(rows)
    with sa.create_engine(url).begin() as con:
        con.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
        con.execute(sa.text(
            f"CREATE TABLE {name} (id BIGINT PRIMARY KEY, township_id INT, name VARCHAR(40), address VARCHAR(80), "
            "amount DECIMAL(14,2), rate DECIMAL(10,3), updated_at DATETIME, born DATETIME, kind INT, "
            # KEY (updated_at): the cursor column indexed, as in PostgreSQL above.
            "remark VARCHAR(20), KEY (updated_at)) CHARACTER SET utf8mb4"))
        con.execute(sa.text(f"INSERT INTO {name} {MY_SELECT.format(rows=rows)}"))
    return name


def max_cursor(url: str, name: str) -> object:
    """The highest updated_at: the cursor a full load of the table saves."""
    with sa.create_engine(url).connect() as con:
        return con.execute(sa.text(f"SELECT max(updated_at) FROM {name}")).scalar_one()


def time_cursor_query(url: str, name: str, cursor: object) -> float:
    """Seconds the server takes to find and read the rows an incremental load asks for (not sending them).

    max(name) makes it read each row, not just the index; the count is all that crosses the network.
    """
    with sa.create_engine(url).connect() as con:
        con.execute(sa.text("SELECT 1"))  # connect first: only the query is timed
        start = time.perf_counter()
        con.execute(sa.text(f"SELECT count(*), max(name) FROM {name} WHERE updated_at >= :c"), {"c": cursor}).one()
        return time.perf_counter() - start


def change_one_percent(url: str, name: str, day: int = 1) -> int:
    """Touch 1% of the rows (a new value and a newer updated_at on 2030-01-<day>), as a day of department edits would.

    Each edit gets its own second of that day, as real edits do: a load re-reads only the row(s) sitting
    exactly at its saved cursor, not a whole day's edits that happened to share one timestamp.
    """
    postgres = url.startswith("postgresql")
    concat = "name || '改'" if postgres else "CONCAT(name, '改')"
    second = "(id / 100) * INTERVAL '1 second'" if postgres else "INTERVAL (id DIV 100) SECOND"
    with sa.create_engine(url).begin() as con:
        return con.execute(sa.text(f"UPDATE {name} SET name = {concat}, updated_at = TIMESTAMP '2030-01-{day:02d} "
                                   f"00:00:00' + {second} WHERE id % 100 = 0")).rowcount


def change_one_row(url: str, name: str) -> int:
    """Touch a single row with a cursor later than every other: the smallest change an incremental load can see."""
    with sa.create_engine(url).begin() as con:
        return con.execute(sa.text(f"UPDATE {name} SET updated_at = TIMESTAMP '2030-02-01 00:00:00' WHERE id = 1")).rowcount


def drop(url: str, name: str) -> None:
    """Remove a benchmark table (5M rows are worth giving back)."""
    with sa.create_engine(url).begin() as con:
        con.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
