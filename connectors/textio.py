"""Encoding detection, a streaming GB18030→UTF-8 transcoder, CSV dialect sniffing and file checksums."""

from __future__ import annotations

import codecs
import csv
import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa

from countyhub.connectors.base import ConnectorError

SNIFF_BYTES = 64 * 1024
CHUNK_BYTES = 8 * 1024 * 1024
# Order matters: a UTF-8 BOM is decisive, valid UTF-8 next, and GB18030 (a superset of GBK/GB2312) last.
CANDIDATE_ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def detect_encoding(head: bytes) -> str:
    """Name the encoding of a file from its first bytes (cut at a character boundary is tolerated)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in CANDIDATE_ENCODINGS[1:]:
        try:
            head.decode(encoding)
            return encoding
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # only the last, cut-off character failed
                return encoding
    raise ConnectorError("cannot detect the file encoding (tried UTF-8, UTF-8 with BOM, GB18030)")


class Utf8Transcoder(io.RawIOBase):
    """A binary file object yielding UTF-8 bytes from a file in another encoding, in large chunks.

    pyarrow's own `encoding=` transcodes in small pieces (about 60 MB/s for GB18030); decoding
    8 MB at a time with Python's codec is several times faster and still bounded in memory.
    """

    def __init__(self, path: Path, encoding: str) -> None:
        super().__init__()
        self._file = path.open("rb")
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self._buffer = memoryview(b"")
        self._pos = 0
        self._offset = 0
        self._path = path
        self._encoding = encoding

    def readable(self) -> bool:
        return True

    def readinto(self, target: memoryview) -> int:  # type: ignore[override]
        while self._pos >= len(self._buffer):
            chunk = self._file.read(CHUNK_BYTES)
            try:
                self._buffer = memoryview(self._decoder.decode(chunk, final=not chunk).encode("utf-8"))
            except UnicodeDecodeError as exc:
                raise ConnectorError(f"{self._path}: byte {self._offset + exc.start} is not valid "
                                     f"{self._encoding}: {exc.reason}") from None
            self._pos, self._offset = 0, self._offset + len(chunk)
            if not chunk:
                break
        # A moving offset into one buffer: slicing bytes off the front would copy the rest every call.
        size = min(len(target), len(self._buffer) - self._pos)
        target[:size] = self._buffer[self._pos:self._pos + size]
        self._pos += size
        return size

    def finish(self) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()
        super().close()


def sniff_dialect(text: str, delimiter: str | None, header: bool | str) -> tuple[str, list[str], bool]:
    """Delimiter, column names and whether the first line is a header, from the file's first lines."""
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ConnectorError("no header row")
    if not delimiter:
        try:
            delimiter = csv.Sniffer().sniff("\n".join(lines[:20]), ",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    first = [h.strip() for h in next(csv.reader([lines[0]], delimiter=delimiter))]
    if header == "auto":
        # A header names columns: no empty and no numeric cells. csv.Sniffer.has_header guesses from
        # column types, which says nothing for an all-text export, so decide from the first line alone.
        header = all(first) and not any(NUMBER.match(v) for v in first)
    if header:
        _refuse_repeated_names(first)
    names = first if header else [f"column_{i + 1}" for i in range(len(first))]
    return delimiter, names, bool(header)


def _refuse_repeated_names(names: list[str]) -> None:
    # Office exports repeat a heading (备注, 备注); guessing which column is which, or reading the header
    # as a data row, would load wrong data without a word, so the engineer decides.
    seen: dict[str, int] = {}
    for position, name in enumerate(names, 1):
        if name in seen:
            raise ConnectorError(f"the header names {name!r} twice (columns {seen[name]} and {position}); rename "
                                 "one in the file, or set `header: false` if the first line is data")
        seen[name] = position


def record_lines(path: Path, encoding: str, delimiter: str, header: bool, width: int,
                 rows: set[int], bad: int) -> tuple[dict[int, int], list[int]]:
    """Physical start lines of data rows and of bad records, from a second pass made only when rows were rejected.

    `rows` are positions among the rows the reader kept (0-based, as `Rejected.row` counts them); `bad`
    is how many records had the wrong number of fields (the reader skipped them, in order). Records are
    split like the fast reader splits them: quoted fields may span lines, empty lines are skipped, and a
    record whose field count is not `width` is a bad one. Returns ({row: line}, [line of each bad record]).
    """
    found: dict[int, int] = {}
    bad_lines: list[int] = []
    kept, last = 0, max(rows, default=-1)
    limit = csv.field_size_limit()
    csv.field_size_limit(1 << 30)  # a long text field is data, not an error, here
    try:
        with path.open("r", encoding="utf-8-sig" if encoding.startswith("utf-8") else encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            start = 1
            for number, record in enumerate(reader):
                line, start = start, reader.line_num + 1
                if (number == 0 and header) or not record:
                    continue
                if len(record) != width:
                    bad_lines.append(line)
                elif kept in rows:
                    found[kept] = line
                kept += len(record) == width
                if kept > last and len(bad_lines) >= bad:
                    break
    finally:
        csv.field_size_limit(limit)
    return found, bad_lines


class IconvStream:
    """GB18030 (or any encoding) → UTF-8 through glibc's `iconv` in a child process.

    The conversion then runs on another core while pyarrow parses; Python's codec in this process
    holds the GIL and makes the whole read about three times slower. `finish()` raises if iconv
    met an invalid byte (its output stops there, so the load must not commit).
    """

    def __init__(self, path: Path, encoding: str) -> None:
        self.path, self.encoding = path, encoding
        self.process = subprocess.Popen(["iconv", "-f", encoding.upper(), "-t", "UTF-8", str(path)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=1 << 20)
        self.stdout = self.process.stdout

    def finish(self) -> None:
        code = self.process.wait()
        problem = self.process.stderr.read().decode("utf-8", errors="replace").strip()
        self.close()
        if code:
            raise ConnectorError(f"{self.path}: not valid {self.encoding}: {problem.removeprefix('iconv: ')}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            stream.close()


def utf8_source(path: Path, encoding: str) -> tuple[object, IconvStream | Utf8Transcoder | None]:
    """Something pyarrow can read as UTF-8, and the converter to finish/close afterwards (None: the file itself)."""
    if encoding in ("utf-8", "utf-8-sig"):
        return path, None  # pyarrow skips a UTF-8 byte-order mark itself
    if shutil.which("iconv"):
        stream = IconvStream(path, encoding)
        return stream.stdout, stream
    transcoder = Utf8Transcoder(path, encoding)
    return transcoder, transcoder


def constant_text(value: str, rows: int) -> pa.Array:
    """A string column repeating one value, built from buffers (pa.repeat is ~100x slower)."""
    data = value.encode("utf-8")
    offsets = np.arange(rows + 1, dtype=np.int32) * len(data)
    return pa.Array.from_buffers(pa.string(), rows, [None, pa.py_buffer(offsets), pa.py_buffer(data * rows)])
