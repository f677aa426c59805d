"""Drop folders: CSV and Excel files matched by a pattern per stream; a file already loaded is not loaded again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from connectors import excel
from connectors.base import Connector, ConnectorConfig, ConnectorError, DiscoveredStream
from connectors.textio import (
    SNIFF_BYTES,
    constant_text,
    detect_encoding,
    file_checksum,
    find_lines,
    sniff_dialect,
    utf8_source,
)
from countyhub.departments import Stream

SOURCE_FILE = "_source_file"
EXCEL_BATCH_ROWS = 20_000


class FilesConfig(ConnectorConfig):
    path: str
    block_size: int = 8 * 1024 * 1024


class FilesConnector(Connector):
    """A folder; each stream names a glob `pattern` (CSV or .xlsx) and may force encoding, delimiter, header."""

    kind = "files"
    Config = FilesConfig
    default_mode = "files"  # a changed file replaces its own rows; unchanged files are skipped

    def __init__(self, config: dict[str, Any], where: str = "") -> None:
        super().__init__(config, where)
        self._seen: dict[str, dict[str, Any]] = {}

    @property
    def folder(self) -> Path:
        return Path(self.config.path)

    def check(self) -> None:
        if not self.folder.is_dir():
            raise ConnectorError(f"{self.where}: drop folder {self.folder} does not exist")

    def files(self, stream: Stream) -> list[Path]:
        pattern = stream.options.get("pattern", f"{stream.name}*.csv")
        return sorted(p for p in self.folder.glob(pattern) if p.is_file())

    def _csv_dialect(self, path: Path, stream: Stream) -> tuple[str, str, list[str], bool]:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
        try:
            encoding = stream.options.get("encoding") or detect_encoding(head)
            text = head.decode(encoding, errors="ignore")
            delimiter, names, header = sniff_dialect(text, stream.options.get("delimiter"),
                                                     stream.options.get("header", "auto"))
        except ConnectorError as exc:
            raise ConnectorError(f"{self.where}: {path}:1: {exc}") from None
        return encoding, delimiter, names, header

    def _columns(self, path: Path, stream: Stream) -> list[str]:
        if path.suffix.lower() == ".xlsx":
            return excel.read_sheet(path, stream.options)[0]
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

    def checkpoint(self, stream: Stream) -> dict[str, Any]:
        seen = self._seen.get(stream.name, {})
        return {"files": seen.get("files", {}), "replaced_files": seen.get("replaced", [])}

    def read(self, stream: Stream, state: dict[str, Any] | None = None) -> Iterator[pa.RecordBatch]:
        known = dict((state or {}).get("files", {}))
        replaced: list[str] = []
        self._seen[stream.name] = {"files": known, "replaced": replaced}
        for path in self.files(stream):
            checksum = file_checksum(path)
            if known.get(path.name) == checksum:
                continue  # already loaded, byte for byte
            replaced.append(path.name)
            if path.suffix.lower() == ".xlsx":
                yield from self._read_excel(path, stream)
            else:
                yield from self._read_csv(path, stream)
            known[path.name] = checksum

    def _read_csv(self, path: Path, stream: Stream) -> Iterator[pa.RecordBatch]:
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
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
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
            lines = find_lines(path, "utf-8-sig" if encoding.startswith("utf-8") else encoding,
                               [text for text, _ in bad], int(header))
            for (text, reason), line in zip(bad, lines):
                self.reject(f"{path.name}:{line or '?'}", reason, {"_line": text, SOURCE_FILE: path.name})

    def _read_excel(self, path: Path, stream: Stream) -> Iterator[pa.RecordBatch]:
        names, rows = excel.read_sheet(path, stream.options)
        schema = pa.schema([(n, pa.string()) for n in names] + [(SOURCE_FILE, pa.string())])
        batch: list[list[str | None]] = []
        for number, values in rows:
            if len(values) > len(names) and any(v is not None for v in values[len(names):]):
                self.reject(f"{path.name}:{number}", f"row has values beyond the {len(names)} header columns",
                            {**dict(zip(names, values)), SOURCE_FILE: path.name})
                continue
            batch.append([*values[:len(names)], *[None] * (len(names) - len(values)), path.name])
            if len(batch) >= EXCEL_BATCH_ROWS:
                yield pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in zip(*batch)], schema=schema)
                batch = []
        if batch:
            yield pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in zip(*batch)], schema=schema)
