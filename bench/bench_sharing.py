"""Governed reads vs the bare lake on the demo county: rows?limit=100 and a filtered query, at 1 and 16 clients."""

from __future__ import annotations

import io
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from rich.console import Console

from countyhub.catalog.access import dataset_info
from countyhub.cli.demo import run_demo
from countyhub.core.settings import load_settings
from countyhub.flow.runtime import Runtime

OUT = Path(__file__).resolve().parents[1] / "test-artifacts" / "bench" / "sharing.json"
FILTER = ("SELECT id_number, name, phone, township_name FROM {t} WHERE township_code = '511724002' AND gender = '女' "
          "LIMIT 100")


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


def _setup(home: Path, persons: int) -> SimpleNamespace:
    """The demo county at `persons` residents through the whole flow (`countyhub demo --persons N --no-serve`),
    then an mzj analyst holding an approved grant on shared.resident_profile (filed and decided through
    GrantStore), and the hash-chained audit log."""
    settings = load_settings(environ={"COUNTYHUB_HOME": str(home)})
    rt = Runtime(settings, {})
    started = time.perf_counter()
    report = run_demo(rt, persons=persons, console=Console(file=io.StringIO()))
    if not report.ok:
        raise RuntimeError("the demo flow did not publish every dataset: " + ", ".join(
            d.dataset for d in report.datasets if not d.gate_passed))
    built = time.perf_counter() - started
    analyst, token = rt.sharing.users.add("bench-mzj", "mzj", "analyst")
    steward, _ = rt.sharing.users.add("bench-dsj-steward", "dsj", "steward")
    info = dataset_info(rt.catalog.get_entry("shared.resident_profile"))
    filed = rt.sharing.grants.request(analyst, info, ["township_code"], "低保核查", "《社会救助暂行办法》", 30)
    rt.sharing.grants.approve(filed.id, steward, info)
    return SimpleNamespace(rt=rt, token=token, built=built)


def _serve(home: Path, port: int, serving_mb: int) -> subprocess.Popen[bytes]:
    """uvicorn in its own process through the web factory, as a deployment runs it (the clients and the bare
    DuckDB of this process must not share its interpreter lock)."""
    env = {**os.environ, "COUNTYHUB_HOME": str(home), "COUNTYHUB_PSEUDONYM_KEY": "bench-county-key-0123456789abcdef",
           "COUNTYHUB_SERVING_MB": str(serving_mb)}
    return uvicorn_process("countyhub.cli.web:app", port, env)


def uvicorn_process(factory: str, port: int, env: dict[str, str], cwd: Path | None = None,
                    wait_seconds: float = 120.0) -> subprocess.Popen[bytes]:
    """`uvicorn --factory FACTORY` in its own process on 127.0.0.1:PORT, returned once /healthz answers."""
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
                               "--port", str(port), "--log-level", "warning", "--no-access-log"], env=env, cwd=cwd)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"{factory} did not start on port {port}")


def _audited(rt: Runtime) -> int:
    """Entries in the audit log, after checking the whole chain."""
    count, problem = rt.sharing.audit.verify()
    if problem:
        raise RuntimeError(f"audit chain broken: {problem}")
    return count


def _governed(url: str, token: str) -> tuple[httpx.Client, Any, Any]:
    http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                        limits=httpx.Limits(max_connections=32), timeout=60)

    def rows(offset: int) -> None:
        r = http.get("/api/datasets/shared.resident_profile/rows", params={"limit": 100, "offset": offset})
        assert r.status_code == 200 and len(r.json()["rows"]) == 100, r.text[:200]

    def query(_: int) -> None:
        r = http.post("/api/query", json={"sql": FILTER.format(t="shared.resident_profile")})
        assert r.status_code == 200 and len(r.json()["rows"]) == 100, r.text[:200]

    return http, rows, query


