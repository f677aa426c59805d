"""A CSV with lines in two encodings (a UTF-8 line pasted into a GBK export, or the other way round): the foreign
lines go to quarantine at their line instead of the whole file loading as mojibake."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Two or more CJK ideographs in UTF-8 (E4-E9 lead bytes): GBK text almost never forms them by chance, while a
# single GBK character can look like a 2-byte UTF-8 one (a Latin or Cyrillic letter).
UTF8_CJK = re.compile(rb"(?:[\xe4-\xe9][\x80-\xbf]{2}){2}")
NON_ASCII = re.compile(rb"[\x80-\xff]")


@dataclass(frozen=True)
class ForeignLine:
    """A line written in the other encoding than the rest of its file."""

    line: int
    text: str  # decoded in its own encoding, for the steward to read
    encoding: str


def _utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_utf8_text(line: bytes) -> bool:
    """A line of Chinese written in UTF-8 (not GB18030 bytes that happen to decode)."""
    return _utf8(line) and UTF8_CJK.search(line) is not None


def mixed_encoding(head: bytes) -> str | None:
    """The file's own encoding when its first lines show both UTF-8 and GB18030 lines of Chinese, else None.

    The encoding most of those lines are in is the file's; the others are foreign."""
    lines = head.split(b"\n")[:-1] if len(head) > 1 and not head.endswith(b"\n") else head.split(b"\n")
    text = [line for line in lines if NON_ASCII.search(line)]
    utf8 = sum(_is_utf8_text(line) for line in text)
    other = sum(not _utf8(line) for line in text)
    if not utf8 or not other:
        return None
    return "utf-8" if utf8 >= other else "gb18030"


@contextmanager
def one_encoding_copy(path: Path, encoding: str) -> Iterator[tuple[Path, list[ForeignLine]]]:
    """A UTF-8 copy of the file with each foreign line left blank (so every other line keeps its number and a
    blank line is skipped by the reader), and the foreign lines. Line by line in Python: only for mixed files."""
    foreign: list[ForeignLine] = []
    with tempfile.TemporaryDirectory(prefix="countyhub-mixed-") as folder:
        copy = Path(folder) / path.name
        with path.open("rb") as src, copy.open("wb") as dst:
            for number, line in enumerate(src, start=1):
                body = line.rstrip(b"\r\n")
                end = line[len(body):]
                if encoding == "gb18030" and NON_ASCII.search(body) and _is_utf8_text(body):
                    foreign.append(ForeignLine(number, body.decode("utf-8"), "UTF-8"))
                    body = b""
                elif encoding == "utf-8" and not _utf8(body):
                    foreign.append(ForeignLine(number, body.decode("gb18030", errors="replace"), "GB18030"))
                    body = b""
                else:
                    body = body.decode(encoding).encode("utf-8") if encoding != "utf-8" else body
                dst.write(body + end)
        yield copy, foreign


def foreign_reason(line: ForeignLine, encoding: str) -> str:
    """Why a foreign line is in quarantine, in plain words."""
    own = "UTF-8" if encoding.startswith("utf-8") else "GB18030 (GBK)"
    return (f"this line is written in {line.encoding} while the rest of the file is {own} (pasted from another "
            "program?); re-save the line in the file's encoding")
