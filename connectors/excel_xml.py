"""A worksheet's XML read as a stream of regular expressions: rows of cell texts, merged ranges, formulas without a cached value."""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from html import unescape
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601

CHUNK = 1 << 20
FLOAT_EXACT = 2**53  # beyond this a float has lost integer digits (an 18-digit ID number typed as a number)
DAYS_KEPT = 100_000  # whole-day serials converted once each (a lifetime of birth dates is 36,500)
MERGE = re.compile(rb'<mergeCell ref="([A-Z]+\d+:[A-Z]+\d+)"')
# `[^>]*?` stops before a self-closing `/>`: `<row r="5"/>` must not open a match that runs into the next row.
ROW = re.compile(r"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.DOTALL)
# A cell as Excel and openpyxl write it (r, then s, then t) in the first branch, any other in the second.
CELL = re.compile(r'<c r="([A-Z]{1,3})\d+"(?: s="(\d+)")?(?: t="(\w+)")?(?:/>|>(.*?)</c>)'
                  r"|<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
TEXT = re.compile(r"<t\b[^>]*>([^<]*)</t>")
PHONETIC = re.compile(r"<rPh\b.*?</rPh>", re.DOTALL)  # reading aids (furigana) are not part of the cell's text
FORMULA = re.compile(r"<f\b([^>]*?)(?:/>|>([^<]*)</f>)")
SHARED_INDEX = re.compile(r'\bsi="(\d+)"')

Merge = tuple[int, int, int, int]  # (min_col, min_row, max_col, max_row), 1-based as openpyxl gives them
Row = tuple[int, list[str | None], list[tuple[int, str]] | None]  # (sheet row, texts by column, uncached formulas)


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
    if isinstance(value, timedelta):  # a duration format ([h]:mm): hours past 24 as Excel shows them
        seconds = round(value.total_seconds())
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    text = str(value).strip()
    return text or None


def merged_ranges(path: Path, sheet_path: str) -> list[Merge]:
    """Every merged range of the sheet, read from its XML in chunks.

    openpyxl's streaming mode does not expose merged cells and its full mode loads the whole sheet;
    `<mergeCell>` elements (after the cell data) are easy to pick out of the raw XML at C speed instead.
    """
    found, tail = [], b""
    with zipfile.ZipFile(path) as archive, archive.open(sheet_path.lstrip("/")) as fh:
        while chunk := fh.read(CHUNK):
            data = tail + chunk
            cut = data.rfind(b"<")  # an element cut by the chunk boundary is matched with the next chunk
            found += [m.group(1).decode() for m in MERGE.finditer(data, 0, cut)]
            tail = data[cut:]
        found += [m.group(1).decode() for m in MERGE.finditer(tail)]
    return [range_boundaries(ref) for ref in dict.fromkeys(found)]


class SheetRows:
    """The rows of one sheet with a value, as cell texts, streamed from the XML (openpyxl's streaming reader
    builds an object per cell and reads about ten times slower; its workbook parse still gives the shared
    strings, the date styles and the epoch)."""

    def __init__(self, path: Path, sheet_path: str, shared: Sequence[str | None], date_styles: set[int],
                 duration_styles: set[int], epoch: datetime) -> None:
        self.path, self.sheet_path = path, sheet_path.lstrip("/")
        self.shared, self.date_styles, self.duration_styles, self.epoch = shared, date_styles, duration_styles, epoch
        self._date_style_names = {str(style) for style in date_styles}
        self._columns = _Columns()
        self._days: dict[str, str | None] = {}
        self._shared_formulas: dict[str, str] = {}

    def __iter__(self) -> Iterator[Row]:
        number = 0
        for text in self._row_texts():
            for attrs, body in ROW.findall(text):
                number = int(attrs[4:attrs.index('"', 4)]) if attrs.startswith(' r="') else _attr_int(
                    attrs, ' r="', number + 1)
                if body:
                    texts, formulas = self._cells(body)
                    if texts or formulas:
                        yield number, texts, formulas

    def _row_texts(self) -> Iterator[str]:
        """The sheet XML as text in pieces that end after a whole `</row>`."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        tail = ""
        with zipfile.ZipFile(self.path) as archive, archive.open(self.sheet_path) as fh:
            while chunk := fh.read(CHUNK):
                data = tail + decoder.decode(chunk)
                cut = data.rfind("</row>") + 6
                if cut < 6:
                    tail = data
                    continue
                tail = data[cut:]
                yield data[:cut]
        yield tail + decoder.decode(b"", final=True)

    def _cells(self, body: str) -> tuple[list[str | None], list[tuple[int, str]] | None]:
        """One row's cells. The loop body runs once per cell of the file: the usual cell takes the canonical
        branch of CELL and a string or number path of a few operations."""
        texts: list[str | None] = []
        formulas: list[tuple[int, str]] | None = None
        columns, shared, date_styles = self._columns, self.shared, self._date_style_names
        column = -1
        for letters, style, kind, content, attrs, other_content in CELL.findall(body):
            if letters:
                column = columns[letters]
            else:  # attributes in another order, or more of them
                column = self._column(attrs, column)
                style, kind, content = _attr(attrs, ' s="', ""), _attr(attrs, ' t="', ""), other_content
            if not content:
                continue  # an empty cell (formatted only)
            if "<f" in content and (formula := self._uncached(content, kind)) is not None:
                formulas = [*(formulas or []), (column, formula)]
                continue
            if kind == "inlineStr":
                value = _inline(content)
            else:
                start = content.find("<v>")
                if start < 0:
                    continue
                raw = content[start + 3:content.find("</v>", start)]
                if not raw:
                    continue
                if kind == "s":
                    value = shared[int(raw)]
                elif kind and kind != "n":
                    value = self._typed(kind, raw)
                elif style in date_styles:
                    value = self._date(raw, int(style))
                else:
                    value = raw if raw.isdigit() else _number(raw)
            if value is None:
                continue
            if column == len(texts):
                texts.append(value)
            elif column > len(texts):
                texts.extend([None] * (column - len(texts)))
                texts.append(value)
            else:  # cells out of order: allowed by the format, rare in files
                texts[column] = value
        return texts, formulas

    def _column(self, attrs: str, previous: int) -> int:
        """0-based column of a cell from its `r` (A1 style), or the next one when the writer left `r` out."""
        start = attrs.find(' r="')
        if start < 0:
            return previous + 1
        return self._columns[attrs[start + 4:attrs.index('"', start + 4)].rstrip("0123456789")]

    def _typed(self, kind: str, raw: str) -> str | None:
        if kind == "b":
            return "true" if raw == "1" else "false"
        if kind == "d":
            return cell_text(from_ISO8601(raw))
        return (unescape(raw) if "&" in raw else raw).strip() or None  # str (a formula's text), e (#DIV/0!)

    def _date(self, raw: str, style: int) -> str | None:
        """A date, time or duration cell as its ISO text; a serial out of Excel's date range stays a number."""
        if raw.isdigit() and style not in self.duration_styles:  # a whole day: columns repeat their dates
            if (known := self._days.get(raw)) is None and len(self._days) < DAYS_KEPT:
                known = self._days[raw] = self._date_text(raw, style)
            return known or self._date_text(raw, style)
        return self._date_text(raw, style)

    def _date_text(self, raw: str, style: int) -> str | None:
        try:
            return cell_text(from_excel(float(raw), self.epoch, timedelta=style in self.duration_styles))
        except (OverflowError, ValueError):
            return cell_text(float(raw))

    def _uncached(self, content: str, kind: str) -> str | None:
        """`=TEXT` of a formula cell that carries no cached value, None when it has one (a string formula's
        cached value may be empty: `t="str"` with an empty `<v>`)."""
        match = FORMULA.search(content)
        if match is None:
            return None
        attrs, text = match.group(1), unescape(match.group(2) or "")
        index = SHARED_INDEX.search(attrs)
        if index and text:
            self._shared_formulas[index.group(1)] = text  # the first cell of a shared formula holds its text
        elif index:
            text = self._shared_formulas.get(index.group(1), "")
        if _v(content) or kind in ("str", "inlineStr"):
            return None
        return f"={text}"


class _Columns(dict[str, int]):
    """Column letters to 0-based index, computed once per letters seen."""

    def __missing__(self, letters: str) -> int:
        self[letters] = index = column_index_from_string(letters) - 1
        return index


def _inline(content: str) -> str | None:
    """The text of an inline string (`<is><t>…</t></is>`, or rich text runs of `<r><t>…</t></r>`)."""
    if content.startswith("<is><t>") and content.endswith("</t></is>") and "<" not in (text := content[7:-9]):
        return (unescape(text) if "&" in text else text).strip() or None
    if "<rPh" in content:
        content = PHONETIC.sub("", content)
    text = "".join(TEXT.findall(content))
    return (unescape(text) if "&" in text else text).strip() or None


def _number(raw: str) -> str | None:
    """A number cell's text as openpyxl would give it to cell_text: an int unless it has a point or exponent."""
    return cell_text(float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw))


def _v(content: str) -> str | None:
    start = content.find("<v>")
    if start < 0:
        return None
    return content[start + 3:content.find("</v>", start)]


def _attr(attrs: str, key: str, default: str) -> str:
    start = attrs.find(key)
    if start < 0:
        return default
    start += len(key)
    return attrs[start:attrs.index('"', start)]


def _attr_int(attrs: str, key: str, default: int) -> int:
    start = attrs.find(key)
    if start < 0:
        return default
    start += len(key)
    return int(attrs[start:attrs.index('"', start)])
