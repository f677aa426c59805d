"""Governed reads vs the bare lake: rows?limit=100 and a filtered query, over uvicorn + httpx, at 1 and 16 clients."""

from __future__ import annotations

import json
import random
import socket
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from countyhub.catalog import Catalog
from countyhub.catalog.api_data import add_data_routes
from countyhub.catalog.auth import add_error_handlers
from countyhub.catalog.entry import Column, DatasetEntry
from countyhub.core.settings import load_settings
from countyhub.lakehouse import Lake
from countyhub.sharing.audit import AuditLog
from countyhub.sharing.gateway import Gateway
from countyhub.sharing.model import AuditEntry, Grant
from countyhub.sharing.principals import UserStore

OUT = Path(__file__).resolve().parents[1] / "test-artifacts" / "bench" / "sharing.json"
COLUMNS = (("id_number", "VARCHAR", "sensitive"), ("name", "VARCHAR", "sensitive"), ("gender", "VARCHAR", "internal"),
           ("birth_date", "DATE", "sensitive"), ("township_code", "VARCHAR", "public"),
           ("township_name", "VARCHAR", "public"), ("phone", "VARCHAR", "sensitive"),
           ("monthly_subsidy_amount", "DECIMAL(12,2)", "sensitive"))
FILTER = ("SELECT id_number, name, phone, township_name FROM {t} WHERE township_code = '511724100' AND gender = '女' "
          "LIMIT 100")
GENERATE = """CREATE OR REPLACE TABLE lake.shared.resident_profile AS
SELECT (CASE WHEN i % 2 = 0 THEN '511724' ELSE '513029' END) || strftime(DATE '1940-01-01' + (i % 29000)::INTEGER,
         '%Y%m%d') || lpad((i % 1000)::VARCHAR, 3, '0') || (i % 10)::VARCHAR AS id_number,
       list_extract(['王', '李', '张', '刘', '陈'], (i % 5 + 1)::INTEGER) || '伟芳' AS name,
       CASE WHEN i % 2 = 0 THEN '女' ELSE '男' END AS gender, DATE '1940-01-01' + (i % 29000)::INTEGER AS birth_date,
       list_extract(['511724001', '511724002', '511724100', '511724200'], (i % 4 + 1)::INTEGER) AS township_code,
       list_extract(['竹阳街道', '东柳街道', '观音镇', '川主乡'], (i % 4 + 1)::INTEGER) AS township_name,
       '139' || lpad((i % 100000000)::VARCHAR, 8, '0') AS phone,
       (CASE WHEN i % 5 = 0 THEN 560 ELSE 0 END)::DECIMAL(12,2) AS monthly_subsidy_amount
FROM range({n}) r(i)"""


class Grants:
    """mzj's approved grant on the resident profile (GrantStore.active_grant's interface)."""

    def __init__(self) -> None:
        now = time.time()
        from datetime import datetime, timedelta

        at = datetime.fromtimestamp(now)
        self.grant = Grant(1, 1, "shared.resident_profile", "mzj", ("township_code",), "bench", "bench", "dsj-steward",
                           at - timedelta(days=1), at + timedelta(days=30))

    def active_grant(self, department: str, dataset: str) -> Grant | None:
        g = self.grant
        return g if (g.department, g.dataset) == (department, dataset) else None


class CountingAudit:
    """Stands in for AuditLog until the hash-chained log lands: counts appends under a lock."""

    def __init__(self) -> None:
        self.count, self._lock = 0, threading.Lock()

    def append(self, entry: AuditEntry) -> None:
        with self._lock:
            self.count += 1

    def flush(self) -> None:
        pass


def _audit(engine: Any) -> tuple[Any, str]:
    try:
        return AuditLog(engine), "AuditLog (hash-chained)"
    except NotImplementedError:
        return CountingAudit(), "in-memory counter (sharing/audit.py not landed on this branch)"


def _count(audit: Any) -> int:
    if isinstance(audit, CountingAudit):
        return audit.count
    audit.flush()
    return audit.verify()[0]


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(p / 100 * (len(ordered) - 1)), len(ordered) - 1)] * 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _measure(call: Any, args: list[Any], clients: int) -> list[float]:
    def one(arg: Any) -> float:
        started = time.perf_counter()
        call(arg)
        return time.perf_counter() - started

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, args))


