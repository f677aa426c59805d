"""How office exports lay out a table: title and note lines above the header, footer lines below the data."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Words a footer line of a government form starts with: totals, and who filled, checked and signed it.
FOOTER_WORDS = ("合计", "总计", "小计", "累计", "制表人", "制表", "审核人", "审核", "填报人", "填表人", "填报日期",
                "填表日期", "负责人", "单位负责人", "经办人", "统计人", "联系人", "联系电话")
# The word alone or followed by a colon, a space or a bracket: "审核中" in a status column is data.
FOOTER = re.compile(r"^\s*(" + "|".join(sorted(FOOTER_WORDS, key=len, reverse=True)) + r")\s*([:：\s(（]|$)")
# Header search: at most this many lines above the header (a title, a 填报单位 line, a unit line, notes).
HEADER_SEARCH_LINES = 30


def filled(cells: Sequence[str | None]) -> list[str]:
    """The non-empty cells of a line, stripped (full-width spaces count as empty)."""
    return [c.strip(" \t\u3000") for c in cells if c is not None and c.strip(" \t\u3000")]


def header_index(lines: Sequence[Sequence[str | None]]) -> int:
    """Index of the header among the first lines: the first line filled like a header (titles and notes above
    it fill one or two cells), 0 when none stands out."""
    counts = [len(filled(line)) for line in lines[:HEADER_SEARCH_LINES]]
    width = max(counts, default=0)
    for index, count in enumerate(counts):
        if count >= max(2, 0.6 * width):
            return index
    return 0


def footer_reason(cells: Sequence[str | None], width: int) -> str | None:
    """Why a line below the header is not data (None when it is data): a total or signature line, or a line
    with one filled cell in a table of three or more columns (a note, a date, a stamp)."""
    texts = filled(cells)
    if not texts:
        return None  # blank lines are skipped by the readers without being logged
    if match := FOOTER.match(texts[0]):
        return f"footer: {match.group(1)}"
    if len(texts) == 1 and width >= 3 and len(cells) >= 3:
        return "footer: a line with one filled cell"
    return None


def above_header_reason(cells: Sequence[str | None]) -> str:
    """Why a non-blank line above the header is not data: a note names something with a colon (填报单位：…,
    单位：元), anything else is (part of) the title."""
    texts = filled(cells)
    return "note above the header" if texts and any(":" in t or "：" in t for t in texts) else "title above the header"
