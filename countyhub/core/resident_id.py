"""GB 11643 resident ID numbers: python-stdnum's rules per value with a reason, and a vectorized check equal to them.

python-stdnum (`stdnum.cn.ric`) is the rule. `ric_valid` mirrors `stdnum.cn.ric.is_valid` with numpy on
the raw bytes, for the common path of millions of clean values (the birth-place table is read from
stdnum's own database, not copied); tests/unit/test_resident_id.py and test_contracts_rules.py prove
the agreement on thousands of generated valid and corrupted numbers. `problem` says in plain words why
one value is not a resident ID number, following stdnum's own order of checks.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from stdnum import exceptions as stdnum_errors
from stdnum import numdb
from stdnum.cn import ric
from stdnum.util import isdigits

RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# What Excel or a CSV export makes of an 18-digit number typed as a number: 5.11724E+17, 511724198001010000.0
_LOST_DIGITS = re.compile(r"^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?$")


@functools.cache
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


@functools.cache
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


def bytes18(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(mask of 18-byte values, their bytes as an n x 18 uint8 matrix) — straight from the Arrow buffers."""
    lengths = pc.fill_null(pc.binary_length(values), 0).to_numpy(zero_copy_only=False)
    mask = lengths == 18
    picked = pc.filter(values, pa.array(mask)).cast(pa.large_string())
    if len(picked) == 0:
        return mask, np.zeros((0, 18), dtype=np.uint8)
    offsets = np.frombuffer(picked.buffers()[1], dtype=np.int64)[picked.offset: picked.offset + len(picked) + 1]
    data = np.frombuffer(picked.buffers()[2], dtype=np.uint8)
    return mask, data[offsets[0]: offsets[0] + 18 * len(picked)].reshape(-1, 18)


def spread(values: pa.Array, mask: np.ndarray, ok: np.ndarray) -> pa.Array:
    """Booleans for `values` from `ok` (one per masked value): False where unmasked, NULL where values is NULL."""
    out = np.zeros(len(values), dtype=bool)
    out[mask] = ok
    return pa.array(out, mask=pc.is_null(values).to_numpy(zero_copy_only=False))


def _days_ok(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 0, 12)] + (leap & (month == 2))
    return (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)  # datetime.date's limits


def _checked(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(valid as stdnum says, birth date as YYYYMMDD) for an n x 18 matrix of ID-number bytes."""
    d = m[:, :17] - np.uint8(48)  # uint8 arithmetic wraps: any non-digit becomes more than 9
    ok = np.all(d <= 9, axis=1)
    digits = np.minimum(d, 9).astype(np.int32)  # keeps a non-digit row's region index in range
    check = np.frombuffer(b"10X98765432", dtype=np.uint8)[(digits @ np.array(RIC_WEIGHTS, dtype=np.int32)) % 11]
    ok &= m[:, 17] == check
    powers = 10 ** np.arange(7, -1, -1, dtype=np.int32)
    code, born = digits[:, :6] @ powers[2:], digits[:, 6:14] @ powers
    year, month, day = born // 10000, born // 100 % 100, born % 100
    ok &= _days_ok(year, month, day)
    first, last = _region_table()
    ok &= np.any((first[:, code] <= year) & (year <= last[:, code]), axis=0)
    return ok, born


def ric_valid(values: Any) -> pa.Array:
    """Vectorized stdnum.cn.ric.is_valid: format, check digit, birth date, birth place valid in the birth year."""
    values = pa.chunked_array(values).combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    mask, m = bytes18(pc.utf8_upper(pc.utf8_trim_whitespace(values)))
    return spread(values, mask, _checked(m)[0])


def _compact_valid_by(values: pa.Array, today: date) -> pa.Array:
    """ric_valid for values already as stdnum compacts them (no trimming, no case folding: a lowercase x
    or a space fails here and is looked at again), born on or before `today` (stdnum does not look at the
    calendar; the county does)."""
    mask, m = bytes18(values)
    ok, born = _checked(m)
    return spread(values, mask, ok & (born <= int(today.strftime("%Y%m%d"))))


@functools.lru_cache(maxsize=8192)
def _place_known(prefix: str, year: int) -> bool:
    """stdnum's birth-place check (its region table, as of the birth year), cached: the lookup costs about
    230 µs a call and a county's numbers come from a few hundred regions."""
    try:
        ric.get_birth_place(f"{prefix}{year:04d}01010000")
    except (stdnum_errors.InvalidComponent, KeyError):  # KeyError: stdnum 2.2 on a province-only code
        return False
    return True


def validate(value: str) -> str:
    """stdnum.cn.ric.validate step by step (same exceptions), with the birth-place lookup cached."""
    number = ric.compact(value)
    if len(number) != 18:
        raise stdnum_errors.InvalidLength()
    if not isdigits(number[:-1]):
        raise stdnum_errors.InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise stdnum_errors.InvalidChecksum()
    if not _place_known(number[:6], ric.get_birth_date(number).year):
        raise stdnum_errors.InvalidComponent()
    return number


def problem(value: str, today: date) -> str | None:
    """Why `value` is not a resident ID number born by `today`, in plain words; None when it is one."""
    number = ric.compact(value)
    if len(number) != 18 and _LOST_DIGITS.match(number) and ("." in number or "E" in number):
        return "is a number that lost digits (Excel stores ID numbers as floats)"
    if len(number) == 17 and isdigits(number):
        return "has 17 digits: it was cut short (a resident ID number has 18)"
    if len(number) == 15 and isdigits(number):
        return "is a 15-digit first-generation ID number; the 18-digit number is needed"
    if len(number) != 18 or not isdigits(number[:-1]) or not (isdigits(number[-1]) or number[-1] == "X"):
        return "is not an 18-character resident ID number"
    if number[-1] != ric.calc_check_digit(number):
        return f"has a wrong check digit (GB 11643 gives {ric.calc_check_digit(number)})"
    try:
        born = ric.get_birth_date(number)
    except stdnum_errors.InvalidComponent:
        return f"has an impossible birth date ({number[6:14]})"
    if not _place_known(number[:6], born.year):
        return f"has an unknown birth place (region {number[:6]} did not exist in {born.year})"
    if born > today:
        return f"has a birth date in the future ({born.isoformat()})"
    return None


def check_column(name: str, column: pa.Array, today: date) -> tuple[pa.Array, dict[int, str]]:
    """The column with its ID numbers as stdnum compacts them (x -> X, full-width digits, outer spaces) and,
    by row, why a value is not a resident ID number born by `today` (naming the column). Empty values pass.

    Values already canonical and valid are decided in bulk; only the ones that fast path doubts are
    normalised, and only those still failing are looked at one by one, through stdnum."""
    doubted = pc.and_(pc.invert(_compact_valid_by(column, today)), pc.not_equal(column, ""))
    if not pc.any(doubted).as_py():
        return column, {}
    compact = pc.utf8_upper(pc.utf8_trim_whitespace(pc.utf8_normalize(column, "NFKC")))
    raw, column = column, pc.if_else(doubted, compact, column)
    failing = pc.and_(pc.fill_null(doubted, False),
                      pc.invert(pc.or_(_compact_valid_by(column, today), pc.equal(column, ""))))
    reasons = {}
    for i in pc.indices_nonzero(failing).to_pylist():
        why = problem(column[i].as_py(), today)
        if why is not None:  # stdnum is the rule: a value it accepts passes, whatever the fast path said
            reasons[i] = f"{name}: {raw[i].as_py()!r} {why}"
    return column, reasons

