"""Values as people type them (３２０, 1,234.50元, 12.5%, 2024年3月5日, Excel serials, 是/否) into declared types.

The plain vectorized cast is tried first; only a column whose cast fails in a batch is normalised
(vectorized: NFKC, regular expressions, strptime), and only values that still do not fit are looked
at one by one, to say why in plain words. Clean data never reaches Python row by row.

What `%` means: for a double or decimal column the number is a percentage, `12.5%` -> 0.125 (the
fraction, as a spreadsheet stores it). A whole-number column cannot hold a fraction, so a percentage
there goes to quarantine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

Failures = dict[int, str]  # row index in the batch -> reason
HEAD_ROWS = 64
NULL_MARKERS = pa.array(["", "NULL", "null", "Null", "\\N"])

# Excel's 1900 date system counts 1900-01-01 as 1 and keeps the 1900-02-29 that never was (serial 60), so
# from serial 61 on, day 0 is 1899-12-30. Only 1920..2099 is taken as a serial: 8-digit numbers are
# YYYYMMDD and a bare year ("2024") must not become 1905-07-16.
SERIAL_EPOCH_OFFSET = 25569  # serial of 1970-01-01
SERIAL_FIRST, SERIAL_LAST = 7306, 73050  # 1920-01-01, 2099-12-31
TRUE_WORDS = ["是", "有", "y", "yes", "true", "t", "1", "√", "✓", "对"]
FALSE_WORDS = ["否", "无", "n", "no", "false", "f", "0", "×", "✗", "错"]
NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
WHOLE = r"^[+-]?\d{1,19}$"
THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"
ISO_DATE = r"^[12]\d{3}-\d{2}-\d{2}$"
ISO_TIMESTAMP = r"^[12]\d{3}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$"
# (pattern, replacement) applied in order to a trimmed NFKC text: every way of writing a date becomes YYYY-MM-DD.
DATE_FORMS = [
    (r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?\s*", r"\1-\2-\3 "),
    (r"^(\d{4})[./-](\d{1,2})[./-](\d{1,2})(?:T|\s+)?", r"\1-\2-\3 "),
    (r"^(\d{4})(\d{2})(\d{2})(?:T|\s+)?(\d{2})(\d{2})(\d{2})$", r"\1-\2-\3 \4:\5:\6"),
    (r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3"),
    (r"^(\d{4})-(\d)-", r"\1-0\2-"),
    (r"^(\d{4}-\d{2})-(\d)(\s|$)", r"\1-0\2\3"),
    (r"\s+$", ""),
]
# The forms offices use most, each with its exact shape, read straight by strptime (no rewriting first); the
# first, whose 年月日 leave strptime nothing to misread, without a shape check (a year out of 1800-2199 is refused).
FAST_DATES = [(None, "%Y年%m月%d日"), (r"^[12]\d{3}-\d{1,2}-\d{1,2}$", "%Y-%m-%d"),
              (r"^[12]\d{3}/\d{1,2}/\d{1,2}$", "%Y/%m/%d"), (r"^[12]\d{3}\.\d{1,2}\.\d{1,2}$", "%Y.%m.%d"),
              (r"^[12]\d{3}[01]\d[0-3]\d$", "%Y%m%d")]
TIME_FORMS = [
    (r"^(\S+) (\d{1,2})\s*[时點点]\s*(\d{1,2})\s*分\s*(?:(\d{1,2})\s*秒)?$", r"\1 \2:\3:\4"),
    (r"^(\S+) (\d{1,2}):(\d{1,2}):?$", r"\1 \2:\3:00"),
    (r"^(\S+) (\d{1,2}):(\d{1,2}):(\d{1,2})", r"\1 0\2:0\3:0\4"),  # pad, then keep the last two digits
    (r"^(\S+) 0*(\d{2}):0*(\d{2}):0*(\d{2})", r"\1 \2:\3:\4"),
    (r"^([12]\d{3}-\d{2}-\d{2})$", r"\1 00:00:00"),
]


def declared_name(type_: pa.DataType) -> str:
    """The type as a department file declares it: decimal(10,2), integer, date..."""
    if pa.types.is_decimal(type_):
        return f"decimal({type_.precision},{type_.scale})"
    names = {pa.int64(): "integer", pa.float64(): "double", pa.bool_(): "boolean", pa.date32(): "date"}
    return names.get(type_, "timestamp" if pa.types.is_timestamp(type_) else str(type_))


def to_declared(name: str, column: pa.Array, type_: pa.DataType) -> tuple[pa.Array, Failures]:
    """`column` as `type_`, with NULL and a reason (naming the column) for each value that does not fit."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        # Database exports write a missing value as NULL or \N: in a typed column that is no value, not text.
        column = _null_where(pc.is_in(column, NULL_MARKERS), column)
    # A cast that fails costs ten times one that succeeds: the batch's first values say whether to try it at all.
    head_fits = len(column) <= HEAD_ROWS or _casts(column.slice(0, HEAD_ROWS), type_)
    if head_fits:
        try:
            return pc.cast(column, type_), {}
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        typed = _cast_each(column, type_)  # typed sources (SQL, JSON): only a narrowing cast can fail
        return typed, {i: f"{name}: {column[i].as_py()!r} does not fit {declared_name(type_)}" for i in _lost(column, typed)}
    if head_fits:
        # Mostly plain, a few not: values in the form the cast takes are cast as they are, the others normalised.
        plain = _matches(column, _plain_form(type_))
        typed = _cast_each(_only(plain, column), type_)
        failures = {i: f"{name}: {column[i].as_py()!r} {_why(column[i].as_py(), type_)}"
                    for i in _lost(_only(plain, column), typed)}
        others = pc.and_(pc.is_valid(column), pc.invert(plain))
    else:  # written the office way from the start (1,234.00元, 2023年7月1日): normalise the whole batch
        typed, failures, others = pa.nulls(len(column), type_), {}, pc.is_valid(column)
    rows = pc.indices_nonzero(others)
    if len(rows) == 0:
        return typed, failures
    raw = column if len(rows) == len(column) else column.take(rows)
    text = pc.utf8_trim_whitespace(pc.utf8_normalize(raw, "NFKC") if _wide(raw) else raw)
    text = _null_where(pc.equal(text, ""), text)  # whitespace only: empty, as ""
    parsed = _parser(type_)(text, type_)
    for j in _lost(text, parsed):
        failures[rows[j].as_py()] = f"{name}: {raw[j].as_py()!r} {_why(text[j].as_py(), type_)}"
    return (parsed if len(rows) == len(column) else pc.replace_with_mask(typed, others, parsed)), failures


