"""Where a sheet's header is and what its columns are called, from merged titles, group cells and names merged down."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from countyhub.connectors.excel_xml import Merge
from countyhub.connectors.layout import header_index

MAX_LEVELS = 3
NOTE_MARKS = (":", "：")  # 填报单位：… is a note above the header, never a group title


@dataclass(frozen=True)
class Header:
    """The header's first and last sheet rows (1-based) and the column names it gives."""

    first: int
    last: int
    names: list[str]


def find_header(sample: Sequence[tuple[int, list[str | None]]], merges: Sequence[Merge], first: int | None = None,
                levels: int | None = None) -> Header:
    """The header of a sheet from its first rows with a value (sheet row, texts) and its merged ranges.

    `first` and `levels` (from the stream's options) fix what they give; the rest is detected.
    """
    rows = dict(sample)
    if not rows:
        return Header(first or 1, (first or 1) - 1, [])
    detect_top = first is None
    if first is None:
        lines = [_as_counted(number, texts, merges, rows) for number, texts in sample]
        first = sample[header_index(lines)][0]
    if levels:
        last = first + levels - 1
    else:
        first, last = _grow(first, first, rows, merges, detect_top)
    return Header(first, last, _names(rows, merges, first, last))


def _as_counted(number: int, texts: list[str | None], merges: Sequence[Merge],
                rows: dict[int, list[str | None]]) -> list[str | None]:
    """A row as header detection should count it: a merged cell once (a title merged across the sheet is one
    cell, even when a tool repeats its text in every cell), and a name merged down also in the rows below."""
    line = list(texts)
    for min_col, min_row, max_col, max_row in merges:
        if not min_row <= number <= max_row:
            continue
        if len(line) < max_col:
            line.extend([None] * (max_col - len(line)))
        line[min_col:max_col] = [None] * (max_col - min_col)
        if number > min_row:
            line[min_col - 1] = _text(rows, min_row, min_col - 1)
    return line


def _grow(first: int, last: int, rows: dict[int, list[str | None]], merges: Sequence[Merge],
          upward: bool) -> tuple[int, int]:
    """Widen the header row to every row its merged cells say belongs to it, at most MAX_LEVELS rows."""
    while True:
        top, bottom = first, last
        for _, min_row, _, max_row in merges:
            if max_row > min_row and min_row <= last and max_row >= first:  # merged down through the header
                top = min(top, min_row) if upward else top
                bottom = max(bottom, max_row)
        if upward and _is_group_row(rows, merges, first - 1, first):
            top = min(top, first - 1)
        if _is_children_row(rows, merges, last):
            bottom = max(bottom, last + 1)
        if (top, bottom) == (first, last) or bottom - top + 1 > MAX_LEVELS:
            return first, last
        first, last = top, bottom


def _groups(merges: Sequence[Merge], row: int) -> list[Merge]:
    """Cells of `row` merged across columns only: group titles over the columns below them."""
    return [m for m in merges if m[1] == m[3] == row and m[2] > m[0]]


def _filled_under(rows: dict[int, list[str | None]], row: int, group: Merge) -> bool:
    return all(_text(rows, row, col - 1) is not None for col in range(group[0], group[2] + 1))


def _is_group_row(rows: dict[int, list[str | None]], merges: Sequence[Merge], row: int, below: int) -> bool:
    """Whether `row` holds group titles over the header row `below`: cells merged across columns, each with a
    name under every column it spans, and more than one cell (one cell over everything is the sheet's title)."""
    texts, groups = rows.get(row), _groups(merges, row)
    if texts is None or not groups:
        return False
    filled = [t for t in _as_counted(row, texts, merges, rows) if t is not None]
    return (len(filled) >= 2 and not any(mark in t for t in filled for mark in NOTE_MARKS)
            and all(_filled_under(rows, below, g) for g in groups))


def _is_children_row(rows: dict[int, list[str | None]], merges: Sequence[Merge], last: int) -> bool:
    """Whether the row below the header holds the names under its group cells: filled under every group and
    nowhere else (a data row also fills the columns that have no group)."""
    below, groups = rows.get(last + 1), _groups(merges, last)
    if below is None or not groups:
        return False
    grouped = {col - 1 for g in groups for col in range(g[0], g[2] + 1)}
    return (all(col in grouped for col, text in enumerate(below) if text is not None)
            and all(_filled_under(rows, last + 1, g) for g in groups))


def _text(rows: dict[int, list[str | None]], row: int, col: int) -> str | None:
    texts = rows.get(row)
    return texts[col] if texts is not None and col < len(texts) else None


def _names(rows: dict[int, list[str | None]], merges: Sequence[Merge], first: int, last: int) -> list[str]:
    """One name per column: the texts above it in the header rows, merged cells counted in every column and row
    they span, joined with `_` (儿童信息_姓名); a name merged down is said once (序号)."""
    covered: dict[tuple[int, int], str | None] = {}
    for min_col, min_row, max_col, max_row in merges:
        if max_row < first or min_row > last:
            continue
        text = _text(rows, min_row, min_col - 1)
        for row in range(max(min_row, first), min(max_row, last) + 1):
            for col in range(min_col - 1, max_col):
                covered[(row, col)] = text
    width = max([len(rows.get(r) or []) for r in range(first, last + 1)]
                + [col + 1 for (_, col), text in covered.items() if text is not None])
    names: list[str] = []
    seen: set[str] = set()
    for col in range(width):
        parts = [covered[(row, col)] if (row, col) in covered else _text(rows, row, col) for row in range(first, last + 1)]
        name = "_".join(dict.fromkeys(p for p in parts if p)) or f"column_{col + 1}"
        base, n = name, 2
        while name in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name)
        names.append(name)
    return names
