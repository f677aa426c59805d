"""HTTP JSON details: API-key auth, cursor pagination, Retry-After as a date, the per-source rate limit."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from countyhub.connectors import get_connector
from countyhub.connectors.http_json import RateLimiter, retry_after_seconds
from countyhub.core.departments import Stream

RECORDS = [{"uscc": f"91511724MA{i:07d}X", "n": i} for i in range(25)]


class _CursorApi(BaseHTTPRequestHandler):
    """GET /items?limit=N&after=TOKEN with the key in X-API-Key; the first call answers 503 once."""

    calls: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
        self.calls.append(self.path)
        if self.headers.get("X-API-Key") != "k3y":
            return self._send(403, {})
        if len(self.calls) == 1:
            return self._send(503, {}, {"Retry-After": "0"})
        start, size = int(query.get("after", 0)), int(query.get("limit", 10))
        page = RECORDS[start:start + size]
        token = str(start + size) if start + size < len(RECORDS) else None
        self._send(200, {"result": page, "next": token})

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def api() -> Iterator[str]:
    _CursorApi.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CursorApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_api_key_and_cursor_pagination_read_every_record_once(api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITEMS_KEY", "k3y")
    connector = get_connector("http_json")({"base_url": api, "auth": "api_key", "token_env": "ITEMS_KEY"})
    slept: list[float] = []
    connector.sleep = slept.append
    stream = Stream(name="items", path="/items", records="result",
                    pagination={"type": "cursor", "size": 10, "size_param": "limit", "cursor_param": "after",
                                "next_cursor": "next"})
    rows = [r for b in connector.read(stream) for r in b.to_pylist()]
    assert rows == RECORDS
    assert slept == [0.0]  # the 503 was retried once, after the Retry-After it asked for
    assert sum("after=" in c for c in _CursorApi.calls) == 2


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_seconds("7") == 7.0
    assert 50 < retry_after_seconds(formatdate(__import__("time").time() + 60, usegmt=True)) <= 60
    assert retry_after_seconds("soon") is None


def test_rate_limit_spaces_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    now, waits = [100.0], []
    monkeypatch.setattr("countyhub.connectors.http_json.time.monotonic", lambda: now[0])
    monkeypatch.setattr("countyhub.connectors.http_json.time.sleep", waits.append)
    limiter = RateLimiter(4.0)
    for _ in range(3):
        limiter.wait()
    assert waits == [0.25, 0.5]  # three calls at the same instant: the 2nd and 3rd wait their turn