def _casts(values: pa.Array, type_: pa.DataType) -> bool:
    try:
        pc.cast(values, type_)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _wide(text: pa.Array) -> bool:
    """Whether some value may have a full-width form (３２０, ￥, 　) that NFKC, a pass over every value, would change.

    Those forms (U+FF01-U+FFEE) start with the UTF-8 byte EF and the ideographic space is E3 80 80: two byte
    searches of the values buffer, a superset when the array is a slice of it."""
    values = text.buffers()[2]
    data = values.to_pybytes() if values is not None else b""
    return b"\xef" in data or b"\xe3\x80\x80" in data


def _null_where(mask: pa.Array, values: pa.Array) -> pa.Array:
    """`values` with NULL where mask holds; untouched (no copy) when it holds nowhere, as in most batches."""
    if not pc.any(mask).as_py():
        return values
    return pc.if_else(mask, pa.scalar(None, values.type), values)


def _plain_form(type_: pa.DataType) -> str:
    """The values Arrow's cast to `type_` takes as they are (the ones that need no normalising)."""
    if pa.types.is_integer(type_):
        return r"^[+-]?\d+$"
    if pa.types.is_date(type_):
        return ISO_DATE
    if pa.types.is_timestamp(type_):
        return r"^[12]\d{3}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$"
    if pa.types.is_boolean(type_):
        return r"^(true|false|1|0)$"
    return NUMBER


def _lost(source: pa.Array, typed: pa.Array) -> list[int]:
    """Rows that had a value and have none after typing."""
    return pc.indices_nonzero(pc.and_(pc.is_valid(source), pc.is_null(typed))).to_pylist()


def _cast_each(values: pa.Array, type_: pa.DataType) -> pa.Array:
    """Cast with NULL where a value does not fit. When the vectorized cast refuses, the halves are cast
    again (a few bad values cost a few dozen casts, not a Python loop); single values end it."""
    try:
        return pc.cast(values, type_)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError):
        if len(values) == 1:
            return pa.nulls(1, type_)
    half = len(values) // 2
    return pa.concat_arrays([_cast_each(values.slice(0, half), type_), _cast_each(values.slice(half), type_)])


