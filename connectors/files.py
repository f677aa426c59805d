"""Drop folders: CSV files matched by a pattern per stream, with encoding and delimiter sniffing."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from connectors.base import Connector, ConnectorConfig, ConnectorError, DiscoveredStream
from countyhub.departments import Stream

SNIFF_BYTES = 64 * 1024
# Order matters: a UTF-8 BOM is decisive, valid UTF-8 next, and GB18030 (a superset of GBK/GB2312) last.
CANDIDATE_ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")


class FilesConfig(ConnectorConfig):
    path: str
    block_size: int = 8 * 1024 * 1024


def detect_encoding(head: bytes) -> str:
    """Name the encoding of a file from its first bytes (cut at a character boundary is tolerated)."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for encoding in CANDIDATE_ENCODINGS[1:]:
        try:
            head.decode(encoding)
            return encoding
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # only the last, cut-off character failed
                return encoding
    raise ConnectorError("cannot detect the file encoding (tried UTF-8, UTF-8 with BOM, GB18030)")


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class FilesConnector(Connector):
    """A folder; each stream names a glob `pattern` (and may force `encoding` and `delimiter`)."""

    kind = "files"
    Config = FilesConfig

    @property
    def folder(self) -> Path:
        return Path(self.config.path)

    def check(self) -> None:
        if not self.folder.is_dir():
            raise ConnectorError(f"{self.where}: drop folder {self.folder} does not exist")

    def files(self, stream: Stream) -> list[Path]:
        pattern = stream.options.get("pattern", f"{stream.name}*.csv")
        return sorted(p for p in self.folder.glob(pattern) if p.is_file())

    def _dialect(self, path: Path, stream: Stream) -> tuple[str, str, list[str]]:
        head = path.open("rb").read(SNIFF_BYTES)
        try:
            encoding = stream.options.get("encoding") or detect_encoding(head)
        except ConnectorError as exc:
            raise ConnectorError(f"{self.where}: {path}: {exc}") from None
        text = head.decode(encoding, errors="ignore")
        delimiter = stream.options.get("delimiter")
        if not delimiter:
            try:
                delimiter = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", ",;\t|").delimiter
            except csv.Error:
                delimiter = ","
        header = next(csv.reader([text.splitlines()[0]], delimiter=delimiter)) if text else []
        if not header:
            raise ConnectorError(f"{self.where}: {path}:1: no header row")
        return encoding, delimiter, [h.strip() for h in header]

    def discover(self, streams: list[Stream] | None = None) -> list[DiscoveredStream]:
        found = []
        for stream in streams or []:
            paths = self.files(stream)
            if not paths:
                continue
            _, _, header = self._dialect(paths[0], stream)
            schema = pa.schema([(h, pa.string()) for h in header] + [("_source_file", pa.string())])
            found.append(DiscoveredStream(stream.name, schema, stream.primary_key))
        return found

    def read(self, stream: Stream, state: dict[str, Any] | None = None) -> Iterator[pa.RecordBatch]:
        for path in self.files(stream):
            encoding, delimiter, header = self._dialect(path, stream)
            # Raw keeps every value as text: typing is staging's job, so nothing is lost on the way in.
            reader = pacsv.open_csv(
                path,
                read_options=pacsv.ReadOptions(encoding=encoding, block_size=self.config.block_size,
                                               column_names=header, skip_rows=1),
                parse_options=pacsv.ParseOptions(delimiter=delimiter),
                convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                                     strings_can_be_null=False),
            )
            for batch in reader:
                source = pa.array([path.name] * batch.num_rows, pa.string())
                yield pa.RecordBatch.from_arrays([*batch.columns, source], names=[*header, "_source_file"])