def main(flags: list[str]) -> None:
    n = 20_000 if "--quick" in flags else 1_000_000
    calls = 100 if "--quick" in flags else 300
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        w = _setup(home, n)
        # Two servers over the same lake: the default (serving copies of published tables in memory) and one with
        # COUNTYHUB_SERVING_MB=0 (every call reads the lake's Parquet, as the bare query does).
        ports = {"copies": _free_port(), "lake": _free_port()}
        servers = {kind: _serve(home, port, 256 if kind == "copies" else 0) for kind, port in ports.items()}
        clients = {kind: _governed(f"http://127.0.0.1:{port}", w.token) for kind, port in ports.items()}
        rng = random.Random(13)
        offsets = [rng.randrange(0, n - 100) for _ in range(calls)]
        try:
            before = _audited(w.rt)
            with w.rt.lake.reader() as bare:
                def bare_rows(offset: int) -> None:
                    cur = bare.cursor()
                    cur.execute("SELECT * FROM lake.shared.resident_profile LIMIT 100 OFFSET ?", [offset]).fetchall()
                    cur.close()

                def bare_query(_: int) -> None:
                    cur = bare.cursor()
                    cur.execute(FILTER.format(t="lake.shared.resident_profile")).fetchall()
                    cur.close()

                for _, rows, query in clients.values():  # the first call starts the serving copy; let it finish
                    rows(0), query(0)
                time.sleep(3)
                results = []
                for case, pick, raw in (("rows?limit=100", 1, bare_rows), ("query with filter", 2, bare_query)):
                    for concurrency in (1, 16):
                        row = {"case": case, "clients": concurrency, "calls": calls}
                        for kind, client in clients.items():
                            client[pick](offsets[0])
                            g = _measure(client[pick], offsets, concurrency)
                            row[f"{kind}_p50_ms"], row[f"{kind}_p99_ms"] = _pct(g, 50), _pct(g, 99)
                        raw(offsets[0])
                        b = _measure(raw, offsets, concurrency)
                        row["bare_p50_ms"], row["bare_p99_ms"] = _pct(b, 50), _pct(b, 99)
                        results.append(row)
            made = 2 * (2 + 4 * (calls + 1))
            for http, _, _ in clients.values():
                http.close()
        finally:
            for server in servers.values():
                server.terminate()  # uvicorn's shutdown flushes the audit queue (atexit)
                server.wait(timeout=30)
        audited = _audited(w.rt) - before
    audit_kind = "AuditLog (hash-chained, batched), counted after both servers stopped"
    _print(results, n, w.built, made, audited, audit_kind)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"rows": n, "results": results, "calls": made, "audited": audited,
                               "audit": audit_kind}, indent=2))
    print(f"written {OUT}")


def _print(results: list[dict[str, Any]], n: int, built: float, made: int, audited: int, audit_kind: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Governed (uvicorn + httpx: token, grant, masks, audit) vs bare DuckDB on the lake, demo at "
                        f"--persons {n:,}; p50 / p99 in ms")
    for col in ("case", "clients", "governed", "governed, copies off", "bare", "ratio p50", "ratio p99",
                "copies off ratio p50"):
        table.add_column(col, justify="left" if col == "case" else "right")
    for r in results:
        table.add_row(r["case"], str(r["clients"]), f"{r['copies_p50_ms']:.1f} / {r['copies_p99_ms']:.1f}",
                      f"{r['lake_p50_ms']:.1f} / {r['lake_p99_ms']:.1f}", f"{r['bare_p50_ms']:.1f} / {r['bare_p99_ms']:.1f}",
                      f"{r['copies_p50_ms'] / r['bare_p50_ms']:.2f}×", f"{r['copies_p99_ms'] / r['bare_p99_ms']:.2f}×",
                      f"{r['lake_p50_ms'] / r['bare_p50_ms']:.2f}×")
    console = Console(width=160)
    console.print(table)
    verdict = "exactly one per call" if audited == made else "MISMATCH"
    console.print(f"demo flow ran in {built:.0f} s; governed calls {made}, audit entries {audited} ({verdict}); "
                  f"audit: {audit_kind}")
