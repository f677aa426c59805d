"""Small real sources for the conformance tests: a SQLite file, CSV and Excel drops, a paginated JSON API."""

from __future__ import annotations

import csv
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

from openpyxl import Workbook
from stdnum.cn import ric

ROWS = 120
TOKEN = "conformance-t0ken-9f2c"


def id_number(i: int) -> str:
    """A valid resident ID number of person i (the loader quarantines invalid ones): Dazhu county, born 1999."""
    body = f"5117241999{1 + i // 1000 % 12:02d}{1 + i // 12000 % 28:02d}{i % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def person(i: int) -> dict:
    return {"person_id": i, "name": f"居民{i}", "id_number": id_number(i),
            "amount": i * 1.5, "updated_at": f"2026-01-01 00:{i // 60:02d}:{i % 60:02d}"}


def sqlite_source(path: Path) -> Path:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE persons (person_id INTEGER PRIMARY KEY, name TEXT, id_number TEXT, amount REAL, "
                    "updated_at TEXT)")
        con.executemany("INSERT INTO persons VALUES (:person_id, :name, :id_number, :amount, :updated_at)",
                        [person(i) for i in range(ROWS)])
        con.execute("CREATE TABLE nobody (person_id INTEGER PRIMARY KEY, name TEXT)")
    con.close()
    return path


def csv_drop(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "roll_1.csv").open("w", encoding="gb18030", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["身份证号", "姓名", "月发放金额"])
        writer.writerows([[p["id_number"], p["name"], f"{p['amount']:.2f}"] for p in map(person, range(ROWS))])
    (folder / "empty_1.csv").write_text("身份证号,姓名\n", encoding="utf-8")
    return folder


def excel_drop(folder: Path) -> Path:
    """A sheet like a bureau's export: a merged title row, a note row, and a two-level merged header."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("roster_1.xlsx", ROWS), ("blank_1.xlsx", 0)):
        book = Workbook()
        sheet = book.active
        sheet.append(["大竹县2026年1月社会救助发放名册"])
        sheet.merge_cells("A1:E1")
        sheet.append(["填报单位：大竹县民政局"])
        sheet.append(["序号", "救助对象", None, "月发放金额", "备注"])
        sheet.append([None, "姓名", "身份证号", None, None])
        for col in ("A", "D", "E"):
            sheet.merge_cells(f"{col}3:{col}4")
        sheet.merge_cells("B3:C3")
        for i in range(rows):
            sheet.append([i + 1, f"居民{i}", id_number(i), 560.0, None])
        book.save(folder / name)
    return folder


class JsonHandler(BaseHTTPRequestHandler):
    """A quiet HTTP handler that answers JSON: the base of the test APIs the connector tests talk to."""

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Api(JsonHandler):
    """GET /persons?page_size=N&updated_since=T, paged with a Link: <...>; rel="next" header.

    GET /arriving answers the server's `arriving` list (what a test put there; empty at first), filtered by
    updated_since (inclusive) and unpaged: an endpoint that starts empty and gets records later.
    """

    records: ClassVar[list[dict]] = [person(i) for i in range(ROWS)]

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, {"error": "unauthorized"})
        if url.path.endswith("/nobody"):
            return self._send(200, {"items": []})
        if url.path.endswith("/arriving"):
            since = query.get("updated_since", "")
            return self._send(200, {"items": [r for r in self.server.arriving if r["updated_at"] >= since]})
        rows = [r for r in self.records if r["updated_at"] >= query.get("updated_since", "")]
        if query.get("updated_since"):
            rows = [r for r in rows if r["updated_at"] > query["updated_since"]] + [
                r for r in rows if r["updated_at"] == query["updated_since"]]
        size, start = int(query.get("page_size", 50)), int(query.get("start", 0))
        headers = {}
        if start + size < len(rows):
            nxt = {**query, "start": start + size}
            headers["Link"] = f'<{url.path}?{"&".join(f"{k}={v}" for k, v in nxt.items())}>; rel="next"'
        self._send(200, {"items": rows[start:start + size]}, headers)


@contextmanager
def api_server(arriving: list[dict] | None = None) -> Iterator[str]:
    """The test API on a free port; `arriving` (a list the caller may fill later) backs GET /arriving."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    server.arriving = arriving if arriving is not None else []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
