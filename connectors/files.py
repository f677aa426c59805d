"""Drop folders: CSV and Excel files matched by a pattern per stream; a file already loaded is not loaded again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np
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
from countyhub.connectors.csv_layout import (
    BLANK,
    SKIPPED_TEXT,
    CsvLayout,
    cells_of,
    line_reason,
    not_data,
    read_layout,
)
from countyhub.connectors.csv_lines import trace, trace_tail, unclosed_quote
from countyhub.connectors.mixed_encoding import ForeignLine, foreign_reason, mixed_encoding, one_encoding_copy
from countyhub.connectors.options import StreamOptions
from countyhub.connectors.textio import SNIFF_BYTES, constant_text, utf8_source
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
    """A drop-folder stream: which files, how to read a CSV (each detected when not given), and which sheet.

    `header_row` (1-based physical line, from SheetOptions) applies to CSV too: the header is there and the
    lines above it are titles and notes; without it (`header: auto`) the header is found below them."""

    pattern: str | None = None  # glob in the drop folder; default <stream name>*.csv
    encoding: str | None = None  # default detected: UTF-8, UTF-8 with BOM, GB18030/GBK
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)  # default sniffed
    # auto: below any title and note lines, if a line looks like one; true: the line layout finds; false: none.
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

    def _csv_layout(self, path: Path, stream: Stream, encoding: str | None = None) -> CsvLayout:
        options = self._options(stream)
        try:
            return read_layout(path, encoding or options.encoding, options.delimiter, options.header,
                               options.header_row)
        except ConnectorError as exc:
            raise ConnectorError(f"{self.where}: {exc}") from None

    def _sheet(self, path: Path, stream: Stream) -> excel.Sheet:
        try:
            return excel.read_sheet(path, self._options(stream))
        except ConnectorError as exc:
            raise ConnectorError(f"{self.where}: {exc}") from None

    def _columns(self, path: Path, stream: Stream) -> list[str]:
        if path.suffix.lower() == ".xlsx":
            return self._sheet(path, stream).names
        return self._csv_layout(path, stream).names

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
            yield from self.read_file(path, stream, rejects)
            known[path.name] = checksum

    def read_file(self, path: Path, stream: Stream, rejects: RejectSink) -> Iterator[pa.RecordBatch]:
        """One file's rows, whether or not an earlier load took it (key proposals read the first file this way)."""
        if path.suffix.lower() == ".xlsx":
            yield from self._read_excel(path, stream, rejects)
        else:
            yield from self._read_csv(path, stream, rejects)

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
                try:
                    above = self._csv_layout(path, stream).skip_records  # title lines and the header
                except ConnectorError:
                    above = 1  # the read will say what is wrong with the file
                total += max(round(path.stat().st_size * lines / max(len(head), 1)) - above, 0)
        return total

    @contextmanager
    def _one_encoding(self, path: Path, stream: Stream) -> Iterator[tuple[Path, str | None, list[ForeignLine]]]:
        """The file to read, the file's own encoding when it mixes two (else None) and its lines in the other: the
        file itself, unless its first lines mix UTF-8 and GB18030 (then a UTF-8 copy, see mixed_encoding)."""
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
        own = None if self._options(stream).encoding else mixed_encoding(head)
        if own is None:
            yield path, None, []
            return
        with one_encoding_copy(path, own) as (copy, foreign):
            yield copy, own, foreign

    def _read_csv(self, path: Path, stream: Stream, rejects: RejectSink) -> Iterator[pa.RecordBatch]:
        with self._one_encoding(path, stream) as (readable, own, foreign):
            for line in foreign:
                rejects.reject(f"{path.name}:{line.line}", foreign_reason(line, own or ""),
                               {"_line": line.text, SOURCE_FILE: path.name})
            yield from self._read_text(readable, stream, rejects, "utf-8" if own else None)

    def _read_text(self, path: Path, stream: Stream, rejects: RejectSink,
                   encoding: str | None) -> Iterator[pa.RecordBatch]:
        layout = self._csv_layout(path, stream, encoding)
        names, width = layout.names, len(layout.names)
        for line in layout.above:
            rejects.skip(f"{path.name}:{line.line}", line.reason, line.text)
        # Records pyarrow could not split into `width` fields, in order: (text, fields, why not data or None).
        bad: list[tuple[str, int, str | None]] = []
        kept_out: list[tuple[str, str]] = []  # (reason, text) of full-width lines that are not data, in order

        def on_invalid(row: pacsv.InvalidRow) -> str:
            # A footer is often shorter than the header (合计 and a sum, 制表人 and a name): not a bad line.
            bad.append((row.text, row.actual_columns, line_reason(cells_of(row.text, layout.delimiter), width)))
            return "skip"

        source, converter = utf8_source(path, layout.encoding)
        # Raw keeps every value as text: typing is staging's job, so nothing is lost on the way in.
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(block_size=self.config.block_size, column_names=names,
                                           skip_rows=layout.skip_records),
            # Quoted values may span lines (addresses, remarks); without this a block boundary inside one breaks.
            parse_options=pacsv.ParseOptions(delimiter=layout.delimiter, invalid_row_handler=on_invalid,
                                             newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        held, before = None, 0  # the last batch is held back: its last row may be an unclosed quote
        try:
            for batch in reader:
                if dropped := not_data(batch.columns, width):
                    keep = np.ones(batch.num_rows, dtype=bool)
                    keep[[i for i, _ in dropped]] = False
                    kept_out += [(reason, layout.delimiter.join(c[i].as_py() for c in batch.columns))
                                 for i, reason in dropped if reason != BLANK]
                    batch = batch.filter(pa.array(keep))
                    if not batch.num_rows:
                        continue
                if held is not None:
                    before += held.num_rows
                    yield held
                held = pa.RecordBatch.from_arrays([*batch.columns, constant_text(path.name, batch.num_rows)],
                                                  names=[*names, SOURCE_FILE])
            if held is not None and (reason := unclosed_quote(held, width, layout.delimiter)):
                last = held.num_rows - 1
                line = trace(path, layout, {before + last}, 0, 0).rows.get(before + last)
                rejects.reject(f"{path.name}:{line or '?'}", reason, {
                    "_line": layout.delimiter.join(held.column(i)[last].as_py() for i in range(width)),
                    SOURCE_FILE: path.name})
                held = held.slice(0, last)
            if held is not None and held.num_rows:
                yield held
            if converter is not None:
                converter.finish()
        except pa.ArrowInvalid as exc:
            raise ConnectorError(f"{self.where}: {path}: {exc}") from None
        finally:
            if converter is not None:
                converter.close()
        self._report(path, layout, bad, kept_out, rejects)

    def _report(self, path: Path, layout: CsvLayout, bad: list[tuple[str, int, str | None]],
                kept_out: list[tuple[str, str]], rejects: RejectSink) -> None:
        """Bad records to quarantine and footer lines to the load log, each at its physical line (a second pass
        over the file, made only when there is one to report)."""
        if not kept_out and all(reason == BLANK for *_, reason in bad):
            return
        found = trace_tail(path, layout, len(bad), len(kept_out)) or trace(path, layout, set(), len(bad), len(kept_out))
        for (text, fields, reason), line in zip(bad, [*found.bad, *[None] * len(bad)]):
            where = f"{path.name}:{line or '?'}"
            if reason is None:
                rejects.reject(where, f"line has {fields} fields, the header has {len(layout.names)}",
                               {"_line": text, SOURCE_FILE: path.name})
            elif reason != BLANK:
                rejects.skip(where, reason, text[:SKIPPED_TEXT])
        for (reason, text), line in zip(kept_out, [*found.kept_out, *[None] * len(kept_out)]):
            rejects.skip(f"{path.name}:{line or '?'}", reason, text[:SKIPPED_TEXT])

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
                with self._one_encoding(path, stream) as (readable, own, _):
                    layout = self._csv_layout(readable, stream, "utf-8" if own else None)
                    lines = trace(readable, layout, {r.row for r in rows}, 0, 0).rows
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