def _only(mask: pa.Array, values: pa.Array) -> pa.Array:
    """`values` where mask holds, NULL elsewhere."""
    return pc.if_else(pc.fill_null(mask, False), values, pa.scalar(None, values.type))


def _matches(text: pa.Array, pattern: str) -> pa.Array:
    return pc.fill_null(pc.match_substring_regex(text, pattern), False)


def _number_text(text: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(the number as Arrow can cast it, whether it was written as a percentage) from 1,234.50元, ¥12, 12.5%."""
    text = pc.utf8_rtrim(pc.utf8_ltrim(text, characters="¥ "), characters="元 ")  # NFKC made ￥ into ¥
    percent = pc.ends_with(text, "%")
    if pc.any(percent).as_py():
        text = pc.replace_substring_regex(text, r"\s*%$", "")
    if pc.any(pc.match_substring(text, ",")).as_py():
        text = pc.if_else(_matches(text, THOUSANDS), pc.replace_substring(text, ",", ""), text)
    return text, pc.fill_null(percent, False)


def _whole(text: pa.Array, type_: pa.DataType) -> pa.Array:
    text, percent = _number_text(text)
    text = pc.replace_substring_regex(text, r"^([+-]?\d+)\.0*$", r"\1")  # 12.00, as Excel exports whole numbers
    return _cast_each(_only(pc.and_(_matches(text, WHOLE), pc.invert(percent)), text), type_)


def _fraction(text: pa.Array, type_: pa.DataType) -> pa.Array:
    text, percent = _number_text(text)
    # Arrow's decimal cast takes exactly NUMBER's forms; its float cast also takes nan and inf, which are no amount.
    number = _only(_matches(text, NUMBER), text) if pa.types.is_floating(type_) else text
    if pa.types.is_floating(type_):
        values = _cast_each(number, type_)
        return pc.if_else(percent, pc.divide(values, 100.0), values)  # division by 100 rounds once, exactly
    if not pc.any(percent).as_py():
        return _cast_each(number, type_)
    # Decimal: a percentage is the number with its point moved two places, exact; cast refuses what lost digits.
    wider = pa.decimal128(min(type_.precision + 2, 35), type_.scale)
    hundredths = pc.multiply(_cast_each(number, wider), pa.scalar(Decimal("0.01"), pa.decimal128(2, 2)))
    plain, scaled = _cast_each(_only(pc.invert(percent), number), type_), _cast_each(_only(percent, hundredths), type_)
    return pc.if_else(percent, scaled, plain)


def _iso(text: pa.Array, forms: list[tuple[str, str]]) -> pa.Array:
    for pattern, replacement in forms:
        text = pc.replace_substring_regex(text, pattern, replacement)
    return text


def _excel_serial(text: pa.Array, whole_days: bool) -> pa.Array:
    """Excel serial numbers in 1920..2099 as seconds since 1970 (float64), NULL for anything else."""
    pattern = r"^\d{4,5}$" if whole_days else r"^\d{4,5}(\.\d+)?$"
    serial = pc.cast(_only(_matches(text, pattern), text), pa.float64())
    serial = _only(pc.and_(pc.greater_equal(serial, SERIAL_FIRST), pc.less(serial, SERIAL_LAST + 1)), serial)
    return pc.multiply(pc.subtract(serial, float(SERIAL_EPOCH_OFFSET)), 86400.0)


def _strict(iso: pa.Array, fmt: str, unit: str) -> pa.Array:
    """strptime that refuses 2024-02-30 (Arrow's strptime rolls it over to March 1st: compare the round trip)."""
    parsed = pc.strptime(iso, format=fmt, unit=unit, error_is_null=True)
    return _only(pc.equal(pc.strftime(parsed, format=fmt), iso), parsed)


def _date(text: pa.Array, type_: pa.DataType) -> pa.Array:
    fast = pa.nulls(len(text), pa.timestamp("s"))
    for guard, fmt in FAST_DATES:  # each form only where its exact shape is (strptime alone takes 2024035)
        if not pc.any(pc.is_null(fast)).as_py():
            break
        shaped = text if guard is None else _only(_matches(text, guard), text)
        fast = pc.coalesce(fast, pc.strptime(shaped, format=fmt, unit="s", error_is_null=True))
    fast = _only(pc.and_(pc.greater_equal(pc.year(fast), 1800), pc.less(pc.year(fast), 2200)), fast)  # not 0024年
    # strptime rolls 2024-02-30 over to 03-01: a date on day 1-3 whose text says day 29-31 is refused here and
    # looked at again below, with everything strptime did not take.
    early = pc.indices_nonzero(pc.fill_null(pc.less_equal(pc.day(fast), 3), False))
    if len(early):
        rolled = early.filter(_matches(text.take(early), r"(29|30|31)\s*[日号]?$"))
        if len(rolled):
            fast = pc.if_else(pc.is_in(pa.array(range(len(text)), pa.int64()), rolled), pa.scalar(None, fast.type), fast)
    again = pc.indices_nonzero(pc.is_null(fast))
    typed = pc.cast(fast, type_)
    if len(again) == 0:
        return typed
    rest = text.take(again)
    iso = _iso(rest, DATE_FORMS)
    days = _cast_each(_only(_matches(iso, ISO_DATE), iso), type_)  # Arrow's ISO cast refuses 2024-02-30
    serial = pc.cast(pc.cast(pc.divide(_excel_serial(rest, True), 86400.0), pa.int32()), type_)
    mask = pc.is_in(pa.array(range(len(text)), pa.int64()), again)
    return pc.replace_with_mask(typed, mask, pc.coalesce(days, serial))


def _timestamp(text: pa.Array, type_: pa.DataType) -> pa.Array:
    iso = _iso(_iso(text, DATE_FORMS), TIME_FORMS)
    iso = _only(_matches(iso, ISO_TIMESTAMP), iso)
    parts = pc.extract_regex(iso, r"^(?P<base>.{19})(?:\.(?P<fraction>\d{1,6}))?$")
    base, fraction = pc.struct_field(parts, [0]), pc.struct_field(parts, [1])
    micros = pc.cast(pc.utf8_rpad(fraction, width=6, padding="0"), pa.int64())
    seconds = pc.cast(pc.cast(_strict(base, "%Y-%m-%d %H:%M:%S", "s"), pa.timestamp("us")), pa.int64())
    typed = pc.cast(pc.add(seconds, micros), pa.timestamp("us"))
    serial = pc.cast(pc.cast(pc.round(pc.multiply(_excel_serial(text, False), 1e6)), pa.int64()), pa.timestamp("us"))
    return pc.cast(pc.coalesce(typed, serial), type_)


def _boolean(text: pa.Array, type_: pa.DataType) -> pa.Array:
    words = pc.utf8_lower(text)
    yes, no = pc.is_in(words, pa.array(TRUE_WORDS)), pc.is_in(words, pa.array(FALSE_WORDS))
    return pc.if_else(pc.or_(yes, no), yes, pa.scalar(None, pa.bool_())).cast(type_)


def _parser(type_: pa.DataType) -> Callable[[pa.Array, pa.DataType], pa.Array]:
    if pa.types.is_integer(type_):
        return _whole
    if pa.types.is_floating(type_) or pa.types.is_decimal(type_):
        return _fraction
    if pa.types.is_date(type_):
        return _date
    if pa.types.is_timestamp(type_):
        return _timestamp
    if pa.types.is_boolean(type_):
        return _boolean
    return _cast_each


def _why(text: str, type_: pa.DataType) -> str:
    """The reason for one value that stayed unfit, from its normalised text."""
    number = _number_text(pa.array([text]))[0][0].as_py()
    looks_numeric = pc.match_substring_regex(pa.array([number]), NUMBER)[0].as_py()
    if pa.types.is_integer(type_):
        if text.endswith("%") and looks_numeric:
            return "is a percentage, not a whole number"
        return f"does not fit {declared_name(type_)}" if re.fullmatch(r"[+-]?\d+", number or "") else (
            "is not a whole number")
    if pa.types.is_floating(type_) or pa.types.is_decimal(type_):
        if not looks_numeric:
            return "is not a number"
        share = f" ({text} is {Decimal(number) / 100})" if text.endswith("%") else ""
        return f"does not fit {declared_name(type_)}{share}"
    if pa.types.is_date(type_) or pa.types.is_timestamp(type_):
        kind = "date" if pa.types.is_date(type_) else "date and time"
        if text.isdigit() and len(text) in (4, 5):
            first, last = (date.fromordinal(date(1899, 12, 30).toordinal() + s) for s in (SERIAL_FIRST, SERIAL_LAST))
            return f"is not a {kind} (as an Excel serial number it falls outside {first.year}-{last.year})"
        return f"is not a {kind}"
    if pa.types.is_boolean(type_):
        return "is not yes or no (是/否, 有/无, Y/N, true/false, 1/0, √/×)"
    return f"does not fit {declared_name(type_)}"
