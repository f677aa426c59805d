"""Excel .xlsx as government spreadsheets look: which sheet, where the header is, and which rows are data, titles or footers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Literal

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from pydantic import BaseModel, ConfigDict, Field

from countyhub.connectors.errors import ConnectorError
from countyhub.connectors.excel_header import MAX_LEVELS, find_header
from countyhub.connectors.excel_xml import Row, SheetRows, cell_text, merged_ranges
from countyhub.connectors.layout import FOOTER_WORDS, HEADER_SEARCH_LINES, footer_reason

__all__ = ["REJECT", "SKIP", "Line", "Sheet", "SheetOptions", "cell_text", "line_text", "read_sheet", "row_estimate"]

SKIP, REJECT = "skip", "reject"
TITLE = "title above the header"
ESTIMATE_BYTES = 64 * 1024
# A footer line's first filled cell starts with one of these: the other rows need not ask layout.footer_reason.
FOOTER_STARTS = frozenset(word[0] for word in FOOTER_WORDS)
# (sheet row, cell texts, None for a data row or (SKIP or REJECT, why)); a data row has one text per column.
Line = tuple[int, list[str | None], tuple[str, str] | None]


class SheetOptions(BaseModel):
    """Which sheet of a workbook to read and where its header is (each detected when not given)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sheet: str | None = None  # default: the first visible sheet; a hidden sheet is read only when named
    header_row: int | None = Field(default=None, ge=1)  # 1-based, the header's first row; default detected
    header_rows: Literal[1, 2, 3] | None = None  # header levels (group cells over their columns); default detected


@dataclass
class Sheet:
    """A sheet's column names and its rows below the first title line, each told apart (see `Line`)."""

    names: list[str]
    lines: Iterator[Line]


@dataclass(frozen=True)
class SheetPart:
    """A worksheet as the workbook lists it: its name, whether it is shown, and its part in the archive."""

    name: str
    state: str  # visible, hidden, veryHidden
    part: str


def _parts(reader: ExcelReader) -> list[SheetPart]:
    return [SheetPart(sheet.name, sheet.state or "visible", rel.target) for sheet, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type]


def _chosen(parts: list[SheetPart], path: Path, name: str | None) -> SheetPart:
    """The named sheet, or the first visible one; else an error that lists the sheets the workbook has."""
    for part in parts:
        if part.name == name if name is not None else part.state == "visible":
            return part
    listed = ", ".join(repr(p.name) + ("" if p.state == "visible" else " (hidden)") for p in parts)
    wanted = f"no sheet named {name!r}" if name is not None else "no visible sheet"
    raise ConnectorError(f"{path.name}: {wanted}; the workbook has {listed or 'no worksheet'}")


def _reader(path: Path) -> ExcelReader:
    """openpyxl's reader with the workbook part parsed. Not `load_workbook(read_only=True)`: that parses every
    sheet whole to find its size when the writer left `<dimension>` out (openpyxl's own streaming writer does)."""
    reader = ExcelReader(path, read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_workbook()
    return reader


def open_rows(path: Path, sheet_name: str | None) -> SheetRows:
    """The chosen sheet's rows: openpyxl reads the workbook's shared strings and date styles, SheetRows the sheet."""
    reader = _reader(path)
    try:
        part = _chosen(_parts(reader), path, sheet_name)
        reader.read_strings()
        apply_stylesheet(reader.archive, reader.wb)
        book = reader.wb
        return SheetRows(path, part.part, [cell_text(s) for s in reader.shared_strings], set(book._date_formats),
                         set(book._timedelta_formats), book.epoch)
    finally:
        reader.archive.close()


def row_estimate(path: Path, options: SheetOptions) -> int:
    """Rows below the header, from the density of `<row>` elements in the sheet's first 64 KB (a recorded
    dimension may be missing, or A1:Z1048576 after someone formatted whole columns)."""
    reader = _reader(path)
    try:
        part = _chosen(_parts(reader), path, options.sheet)
        size = reader.archive.getinfo(part.part).file_size
        with reader.archive.open(part.part) as fh:
            head = fh.read(ESTIMATE_BYTES)
    finally:
        reader.archive.close()
    rows = head.count(b"<row ")
    return max(round(rows * size / max(len(head), 1)) - (options.header_row or 1), 0)


def read_sheet(path: Path, options: SheetOptions) -> Sheet:
    """The sheet's column names and its lines, streamed: nothing past the first rows is held."""
    sheet_rows = open_rows(path, options.sheet)
    rows = iter(sheet_rows)
    must_see = (options.header_row or 0) + MAX_LEVELS
    sample: list[Row] = []
    for row in rows:
        sample.append(row)
        if len(sample) >= HEADER_SEARCH_LINES and row[0] >= must_see:
            break
    header = find_header([(number, texts) for number, texts, _ in sample], merged_ranges(path, sheet_rows.sheet_path),
                         options.header_row, options.header_rows)
    return Sheet(header.names, _lines(header.first, header.last, header.names, chain(sample, rows)))


def _lines(first: int, last: int, names: list[str], rows: Iterator[Row]) -> Iterator[Line]:
    """Every row with a value, told apart: titles above the header, the data, footers, rows that cannot be data.

    This runs once per row of a file of hundreds of thousands: the checks that need more than a length or a
    first character are only made for the rows those cheap checks let through.
    """
    width = len(names)
    for number, texts, formulas in rows:
        if number <= last:
            if number < first:
                yield number, texts, (SKIP, TITLE)
            continue
        size = len(texts)
        if size > width or not width:  # a row's texts end at its last value
            yield number, texts, (REJECT, f"row has values beyond the {width} header columns")
            continue
        if size < width:
            texts.extend([None] * (width - size))
        if (texts[0] is None or texts[0][0] in FOOTER_STARTS or width - texts.count(None) <= 1) and (
                reason := footer_reason(texts, width)):
            yield number, texts, (SKIP, reason)  # before the formula check: a 合计 row of =SUM() is a footer
            continue
        if formulas and (missing := [(c, f) for c, f in formulas if c < width]):
            yield number, texts, (REJECT, "; ".join(f"{names[c]}: formula {f} has no cached value (open and save "
                                                     "the file in Excel)" for c, f in missing))
            continue
        yield number, texts, None


def line_text(texts: list[str | None]) -> str:
    """A row as a CSV line of its texts, for the load log (trailing empty cells left out)."""
    return ",".join(t or "" for t in texts).rstrip(",")
