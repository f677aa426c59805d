"""GB 11643 resident ID and GB 32100 credit code checks as vectorized DuckDB functions; python-stdnum is the reference.

Why DuckDB Python UDFs over Arrow and not pure SQL: a pure-SQL checksum (17 substrings, a
birth-place join) measured 3-4 s per million rows on this machine, more than every other rule
together; these functions get 2048 values at a time as Arrow and check them with numpy on the raw
bytes, so the check still runs inside DuckDB's query (no table leaves the database) at a fraction
of that. They mirror `stdnum.cn.ric.is_valid` and `stdnum.cn.uscc.is_valid` (the birth-place table
is read from stdnum's own database, not copied); tests/unit/test_contracts_rules.py proves the
agreement on thousands of generated valid and corrupted numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from stdnum import numdb

RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
RIC_FUNCTION, USCC_FUNCTION = "countyhub_cn_ric_valid", "countyhub_cn_uscc_valid"


@cache
def ric_regions() -> tuple[tuple[str, int, int], ...]:
    """(6-digit division code, first year, last year) valid for a birth place, from stdnum's cn/loc database."""
    out: list[tuple[str, int, int]] = []

    def walk(parts: list, prefix: str, props: dict) -> None:
        for _length, low, high, own, children in parts:
            if low != high:  # stdnum's cn/loc lists single codes; ranges would need expanding
                raise ValueError(f"unexpected range {low}-{high} in cn/loc")
            code, merged = prefix + low, {**props, **own}
            if children:
                walk(children, code, merged)
            elif len(code) == 6 and "county" in merged:
                for county in merged["county"].split(","):
                    if not county.startswith("["):
                        out.append((code, 0, 9999))
                        break
                    start, end = county[1:].split("]")[0].split("-")
                    out.append((code, int(start or 0), int(end or 9999)))

    walk(numdb.get("cn/loc").prefixes, "", {})
    return tuple(out)


@cache
def _region_table() -> tuple[np.ndarray, np.ndarray]:
    """Dense (slot, code) -> first/last year arrays; a code has at most a few ranges (empty slots: 1 > 0)."""
    slots: dict[str, int] = {}
    for code, _, _ in ric_regions():
        slots[code] = slots.get(code, 0) + 1
    first = np.ones((max(slots.values()), 1_000_000), dtype=np.int16)
    last = np.zeros_like(first)
    used: dict[str, int] = {}
    for code, y0, y1 in ric_regions():
        slot = used.get(code, 0)
        first[slot, int(code)], last[slot, int(code)] = y0, y1
        used[code] = slot + 1
    return first, last


def _bytes18(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(mask of 18-byte values, their bytes as an n x 18 uint8 matrix) — straight from the Arrow buffers."""
    lengths = pc.fill_null(pc.binary_length(values), 0).to_numpy(zero_copy_only=False)
    mask = lengths == 18
    picked = pc.filter(values, pa.array(mask)).cast(pa.large_string())
    if len(picked) == 0:
        return mask, np.zeros((0, 18), dtype=np.uint8)
    offsets = np.frombuffer(picked.buffers()[1], dtype=np.int64)[picked.offset: picked.offset + len(picked) + 1]
    data = np.frombuffer(picked.buffers()[2], dtype=np.uint8)
    return mask, data[offsets[0]: offsets[0] + 18 * len(picked)].reshape(-1, 18)


def _result(values: pa.Array, mask: np.ndarray, ok: np.ndarray) -> pa.Array:
    out = np.zeros(len(values), dtype=bool)
    out[mask] = ok
    return pa.array(out, mask=pc.is_null(values).to_numpy(zero_copy_only=False))


def _days_ok(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 0, 12)] + (leap & (month == 2))
    return (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)  # datetime.date's limits


def ric_valid(values: Any) -> pa.Array:
    """Vectorized stdnum.cn.ric.is_valid: format, check digit, birth date, birth place valid in the birth year."""
    values = pa.chunked_array(values).combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    mask, m = _bytes18(pc.utf8_upper(pc.utf8_trim_whitespace(values)))
    digits = m[:, :17].astype(np.int64) - 48
    ok = np.all((digits >= 0) & (digits <= 9), axis=1)
    digits = np.where(ok[:, None], digits, 0)
    check = np.frombuffer(b"10X98765432", dtype=np.uint8)[(digits @ np.array(RIC_WEIGHTS)) % 11]
    ok &= m[:, 17] == check
    powers = 10 ** np.arange(5, -1, -1)
    code, year = digits[:, :6] @ powers, digits[:, 6:10] @ powers[2:]
    ok &= _days_ok(year, digits[:, 10:12] @ powers[4:], digits[:, 12:14] @ powers[4:])
    first, last = _region_table()
    ok &= np.any((first[:, code] <= year) & (year <= last[:, code]), axis=0)
    return _result(values, mask, ok)


@cache
def _uscc_index() -> np.ndarray:
    table = np.full(256, -1, dtype=np.int64)
    for i, ch in enumerate(USCC_ALPHABET):
        table[ord(ch)] = i
    return table


def uscc_valid(values: Any) -> pa.Array:
    """Vectorized stdnum.cn.uscc.is_valid: 8 digits, alphabet characters, check character."""
    values = pa.chunked_array(values).combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    compact = pc.utf8_upper(pc.utf8_trim_whitespace(pc.replace_substring_regex(values, "[ -]", "")))
    mask, m = _bytes18(compact)
    idx = _uscc_index()[m]
    ok = np.all(idx >= 0, axis=1) & np.all(idx[:, :8] <= 9, axis=1)
    check = (31 - (np.where(idx < 0, 0, idx)[:, :17] @ np.array(USCC_WEIGHTS)) % 31) % 31
    ok &= idx[:, 17] == check
    return _result(values, mask, ok)


FUNCTIONS: dict[str, Callable[[Any], pa.Array]] = {RIC_FUNCTION: ric_valid, USCC_FUNCTION: uscc_valid}


def register(con: Any) -> None:
    """Make the check functions callable in SQL on this DuckDB connection (idempotent)."""
    for name, func in FUNCTIONS.items():
        try:
            con.create_function(name, func, ["VARCHAR"], "BOOLEAN", type="arrow", null_handling="special",
                                side_effects=False)
        except Exception as exc:  # DuckDB raises NotImplementedException for "already exists"
            if "already" not in str(exc).lower():
                raise


def ric_invalid_sql(col: str) -> str:
    """TRUE when col holds a value stdnum.cn.ric.is_valid rejects; FALSE when valid or NULL (never NULL)."""
    return f"({col} IS NOT NULL AND NOT {RIC_FUNCTION}(CAST({col} AS VARCHAR)))"


def uscc_invalid_sql(col: str) -> str:
    """TRUE when col holds a value stdnum.cn.uscc.is_valid rejects; FALSE when valid or NULL (never NULL)."""
    return f"({col} IS NOT NULL AND NOT {USCC_FUNCTION}(CAST({col} AS VARCHAR)))"
