"""CSV as offices export it: the header found below title and note lines, footer and blank lines kept out of the data."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from countyhub.connectors.base import ConnectorError
from countyhub.connectors.layout import (
    FOOTER_WORDS,
    HEADER_SEARCH_LINES,
    above_header_reason,
    filled,
    footer_reason,
    header_index,
)
from countyhub.connectors.textio import SNIFF_BYTES, detect_encoding

DELIMITERS = ",;\t|"
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
BLANK = "blank line"  # a line of only delimiters and spaces: skipped like an empty line, not logged
SKIPPED_TEXT = 300
# A first look at every row of a batch reads only the first bytes of one or two columns: it may let through rows
# that are data (the exact rule, layout.footer_reason, then decides for those few), never a row that is not.
# Python's str.strip() and layout.FOOTER's \s take for a space characters whose UTF-8 starts with a byte below 0x21
# (controls, space), 0xC2 (U+0085, U+00A0), 0xE1 (U+1680), 0xE2 (U+2000-U+205F) or 0xE3 (U+3000).
FOOTER_CHARS = sorted({w[0].encode() for w in FOOTER_WORDS})  # three UTF-8 bytes each
FOOTER_PAIRS = np.zeros(1 << 16, dtype=bool)  # their first two bytes: a table lookup per row, not a comparison each
FOOTER_PAIRS[[c[0] << 8 | c[1] for c in FOOTER_CHARS]] = True
FOOTER_CODES = np.array([int.from_bytes(c, "big") for c in FOOTER_CHARS], dtype=np.int64)
BLANK_CELL = r"^[ \t\x{3000}]*$"  # exactly what layout.filled() strips


@dataclass(frozen=True)
class AboveHeader:
    """A non-blank line above the header (title, 填报单位 or unit note)."""

    line: int
    reason: str
    text: str


@dataclass(frozen=True)
class CsvLayout:
    """How to read one CSV file: its encoding and delimiter, column names, and how many records precede the data."""

    encoding: str
    delimiter: str
    names: list[str]
    header: bool  # False: no line names the columns (column_1, column_2, ...)
    # CSV records before the first data record (pyarrow's skip_rows counts records, an empty line as one).
    skip_records: int = 0
    above: list[AboveHeader] = field(default_factory=list)


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(physical start line, cells) of the first records of `text`; an empty line is a record of no cells."""
    found: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for record in reader:
            found.append((start, record))
            start = reader.line_num + 1
            if len(found) > HEADER_SEARCH_LINES + 20:
                break
    except csv.Error:
        pass  # the head was cut inside a quoted field: the records before it are what we need
    return found


def _sniff(text: str) -> str:
    """The delimiter, sniffed below any title lines (a title has no delimiter, so it would only mislead)."""
    lines = [line for line in text.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if any(d in line for d in DELIMITERS)), 0)
    try:
        return csv.Sniffer().sniff("\n".join(lines[start:start + 20]), DELIMITERS).delimiter
    except csv.Error:
        return ","


def _names(cells: list[str]) -> list[str]:
    """Column names from a header line: an empty cell becomes column_<n>, a repeated name gets _2, _3."""
    names: list[str] = []
    for i, cell in enumerate(cells):
        base = cell.strip() or f"column_{i + 1}"
        name, n = base, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def _repeated(cells: list[str]) -> tuple[str, int, int] | None:
    """The first name a header line gives twice, with both (1-based) column positions."""
    seen: dict[str, int] = {}
    for position, name in enumerate(cells, 1):
        if name in seen:
            return name, seen[name], position
        seen[name] = position
    return None


def _looks_like_header(cells: list[str]) -> str | None:
    """Why a line below a title cannot be the header (None when it can): column names are text and distinct."""
    texts = filled(cells)
    if len(texts) < 2 and len(cells) > 1:
        return "it fills fewer than two cells"
    if number := next((t for t in texts if NUMBER.match(t)), None):
        return f"it has the number {number!r} where a column name is expected (a data line?)"
    if len(set(texts)) < len(texts):
        return "it repeats a column name"
    return None