def _setup(home: Path, n: int) -> SimpleNamespace:
    settings = load_settings(environ={"COUNTYHUB_HOME": str(home)})
    lake, catalog = Lake(settings), Catalog(settings.catalog_url)
    started = time.perf_counter()
    with lake.writer() as con:
        con.execute(GENERATE.format(n=n))
    built = time.perf_counter() - started
    catalog.register_dataset(DatasetEntry("shared.resident_profile", "published", "人口", "residents", "bench", "dsj",
                                          "dsj", "conditional", "sensitive",
                                          [Column(c, t, classification=k) for c, t, k in COLUMNS]))
    users = UserStore(catalog.engine)
    audit, audit_kind = _audit(catalog.engine)
    sharing = SimpleNamespace(users=users, grants=Grants(), audit=audit,
                              gateway=Gateway(lake, b"bench-county-key-0123456789abcdef"))
    token = users.add("bench-mzj", "mzj", "analyst")[1]
    app = FastAPI()
    app.state.sharing = sharing
    add_error_handlers(app)
    add_data_routes(app, catalog)
    return SimpleNamespace(lake=lake, sharing=sharing, token=token, app=app, built=built, audit_kind=audit_kind)


def main(flags: list[str]) -> None:
    n = 100_000 if "--quick" in flags else 1_000_000
    calls = 100 if "--quick" in flags else 300
    with tempfile.TemporaryDirectory() as tmp:
        w = _setup(Path(tmp) / "home", n)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(w.app, host="127.0.0.1", port=port, log_level="warning",
                                               access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        url, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {w.token}"}
        http = httpx.Client(base_url=url, headers=headers, limits=httpx.Limits(max_connections=32), timeout=60)
        rng = random.Random(13)
        offsets = [rng.randrange(0, n - 100) for _ in range(calls)]

        def governed_rows(offset: int) -> None:
            r = http.get("/api/datasets/shared.resident_profile/rows", params={"limit": 100, "offset": offset})
            assert r.status_code == 200 and len(r.json()["rows"]) == 100, r.text[:200]

        def governed_query(_: int) -> None:
            r = http.post("/api/query", json={"sql": FILTER.format(t="shared.resident_profile")})
            assert r.status_code == 200 and len(r.json()["rows"]) == 100, r.text[:200]

        with w.lake.reader() as bare:
            def bare_rows(offset: int) -> None:
                cur = bare.cursor()
                cur.execute("SELECT * FROM lake.shared.resident_profile LIMIT 100 OFFSET ?", [offset]).fetchall()
                cur.close()

            def bare_query(_: int) -> None:
                cur = bare.cursor()
                cur.execute(FILTER.format(t="lake.shared.resident_profile")).fetchall()
                cur.close()

            results = []
            before = _count(w.sharing.audit)
            for case, gov, raw in (("rows?limit=100", governed_rows, bare_rows),
                                   ("query with filter", governed_query, bare_query)):
                for clients in (1, 16):
                    gov(offsets[0]), raw(offsets[0])  # warm both paths
                    g = _measure(gov, offsets, clients)
                    b = _measure(raw, offsets, clients)
                    results.append({"case": case, "clients": clients, "calls": calls,
                                    "governed_p50_ms": _pct(g, 50), "governed_p99_ms": _pct(g, 99),
                                    "bare_p50_ms": _pct(b, 50), "bare_p99_ms": _pct(b, 99)})
            made = 4 * (calls + 1)
            audited = _count(w.sharing.audit) - before
        http.close()
        server.should_exit = True
        thread.join(timeout=10)
        w.sharing.gateway.close()
    _print(results, n, w.built, made, audited, w.audit_kind)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"rows": n, "results": results, "calls": made, "audited": audited,
                               "audit": w.audit_kind}, indent=2))
    print(f"written {OUT}")


def _print(results: list[dict[str, Any]], n: int, built: float, made: int, audited: int, audit_kind: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Governed (uvicorn + httpx: token, grant, masks, audit) vs bare DuckDB on the lake, {n:,} rows")
    for col in ("case", "clients", "governed p50", "governed p99", "bare p50", "bare p99", "ratio p50", "ratio p99"):
        table.add_column(col, justify="left" if col == "case" else "right")
    for r in results:
        table.add_row(r["case"], str(r["clients"]), f"{r['governed_p50_ms']:.1f} ms", f"{r['governed_p99_ms']:.1f} ms",
                      f"{r['bare_p50_ms']:.1f} ms", f"{r['bare_p99_ms']:.1f} ms",
                      f"{r['governed_p50_ms'] / r['bare_p50_ms']:.2f}×", f"{r['governed_p99_ms'] / r['bare_p99_ms']:.2f}×")
    console = Console(width=150)
    console.print(table)
    verdict = "exactly one per call" if audited == made else "MISMATCH"
    console.print(f"lake built in {built:.1f} s; governed calls {made}, audit entries {audited} ({verdict}); "
                  f"audit: {audit_kind}")
