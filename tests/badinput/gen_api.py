"""A department's JSON API on a real HTTP server on 127.0.0.1, answering scripted pages (status and body per call)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

Answer = tuple[int, Any]  # (status, JSON-able body or raw bytes)


def firm(n: int, **changed: Any) -> dict[str, Any]:
    """One market-regulation record: 统一社会信用代码, name, registered capital (万元, an integer)."""
    return {"uscc": f"91511724MA6{n:06d}X", "name": f"大竹县企业{n}", "capital": n * 10, **changed}


class ScriptedApi:
    """Answers GET /firms?page=N (or ?cursor=T) from a script; each key may list answers for successive calls."""

    def __init__(self, script: dict[str, list[Answer]]) -> None:
        self.script = {k: list(v) for k, v in script.items()}
        self.calls: list[str] = []

    def answer(self, path: str) -> Answer:
        query = {k: v[0] for k, v in parse_qs(urlparse(path).query).items()}
        key = f"cursor={query['cursor']}" if "cursor" in query else f"page={query.get('page', '1')}"
        self.calls.append(key)
        answers = self.script.get(key) or [(200, {"data": []})]
        return answers.pop(0) if len(answers) > 1 else answers[0]


@contextmanager
def serve(api: ScriptedApi) -> Iterator[str]:
    """Serve the script until the block ends; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            status, body = api.answer(self.path)
            payload = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
