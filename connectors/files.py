"""Drop folders: CSV and Excel files matched by a pattern per stream; a file already loaded is not loaded again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
from pydantic import Field

from countyhub.connectors import excel
from countyhub.connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorError,
    DiscoveredStream,
    Rejected,
    RejectSink,
    StreamEmptyError,
    sink,
)
from countyhub.connectors.options import StreamOptions
from countyhub.connectors.textio import (
    SNIFF_BYTES,
    constant_text,
    detect_encoding,
    record_lines,
    sniff_dialect,
    utf8_source,
)
from countyhub.core.checksums import file_checksum
from countyhub.core.departments import Stream

SOURCE_FILE = "_source_file"
EXCEL_BATCH_ROWS = 20_000


class FilesConfig(ConnectorConfig):
    path: str
    # Bytes of CSV text per parsed batch. Measured on a 1.09 GB GB18030 file (10.9M rows): 8 MB peaked at
    # 1.1 GB RSS, 4 MB at 0.83 GB in the same time, 2 MB at 0.67 GB but about 7% slower.
    block_size: int = 4 * 1024 * 1024


class FilesStreamOptions(StreamOptions, excel.SheetOptions):
    """A drop-folder stream: which files, how to read a CSV (each detected when not given), and which sheet."""

    pattern: str | None = None  # glob in the drop folder; default <stream name>*.csv
    encoding: str | None = None  # default detected: UTF-8, UTF-8 with BOM, GB18030/GBK
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)  # default sniffed
    header: bool | Literal["auto"] = "auto"


class FilesConnector(Connector):
    """A folder; each stream names a glob `pattern` (CSV or .xlsx) and may force encoding, delimiter, header."""

    kind = "files"
    Config = FilesConfig
    Options = FilesStreamOptions
    default_mode = "files"  # a changed file replaces its own rows; unchanged files are skipped

    def __init__(self, config: dict[str, Any], where: str = "", **context: Any) -> None:
        super().__init__(config, where, **context)
        self._seen: dict[str, dict[str, Any]] = {}
        self._checksums: dict[Path, tuple[int, int, str]] = {}  # path -> (size, mtime_ns, sha256)

    @property
    def folder(self) -> Path:
        return Path(self.config.path)

    def check(self) -> None:
        if not self.folder.is_dir():
            raise ConnectorError(f"{self.where}: drop folder {self.folder} does not exist")

    def files(self, stream: Stream) -> list[Path]:
        return sorted(p for p in self.folder.glob(self._pattern(stream)) if p.is_file())

    def _options(self, stream: Stream) -> FilesStreamOptions:
        return FilesStreamOptions.of(stream, self.where)

    def _pattern(self, stream: Stream) -> str:
        return self._options(stream).pattern or f"{stream.name}*.csv"

    def _csv_dialect(self, path: Path, stream: Stream) -> tuple[str, str, list[str], bool]:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
        options = self._options(stream)
        try:
            encoding = options.encoding or detect_encoding(head)
            text = head.decode(encoding, errors="ignore")
            delimiter, names, header = sniff_dialect(text, options.delimiter, options.header)
        except ConnectorError as exc:
            raise ConnectorError(f"{self.where}: {path}:1: {exc}") from None
        return encoding, delimiter, names, header

    def _sheet(self, path: Path, stream: Stream) -> excel.Sheet:
        try:
            return excel.read_sheet(path, self._options(stream))
        except ConnectorError as exc:
            raise ConnectorError(f"{self.where}: {exc}") from None

    def _columns(self, path: Path, stream: Stream) -> list[str]:
        if path.suffix.lower() == ".xlsx":
            return self._sheet(path, stream).names
        return self._csv_dialect(path, stream)[2]

    def discover(self, streams: list[Stream] | None = None) -> list[DiscoveredStream]:
        found = []
        for stream in streams or []:
            paths = self.files(stream)
            if not paths:
                continue
            schema = pa.schema([(h, pa.string()) for h in self._columns(paths[0], stream)] + [(SOURCE_FILE, pa.string())])
            found.append(DiscoveredStream(stream.name, schema, stream.primary_key))
        return found

    def schema_of(self, stream: Stream) -> pa.Schema:
        if not self.files(stream):
            raise StreamEmptyError(f"{self.where}: no file matches {self._pattern(stream)!r} in the drop folder {self.folder} for "
                                   f"stream {stream.name!r}; put the department's files there or fix `pattern:`")
        return super().schema_of(stream)

    def checkpoint(self, stream: Stream) -> dict[str, Any]:
        seen = self._seen.get(stream.name, {})
        return {"files": seen.get("files", {}), "replaced_files": seen.get("replaced", [])}

    def read(self, stream: Stream, state: dict[str, Any] | None = None,
             rejects: RejectSink | None = None) -> Iterator[pa.RecordBatch]:
        rejects = sink(rejects)
        known = dict((state or {}).get("files", {}))
        replaced: list[str] = []
        self._seen[stream.name] = {"files": known, "replaced": replaced}
        for path in self.files(stream):
            checksum = self._checksum(path)
            if known.get(path.name) == checksum:
                continue  # already loaded, byte for byte
            replaced.append(path.name)
            if path.suffix.lower() == ".xlsx":
                yield from self._read_excel(path, stream, rejects)
            else:
                yield from self._read_csv(path, stream, rejects)
            known[path.name] = checksum

    def _checksum(self, path: Path) -> str:
        """The file's sha256, hashed once per connector unless the file changes in between."""
        st = path.stat()
        cached = self._checksums.get(path)
        if cached is None or cached[:2] != (st.st_size, st.st_mtime_ns):
            cached = (st.st_size, st.st_mtime_ns, file_checksum(path))
            self._checksums[path] = cached
        return cached[2]

    def estimate(self, stream: Stream, state: dict[str, Any] | None = None) -> int | None:
        """About how many rows the next read takes (for the progress bar's ETA): only new or changed files;
        CSV from the line density of the file's first 64 KB, Excel from the sheet's recorded dimensions."""
        known = (state or {}).get("files", {})
        total = 0
        for path in self.files(stream):
            if path.name in known and known[path.name] == self._checksum(path):
                continue  # hashed only when an earlier load took a file of that name
            if path.suffix.lower() == ".xlsx":
                total += excel.row_estimate(path, self._options(stream))
            else:
                with path.open("rb") as fh:
                    head = fh.read(SNIFF_BYTES)
                lines = head.count(b"\n") or 1
                total += max(round(path.stat().st_size * lines / max(len(head), 1)) - 1, 0)  # minus the header
        return total

    def _read_csv(self, path: Path, stream: Stream, rejects: RejectSink) -> Iterator[pa.RecordBatch]:
        encoding, delimiter, names, header = self._csv_dialect(path, stream)
        bad: list[tuple[str, str]] = []

        def on_invalid(row: pacsv.InvalidRow) -> str:
            bad.append((row.text, f"line has {row.actual_columns} fields, the header has {row.expected_columns}"))
            return "skip"

        source, converter = utf8_source(path, encoding)
        # Raw keeps every value as text: typing is staging's job, so nothing is lost on the way in.
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(block_size=self.config.block_size, column_names=names, skip_rows=int(header)),
            # Quoted values may span lines (addresses, remarks); without this a block boundary inside one breaks.
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid,
                                             newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        try:
            for batch in reader:
                source_col = constant_text(path.name, batch.num_rows)
                yield pa.RecordBatch.from_arrays([*batch.columns, source_col], names=[*names, SOURCE_FILE])
            if converter is not None:
                converter.finish()
        except pa.ArrowInvalid as exc:
            raise ConnectorError(f"{self.where}: {path}: {exc}") from None
        finally:
            if converter is not None:
                converter.close()
        if bad:
            _, lines = record_lines(path, encoding, delimiter, header, len(names), set(), len(bad))
            for (text, reason), line in zip(bad, [*lines, *[None] * len(bad)]):
                rejects.reject(f"{path.name}:{line or '?'}", reason, {"_line": text, SOURCE_FILE: path.name})

    def locate(self, stream: Stream, rejected: list[Rejected]) -> list[Rejected]:
        """`file:line` for rows a row rule rejected (a value that does not fit its declared type, a bad ID
        number): the physical line in the file, so an engineer can open it there."""
        by_file: dict[str, list[Rejected]] = {}
        for r in rejected:
            if r.row is not None and r.values.get(SOURCE_FILE):
                by_file.setdefault(r.values[SOURCE_FILE], []).append(r)
        for name, rows in by_file.items():
            path = self.folder / name
            if not path.is_file():
                continue  # gone since it was read: the key is all we can give
            if path.suffix.lower() == ".xlsx":
                lines = self._excel_lines(path, stream, {r.row for r in rows})
            else:
                encoding, delimiter, names, header = self._csv_dialect(path, stream)
                lines, _ = record_lines(path, encoding, delimiter, header, len(names), {r.row for r in rows}, 0)
            for r in rows:
                if r.row in lines:  # "roll_1.csv key 身份证号=…" → "roll_1.csv:17 key 身份证号=…"
                    r.where = f"{name}:{lines[r.row]}" + r.where.removeprefix(name)
        return rejected

    def _excel_lines(self, path: Path, stream: Stream, wanted: set[int]) -> dict[int, int]:
        """Sheet row numbers of the data rows at the given positions (titles, footers and rows the read
        rejected do not count: the same reading as `_read_excel`)."""
        found, kept = {}, 0
        for number, _, verdict in self._sheet(path, stream).lines:
            if verdict is None:
                if kept in wanted:
                    found[kept] = number
                kept += 1
        return found

    def _read_excel(self, path: Path, stream: Stream, rejects: RejectSink) -> Iterator[pa.RecordBatch]:
        sheet = self._sheet(path, stream)
        names = sheet.names
        schema = pa.schema([(n, pa.string()) for n in names] + [(SOURCE_FILE, pa.string())])
        batch: list[list[str | None]] = []
        for number, texts, verdict in sheet.lines:
            if verdict is None:
                batch.append(texts)
                if len(batch) >= EXCEL_BATCH_ROWS:
                    yield _excel_batch(batch, schema, path.name)
                    batch = []
            elif verdict[0] == excel.SKIP:
                rejects.skip(f"{path.name}:{number}", verdict[1], excel.line_text(texts))
            else:
                rejects.reject(f"{path.name}:{number}", verdict[1],
                               {**dict(zip(names, texts)), SOURCE_FILE: path.name})
        if batch:
            yield _excel_batch(batch, schema, path.name)


def _excel_batch(rows: list[list[str | None]], schema: pa.Schema, name: str) -> pa.RecordBatch:
    columns = [pa.array(column, pa.string()) for column in zip(*rows)] if rows[0] else []
    return pa.RecordBatch.from_arrays([*columns, constant_text(name, len(rows))], schema=schema)
