"""Where records of a CSV file are (physical lines), for the few that need one: bad records, footers, quarantined rows."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from countyhub.connectors.csv_layout import BLANK, CsvLayout, line_reason
from countyhub.connectors.textio import SNIFF_BYTES

# The tail parsed when every line to find is near the end (footers are): lines before it are only counted.
TAIL_BYTES = 1 << 18
COUNT_CHUNK = 1 << 24


@dataclass
class Trace:
    """Where records below the header are in the file: the second pass, made only when something needs a line."""

    rows: dict[int, int] = field(default_factory=dict)  # position among the data rows kept -> physical line
    bad: list[int] = field(default_factory=list)  # line of each record with the wrong number of fields, in order
    kept_out: list[int] = field(default_factory=list)  # line of each full-width record that is not data (not blank)


def trace(path: Path, layout: CsvLayout, rows: set[int], bad: int, kept_out: int) -> Trace:
    """Physical start lines, splitting records as pyarrow does (quoted fields may span lines, empty lines are
    skipped, the records above the data skipped as `skip_records` says) and telling data from footer lines by
    the same rule as `not_data`. Stops once `rows`, `bad` bad records and `kept_out` footer lines are found."""
    found = Trace()
    width, last, kept = len(layout.names), max(rows, default=-1), 0
    limit = csv.field_size_limit()
    csv.field_size_limit(1 << 30)  # a long text field is data, not an error, here
    encoding = "utf-8-sig" if layout.encoding.startswith("utf-8") else layout.encoding
    try:
        with path.open("r", encoding=encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=layout.delimiter)
            start = 1
            for number, record in enumerate(reader):
                line, start = start, reader.line_num + 1
                if number < layout.skip_records or not record:
                    continue
                if len(record) != width:
                    found.bad.append(line)
                elif reason := line_reason(record, width):
                    if reason != BLANK:
                        found.kept_out.append(line)
                else:
                    if kept in rows:
                        found.rows[kept] = line
                    kept += 1
                if kept > last and len(found.bad) >= bad and len(found.kept_out) >= kept_out:
                    break
    finally:
        csv.field_size_limit(limit)
    return found


def trace_tail(path: Path, layout: CsvLayout, bad: int, kept_out: int) -> Trace | None:
    """`trace` for bad records and footer lines that all sit in the file's last TAIL_BYTES, as footers do: the
    newlines before the tail are counted in bulk (a GB18030 or UTF-8 byte 0x0A is always a newline), only the tail
    is parsed. None when they are not all there (or the tail cannot be read alone): then `trace` the whole file."""
    size = path.stat().st_size
    if size - TAIL_BYTES <= SNIFF_BYTES:
        return None  # the header may lie in the tail; the whole file is small enough to trace
    with path.open("rb") as fh:
        fh.seek(size - TAIL_BYTES)
        tail = fh.read()
        cut = tail.find(b"\n") + 1
        if not cut or (b"\r" in tail and b"\r\n" not in tail):
            return None  # one long line, or CR-only line ends that a newline count would miss
        fh.seek(0)
        lines, left = 0, size - TAIL_BYTES + cut
        while left > 0:
            chunk = fh.read(min(COUNT_CHUNK, left))
            lines, left = lines + chunk.count(b"\n"), left - len(chunk)
    try:
        text = tail[cut:].decode(layout.encoding.removesuffix("-sig"))
    except UnicodeDecodeError:
        return None
    found, width = Trace(), len(layout.names)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter)
    start = 1
    for record in reader:
        line, start = lines + start, reader.line_num + 1
        if not record:
            continue
        if len(record) != width:
            found.bad.append(line)
        elif (reason := line_reason(record, width)) and reason != BLANK:
            found.kept_out.append(line)
    # The counts match only if the tail holds every one of them (a tail cut inside a quoted value would add a
    # bad record of its own and fail this too).
    return found if (len(found.bad), len(found.kept_out)) == (bad, kept_out) else None


def unclosed_quote(batch: pa.RecordBatch, width: int, delimiter: str) -> str | None:
    """Why the batch's last row is a quote that was never closed (None when it is not): a value holding a line
    with as many fields as the header has. A quote left open swallows every line up to the end of the file into
    one value of what looks like a good row, so only the file's last row needs looking at."""
    if batch.num_rows == 0:
        return None
    for column in batch.columns[:width]:
        value = column[batch.num_rows - 1].as_py()
        if isinstance(value, str) and "\n" in value:
            swallowed = [line for line in value.splitlines()[1:] if line.count(delimiter) >= width - 1]
            if swallowed:
                return (f"a quote (\") opened on this line is never closed: the {len(swallowed)} line(s) after it "
                        "with the header's number of fields were read into one value; fix the quote in the file")
    return None