def read_layout(path: Path, encoding: str | None, delimiter: str | None, header: bool | str,
                header_row: int | None) -> CsvLayout:
    """Encoding, delimiter, header and the lines above it, from the file's first 64 KB.

    Raises ConnectorError starting `<path>:<line>:` when the header cannot be found."""
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    try:
        encoding = encoding or detect_encoding(head)
    except ConnectorError as exc:
        raise ConnectorError(f"{path}:1: {exc}") from None
    text = head.decode(encoding, errors="ignore")
    if len(head) == SNIFF_BYTES:
        text = text[:max(text.rfind("\n"), 0)]  # the last line may be cut
    delimiter = delimiter or _sniff(text)
    records = _records(text, delimiter)
    if not any(filled(cells) for _, cells in records):
        raise ConnectorError(f"{path}:1: no header row (the file is empty or blank)")
    if header is False and header_row is None:
        first = next(cells for _, cells in records if cells)
        return CsvLayout(encoding, delimiter, [f"column_{i + 1}" for i in range(len(first))], False)
    if header_row is not None:
        index = next((i for i, (line, _) in enumerate(records) if line == header_row), None)
        if index is None or not filled(records[index][1]):
            last = records[-1][0]
            what = "blank" if index is not None else (f"not the start of a line within the first {last} lines read")
            raise ConnectorError(f"{path}:{header_row}: header_row: {header_row} is {what}; it must name the line "
                                 f"(1-based) that holds the column names")
    else:
        index = header_index([cells for _, cells in records])
        line, cells = records[index]
        if index == 0:
            # No title above: a header names columns (no empty, numeric or repeated cell), or there is none.
            first = [c.strip() for c in cells]
            texts = all(first) and not any(NUMBER.match(v) for v in first)
            if header == "auto" and texts and (twice := _repeated(first)):
                # A header that repeats a heading (备注, 备注), or a data line that repeats a value: guessing
                # either way would load wrong data without a word, so the engineer decides.
                name, a, b = twice
                raise ConnectorError(f"{path}:{line}: the header names {name!r} twice (columns {a} and {b}); set "
                                     f"`header: true` to load both (the second as {name}_2), or `header: false` if "
                                     f"line {line} is data")
            if header == "auto" and not texts:
                return CsvLayout(encoding, delimiter, [f"column_{i + 1}" for i in range(len(first))], False)
        elif problem := _looks_like_header(cells):
            raise ConnectorError(
                f"{path}:{line}: no header found: line {line}, the first below the title lines, cannot be the header: "
                f"{problem}; set `header_row:` to the line (1-based) that holds the column names, or `header: false`")
    above = [AboveHeader(line, above_header_reason(cells), delimiter.join(cells)[:SKIPPED_TEXT])
             for line, cells in records[:index] if filled(cells)]
    return CsvLayout(encoding, delimiter, _names(records[index][1]), True, index + 1, above)


def line_reason(cells: Sequence[str | None], width: int) -> str | None:
    """Why a record below the header is not data (BLANK or a footer reason), None when it is data.

    A short record is padded to the header's width: its missing trailing cells are empty ones."""
    if not filled(cells):
        return BLANK
    return footer_reason([*cells, *[None] * (width - len(cells))], width)


def _heads(column: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Byte length, start offset of each string in `data`, and `data`: the Arrow buffers as numpy, not copied."""
    _, offsets_buffer, data_buffer = column.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[column.offset:column.offset + len(column) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    return np.diff(offsets), offsets[:-1], data


def _maybe_not_data(columns: Sequence[pa.Array], width: int) -> np.ndarray:
    """Rows that may not be data: a first cell empty, starting with a space or with a footer word's first
    character, or (a one-cell note) a second cell empty or starting with a space."""
    lengths, starts, data = _heads(columns[0])
    if not len(data):
        return np.ones(len(lengths), dtype=bool)
    lead, second = data[np.minimum(starts, len(data) - 1)], data[np.minimum(starts + 1, len(data) - 1)]
    maybe = (lengths == 0) | (lead < 0x21) | (lead == 0xC2) | ((lead >= 0xE1) & (lead <= 0xE3))
    pair = np.flatnonzero(FOOTER_PAIRS[lead.astype(np.uint16) << 8 | second] & (lengths >= 3))
    if len(pair):  # a few rows in a column of Chinese names: only theirs third bytes are read
        code = lead[pair].astype(np.int64) << 16 | second[pair].astype(np.int64) << 8 | data[starts[pair] + 2]
        maybe[pair[np.isin(code, FOOTER_CODES)]] = True
    if width >= 3:
        lengths, starts, data = _heads(columns[1])
        if len(data):
            lead = data[np.minimum(starts, len(data) - 1)]
            maybe |= (lengths == 0) | (lead == 0x20) | (lead == 0x09) | (lead == 0xE3)  # layout.filled()'s spaces
        else:
            maybe |= True
    return maybe


def not_data(columns: Sequence[pa.Array], width: int) -> list[tuple[int, str]]:
    """(row index, reason) of the batch's rows that are not data, by `line_reason`. Every row is looked at
    through the first bytes of one or two columns (numpy over the Arrow buffers: a clean batch costs almost
    nothing); only the rows that may not be data are looked at closer."""
    if not columns or not len(columns[0]):
        return []
    rows = np.flatnonzero(_maybe_not_data(columns, width))
    if not len(rows):
        return []
    picked = [c.take(pa.array(rows)) for c in columns]
    cells = sum(pc.invert(pc.match_substring_regex(c, BLANK_CELL)).to_numpy(zero_copy_only=False).astype(np.int32)
                for c in picked)
    first_maybe = _maybe_not_data(picked[:1], 1)
    found = [(int(rows[i]), BLANK) for i in np.flatnonzero(cells == 0)]
    # Two or more cells filled and a first cell that cannot open a footer: data, no need to look closer.
    for i in np.flatnonzero((cells > 0) & ((cells == 1) | first_maybe)):
        if reason := line_reason([c[i].as_py() for c in picked], width):
            found.append((int(rows[i]), reason))
    return sorted(found)


def cells_of(text: str, delimiter: str) -> list[str]:
    """The cells of one record's text (as pyarrow's invalid-row handler gives it)."""
    return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
