"""Bad drop-folder files as county offices deliver them, generated in code: GBK/GB18030 with CRLF, UTF-8 with BOM."""

from __future__ import annotations

import codecs
from pathlib import Path

# Resident ID numbers that pass the ID rule (18 characters), so a row is rejected only for the fault under test.
ID1, ID2, ID3, ID4, ID5 = "51172419990101011X", "511724199901010216", "511724199901010312", "511724199901010419", "511724199901010515"  # valid: the load checks ID numbers
HEADER = "身份证号,姓名,备注"
ROW1 = f"{ID1},张三,低保"
ROW2 = f"{ID2},李四,五保"
ROW3 = f"{ID3},王五,临时救助"


def gbk_lines(lines: list[str], newline: str = "\r\n", last_newline: bool = True) -> bytes:
    """Lines as a Windows office export writes them: GB18030 (a superset of GBK), CRLF after each line."""
    text = newline.join(lines) + (newline if last_newline else "")
    return text.encode("gb18030")


def utf8_bom_lines(lines: list[str], newline: str = "\r\n") -> bytes:
    """Lines as Excel's "CSV UTF-8" saves them: a byte-order mark, then UTF-8 with CRLF."""
    return codecs.BOM_UTF8 + (newline.join(lines) + newline).encode("utf-8")


def drop(folder: Path, name: str, content: bytes) -> Path:
    """Put one file into the drop folder (made if missing), as the department's upload does."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path
