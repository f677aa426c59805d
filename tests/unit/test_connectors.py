"""Files and HTTP JSON connectors against real files and a real local HTTP server; the registry."""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from countyhub.connectors import ConnectorError, available_kinds, get_connector
from countyhub.core.departments import Stream
from tests.conformance.sample_sources import JsonHandler

ROWS = [["身份证号", "姓名", "月发放金额"], *[[f"51172419800101{i:04d}", f"张{i}", "560.00"] for i in range(300)]]


def _write_csv(path: Path, encoding: str, delimiter: str = ",") -> None:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(ROWS)


@pytest.mark.parametrize("encoding,delimiter", [("utf-8", ","), ("utf-8-sig", ","), ("gb18030", ","), ("gbk", ";"),
                                                ("gb18030", "\t")])
def test_csv_encodings_and_delimiters_are_detected(tmp_path: Path, encoding: str, delimiter: str) -> None:
    _write_csv(tmp_path / "roll_1.csv", encoding, delimiter)
    connector = get_connector("files")({"path": str(tmp_path), "block_size": 4096})
    stream = Stream(name="roll", pattern="roll_*.csv")
    batches = list(connector.read(stream))
    table_rows = [row for b in batches for row in b.to_pylist()]
    assert len(table_rows) == 300 and len(batches) > 1  # small blocks: streamed, not read whole
    assert table_rows[7] == {"身份证号": "511724198001010007", "姓名": "张7", "月发放金额": "560.00",
                             "_source_file": "roll_1.csv"}


def test_quoted_values_spanning_lines_survive_block_boundaries(tmp_path: Path) -> None:
    rows = [["身份证号", "住址"], *[[f"51172419800101{i:04d}", f"大竹县\n竹阳街道{i}号"] for i in range(300)]]
    with (tmp_path / "roll_1.csv").open("w", encoding="gb18030", newline="") as fh:
        csv.writer(fh).writerows(rows)
    connector = get_connector("files")({"path": str(tmp_path), "block_size": 4096})
    read = [r for b in connector.read(Stream(name="roll", pattern="roll_*.csv")) for r in b.to_pylist()]
    assert [r["住址"] for r in read] == [r[1] for r in rows[1:]]


def test_missing_drop_folder_is_a_clear_error(tmp_path: Path) -> None:
    connector = get_connector("files")({"path": str(tmp_path / "nope")}, where="departments/mzj.yml: source drop")
    with pytest.raises(ConnectorError, match="departments/mzj.yml: source drop: drop folder .*nope does not exist"):
        connector.check()


class _Api(JsonHandler):
    records: ClassVar[list[dict]] = [{"uscc": f"9151172{i:011d}", "name": f"大竹县企业{i}", "capital": i * 1.5} for i in range(1234)]
    throttled: ClassVar[set[int]] = set()


    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query)
        page, size = int(query.get("page", ["1"])[0]), int(query.get("page_size", ["100"])[0])
        if self.headers.get("Authorization") != "Bearer t0ken":
            self._send(401, {"error": "unauthorized"})
        elif page == 2 and page not in self.throttled:  # the first ask for page 2 is rate-limited once
            self.throttled.add(page)
            self._send(429, {"error": "slow down"}, {"Retry-After": "0.05"})
        else:
            items = self.records[(page - 1) * size: page * size]
            self._send(200, {"data": {"items": items, "page": page, "total": len(self.records)}})



@pytest.fixture
def api_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api"
    server.shutdown()


STREAM = Stream(name="enterprises", path="/enterprises", records="data.items",
                pagination={"type": "page", "size": 500})


def test_http_json_pages_all_records_once_and_retries_429(api_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN_T", "t0ken")
    _Api.throttled = set()
    connector = get_connector("http_json")({"base_url": api_url, "token_env": "API_TOKEN_T"})
    rows = [r for b in connector.read(STREAM) for r in b.to_pylist()]
    assert [r["uscc"] for r in rows] == [r["uscc"] for r in _Api.records]
    assert 2 in _Api.throttled


def test_http_json_auth_errors_never_show_the_token(api_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN_T", "wrong-t0ken-value")
    connector = get_connector("http_json")({"base_url": api_url, "token_env": "API_TOKEN_T"})
    with pytest.raises(ConnectorError) as failure:
        list(connector.read(STREAM))
    assert "401" in str(failure.value) and "wrong-t0ken-value" not in str(failure.value)
    monkeypatch.delenv("API_TOKEN_T")
    with pytest.raises(ConnectorError, match="environment variable API_TOKEN_T .* is not set"):
        list(connector.read(STREAM))


def test_registry_lists_builtins_and_names_unknown_kinds() -> None:
    assert {"sql", "files", "http_json"} <= set(available_kinds())
    with pytest.raises(ConnectorError, match="unknown connector kind 'ftp'; installed kinds: .*sql"):
        get_connector("ftp")
    with pytest.raises(ConnectorError, match="invalid sql config: url: Field required"):
        get_connector("sql")({})
