"""Excel .xlsx as government spreadsheets look: title rows above the header, merged two-level header cells."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal

from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries
from pydantic import BaseModel, ConfigDict, Field

SAMPLE_ROWS = 30
MERGE = re.compile(rb'<mergeCell ref="([A-Z]+\d+:[A-Z]+\d+)"')
FLOAT_EXACT = 2**53  # beyond this a float has lost integer digits (an 18-digit ID number typed as a number)


class SheetOptions(BaseModel):
    """Which sheet of a workbook to read and where its header is (each detected when not given)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sheet: str | None = None  # default: the first sheet
    header_row: int | None = Field(default=None, ge=1)  # 1-based; default: the first row filled like a header
    header_rows: Literal[1, 2] | None = None  # 2 under merged group cells; default detected


def cell_text(value: Any) -> str | None:
    """A cell as the text a person sees in Excel; numbers that lost digits keep their lossy look (E+17)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < FLOAT_EXACT:
            return str(int(value))
        return format(value, ".15g").upper()
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def merged_ranges(path: Path, sheet_path: str) -> list[tuple[int, int, int, int]]:
    """(min_col, min_row, max_col, max_row) of every merged range, read from the sheet XML in chunks.

    openpyxl's streaming (read-only) mode does not expose merged cells, and the full mode loads the
    whole sheet into memory; `<mergeCell>` elements are easy to pick out of the raw XML instead.
    """
    found, tail = [], b""
    with zipfile.ZipFile(path) as archive, archive.open(sheet_path.lstrip("/")) as fh:
        while chunk := fh.read(1 << 20):
            data = tail + chunk
            found += [m.group(1).decode() for m in MERGE.finditer(data)]
            tail = data[-200:] if not data.endswith(b">") else b""
            found = list(dict.fromkeys(found))  # a match inside the kept tail is seen twice
    return [range_boundaries(ref) for ref in found]


def _header_row(sample: list[tuple[Any, ...]]) -> int:
    """Index of the first row filled like a header: titles and notes above it fill one or two cells."""
    counts = [sum(v is not None and str(v).strip() != "" for v in row) for row in sample]
    width = max(counts, default=0)
    for index, count in enumerate(counts):
        if count >= max(2, 0.6 * width):
            return index
    return 0


def _names(sample: list[tuple[Any, ...]], top: int, merges: list[tuple[int, int, int, int]],
           rows: int | None) -> tuple[list[str], int]:
    """Column names and how many header rows they took (1, or 2 under merged group cells)."""
    first_row = top + 1  # sheet rows are 1-based
    width = max(len(r) for r in sample[top:top + 2]) if sample else 0
    group = [m for m in merges if m[1] == first_row and (m[2] > m[0] or m[3] > m[1])]
    if rows is None:
        rows = 2 if group and top + 1 < len(sample) else 1
    upper = [cell_text(v) for v in sample[top]] + [None] * width
    lower = [cell_text(v) for v in sample[top + 1]] + [None] * width if rows == 2 else [None] * (2 * width)
    for min_col, _, max_col, max_row in group:  # a group title spans its sub-columns
        for col in range(min_col, max_col + 1):
            upper[col - 1] = upper[min_col - 1]
            if max_row > first_row:  # merged down: the cell below belongs to this header
                lower[col - 1] = None
    names, seen = [], set()
    for i in range(width):
        parts = [p for p in (upper[i], lower[i]) if p]
        name = "_".join(dict.fromkeys(parts)) or f"column_{i + 1}"
        base, n = name, 2
        while name in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name)
        names.append(name)
    return names, rows


def row_estimate(path: Path, options: SheetOptions) -> int:
    """Rows below the header, from the sheet's recorded dimensions (no cell is read; title rows counted as 1)."""
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook[options.sheet] if options.sheet else workbook.worksheets[0]
        return max((sheet.max_row or 0) - (options.header_row or 1), 0)
    finally:
        workbook.close()


def read_sheet(path: Path, options: SheetOptions) -> tuple[list[str], Iterator[tuple[int, list[str | None]]]]:
    """Column names and an iterator of (sheet row number, cell texts) for the data rows."""
    workbook = load_workbook(path, read_only=True, data_only=True)
    sheet = workbook[options.sheet] if options.sheet else workbook.worksheets[0]
    sample = [tuple(r) for _, r in zip(range(SAMPLE_ROWS), sheet.iter_rows(values_only=True))]
    top = options.header_row - 1 if options.header_row else _header_row(sample)
    merges = merged_ranges(path, sheet._worksheet_path)
    names, header_rows = _names(sample, top, merges, options.header_rows)
    first_data = top + header_rows + 1

    def rows() -> Iterator[tuple[int, list[str | None]]]:
        try:
            for number, row in enumerate(sheet.iter_rows(min_row=first_data, values_only=True), start=first_data):
                texts = [cell_text(v) for v in row]
                if any(t is not None for t in texts):
                    yield number, texts
        finally:
            workbook.close()

    return names, rows()
