"""A local stand-in for the Market Regulation enterprise API: paginated JSON behind a bearer token."""

from __future__ import annotations

import hmac
import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

API_PREFIX = "/api/v1"


class _Handler(BaseHTTPRequestHandler):
    server: _EnterpriseServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # request lines on stderr would drown test and CLI output

    def _send(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._send(status, {"error": {"code": status.value, "message": message}})

    def _authorized(self) -> bool:
        token = self.server.token
        if token is None:
            return True
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        route = url.path.rstrip("/")
        if route == f"{API_PREFIX}/health":
            self._send(HTTPStatus.OK, {"status": "ok"})
        elif route == f"{API_PREFIX}/enterprises":
            if not self._authorized():
                self._error(HTTPStatus.UNAUTHORIZED, "missing or invalid bearer token")
                return
            self._enterprises(parse_qs(url.query))
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: {url.path}")

    def _enterprises(self, query: dict[str, list[str]]) -> None:
        try:
            page = int(query.get("page", ["1"])[0])
            page_size = int(query.get("page_size", ["500"])[0])
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, "page and page_size must be integers")
            return
        if page < 1 or page_size < 1:
            self._error(HTTPStatus.BAD_REQUEST, "page and page_size start at 1")
            return
        records = self.server.records
        items = records[(page - 1) * page_size: page * page_size]
        self._send(HTTPStatus.OK, {"data": {"items": items, "page": page, "page_size": page_size,
                                            "total": len(records)}})


class _EnterpriseServer(ThreadingHTTPServer):
    daemon_threads = True
    records: list[dict[str, Any]]
    token: str | None


class EnterpriseApi:
    """Serves {records_path} at http://host:port/api/v1/enterprises in a daemon thread; port 0 picks one."""

    def __init__(self, records_path: Path, host: str = "127.0.0.1", port: int = 8765,
                 token: str | None = None) -> None:
        self.records_path = Path(records_path)
        self.host = host
        self.port = port
        self.token = token
        self._server: _EnterpriseServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL (with the real port once started)."""
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = _EnterpriseServer((self.host, self.port), _Handler)
        server.records = json.loads(self.records_path.read_text(encoding="utf-8"))
        server.token = self.token
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="enterprise-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
