"""`bench services` load: aiohttp workers bounded in time and count, server RSS/CPU, publish probes, unguarded app."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Self

import aiohttp
import psutil
from fastapi import FastAPI, Request
from fastapi.responses import Response
from yarl import URL

from countyhub.catalog.api_data import json_response
from countyhub.core.settings import load_settings
from countyhub.lakehouse import Lake
from countyhub.sharing.service_index import KeyIndex, build_index
from countyhub.sharing.service_spec import Service, load_services
from countyhub.sharing.services import _holds, _same
from countyhub.sharing.serving import current_snapshot

Check = Callable[[dict[str, Any], float, float], bool]  # (body, sent, received) -> the answer is right


@dataclass
class Cell:
    """One measured (case, connections): latencies of every call, its errors (non-200), wrong answers, server."""

    case: str
    connections: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    wrong: int = 0
    rss: int = 0  # peak bytes of the server process
    server_cpu: float = 0.0  # CPU seconds of the server per wall second (1.0 = one core)
    client_cpu: float = 0.0

    @property
    def calls(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)

    def row(self) -> dict[str, Any]:
        from bench.bench_sharing import _pct  # not at the top: the unguarded server imports this module

        lat = self.latencies or [0.0]
        return {"case": self.case, "connections": self.connections, "calls": self.calls,
                "calls_per_s": self.calls / self.seconds if self.seconds else 0.0, "p50_ms": _pct(lat, 50),
                "p95_ms": _pct(lat, 95), "p99_ms": _pct(lat, 99), "errors": self.errors, "wrong": self.wrong,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())}, "server_rss_mb": self.rss / 2**20,
                "server_cpu": self.server_cpu, "client_cpu": self.client_cpu, "seconds": self.seconds}


class Watch:
    """Peak RSS (polled every 20 ms) and CPU share of one process, and the CPU share of this one, over a block."""

    def __init__(self, pid: int | None, cell: Cell) -> None:
        self.proc, self.cell = (psutil.Process(pid) if pid else None), cell
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while self.proc is not None and not self._stop.wait(0.02):
            self.cell.rss = max(self.cell.rss, self.proc.memory_info().rss)

    def __enter__(self) -> Self:
        self._me, self._started = psutil.Process(), time.perf_counter()
        self._cpu = (sum(self.proc.cpu_times()[:2]) if self.proc else 0.0, sum(self._me.cpu_times()[:2]))
        if self.proc is not None:
            self.cell.rss = self.proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        wall = max(time.perf_counter() - self._started, 1e-9)
        if self.proc is not None:
            self.cell.server_cpu = (sum(self.proc.cpu_times()[:2]) - self._cpu[0]) / wall
        self.cell.client_cpu = (sum(self._me.cpu_times()[:2]) - self._cpu[1]) / wall


def expect(answer: str) -> Check:
    """A verify answer (match / no_match / not_found) or, for "found", a lookup that found its row."""
    if answer == "found":
        return lambda body, _s, _r: body.get("found") is True and body.get("row") is not None
    return lambda body, _s, _r: body.get("result") == answer


@dataclass
class Run:
    """The bounds of one load run: it ends at `stop_at` (perf_counter) or after `max_calls` calls were sent."""

    stop_at: float
    max_calls: int
    sent: int = 0

    def done(self) -> bool:
        return self.sent >= self.max_calls or time.perf_counter() >= self.stop_at


async def _worker(session: aiohttp.ClientSession, run: Run, cell: Cell, source: Iterable[tuple[URL, Check]]) -> None:
    for url, check in source:
        if run.done():
            return
        run.sent += 1
        sent = time.perf_counter()
        try:
            async with session.get(url) as response:
                status, raw = response.status, await response.read()
        except (TimeoutError, aiohttp.ClientError):
            status, raw = -1, b""
        received = time.perf_counter()
        cell.latencies.append(received - sent)
        cell.statuses[status] += 1
        if status == 200 and not check(json.loads(raw), sent, received):
            cell.wrong += 1


async def _load(cell: Cell, sources: list[Iterable[tuple[URL, Check]]], run: Run, headers: dict[str, str],
                side: Callable[[Run], Any] | None) -> None:
    connector = aiohttp.TCPConnector(limit=len(sources))
    async with aiohttp.ClientSession(connector=connector, headers=headers,
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:
        started = time.perf_counter()
        tasks = [asyncio.ensure_future(_worker(session, run, cell, s)) for s in sources]
        if side is not None:
            tasks.append(asyncio.ensure_future(side(run)))
        await asyncio.gather(*tasks)
        cell.seconds = time.perf_counter() - started


def load(cell: Cell, requests: list[tuple[URL, Check]], pid: int | None, seconds: float, max_calls: int,
         headers: dict[str, str], probes: Sequence[Iterable[tuple[URL, Check]]] = (),
         side: Callable[[Run], Any] | None = None) -> Cell:
    """`cell.connections` workers (the first of them calling `probes` if given) on as many connections, all
    drawing from one cycle of `requests`; `side(run)` runs beside them (it may move `run.stop_at`)."""
    shared = itertools.cycle(requests)
    sources: list[Iterable[tuple[URL, Check]]] = [*probes, *([shared] * (cell.connections - len(probes)))]
    run = Run(time.perf_counter() + seconds, max_calls)
    with Watch(pid, cell):
        asyncio.run(_load(cell, sources, run, headers, side))
    return cell


def bare(cell: Cell, call: Callable[[Any, str], Any], cursor: Callable[[], Any], keys: list[str],
         seconds: float, max_calls: int) -> Cell:
    """`cell.connections` threads, each on its own DuckDB cursor, calling `call(cursor, key)` in a loop."""
    run, lock, counter = Run(time.perf_counter() + seconds, max_calls), threading.Lock(), itertools.count()

    def loop() -> None:
        cur, mine = cursor(), []
        try:
            while True:
                with lock:
                    if run.done():
                        break
                    run.sent += 1
                key = keys[next(counter) % len(keys)]
                started = time.perf_counter()
                call(cur, key)
                mine.append(time.perf_counter() - started)
        finally:
            cur.close()
        with lock:
            cell.latencies.extend(mine)
            cell.statuses[200] += len(mine)

    threads = [threading.Thread(target=loop) for _ in range(cell.connections)]
    started = time.perf_counter()
    with Watch(None, cell):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    cell.seconds = time.perf_counter() - started
    return cell


class Probes:
    """Verify calls on probe people whose name a publish changes: each answer says which version it came from."""

    def __init__(self, people: list[tuple[str, str, str]], url: Callable[[str, str], URL]) -> None:
        self.people, self.url = people, url  # (id_number, old name, new name)
        self.seen: list[tuple[float, float, str]] = []  # (sent, received, "old" | "new" | "bad")
        self.published: tuple[float, float] | None = None  # the publish's start and commit (perf_counter)

    def source(self, offset: int) -> Iterable[tuple[URL, Check]]:
        for i in itertools.count(offset):
            id_number, old, new = self.people[i // 2 % len(self.people)]
            variant = "old" if i % 2 == 0 else "new"
            yield self.url(id_number, old if variant == "old" else new), self._check(variant)

    def _check(self, variant: str) -> Check:
        other = "new" if variant == "old" else "old"

        def check(body: dict[str, Any], sent: float, received: float) -> bool:
            version = {"match": variant, "no_match": other}.get(body.get("result", ""), "bad")
            self.seen.append((sent, received, version))
            return version != "bad"
        return check

    def verdict(self) -> dict[str, Any]:
        """Mixed answers: an old-version answer to a call sent after a new-version answer had arrived, a
        new-version one before the publish started, or neither (e.g. not_found)."""
        first_new = min((r for _, r, v in self.seen if v == "new"), default=None)
        begun, committed = self.published or (float("inf"), float("inf"))
        mixed = sum(1 for s, r, v in self.seen if v == "bad" or (v == "new" and r < begun)
                    or (v == "old" and first_new is not None and s > first_new))
        last_old = max((r for _, r, v in self.seen if v == "old"), default=None)
        return {"probe_calls": len(self.seen), "mixed": mixed, "switched": first_new is not None,
                "switch_after_commit_s": None if first_new is None else first_new - committed,
                "publish_s": committed - begun, "last_old_after_commit_s": None if last_old is None
                else last_old - committed}


def publisher(probes: Probes, publish: Callable[[], None], at: float, settle: float,
              cap: float) -> Callable[[Run], Any]:
    """A side task: `at` seconds in, run `publish` in a thread; keep the run going until `settle` seconds after
    the first new-version answer (at most `cap` seconds from the start)."""
    async def side(run: Run) -> None:
        started = time.perf_counter()
        await asyncio.sleep(at)
        begun = time.perf_counter()
        await asyncio.to_thread(publish)
        probes.published = (begun, time.perf_counter())
        while time.perf_counter() < started + cap:
            first_new = min((r for _, r, v in probes.seen if v == "new"), default=None)
            if first_new is not None:
                run.stop_at = max(run.stop_at, first_new + settle)
                return
            run.stop_at = max(run.stop_at, time.perf_counter() + settle)
            await asyncio.sleep(0.05)
    return side


def _wanted(services: list[Service]) -> dict[tuple[str, str], tuple[str, ...]]:
    """(table, key column) -> the columns its verify and lookup services read, as sharing.Services holds them."""
    wanted: dict[tuple[str, str], tuple[str, ...]] = {}
    for s in services:
        if s.kind in ("verify", "lookup"):
            wanted[(s.table, s.key.column)] = tuple(dict.fromkeys((*wanted.get((s.table, s.key.column), ()),
                                                                    *s.columns())))
    return wanted


def _unguarded_endpoint(service: Service, index: KeyIndex) -> Any:
    async def call(request: Request) -> Response:
        query = request.query_params
        key = query.get(service.key.name, "").strip()
        found = index.find(key.upper() if service.key.type in ("id_number", "credit_code") else key).to_pylist()
        base = {"service": service.name, "dataset": service.dataset}
        if service.kind == "verify":
            row = found[0] if found else {}
            result = "not_found" if not found else "match" if all(
                _same(service, p.column, query.get(p.name, ""), row.get(p.column))
                for p in service.params if p.role == "claim" and p.name in query) and all(
                _holds(v, row.get(c)) for c, v in service.expect.items()) else "no_match"
            return json_response({**base, "result": result})
        if not found:
            return json_response({**base, "found": False, "row": None, "masked": []})
        return json_response({**base, "found": True, "row": {c: found[0].get(c) for c in service.returns},
                              "masked": []})
    return call


def unguarded_app() -> FastAPI:
    """The HTTP limit: the service paths answered from the same serving indexes (built once, at the current
    snapshot) with no token, grant, rate limit, validation or audit. `uvicorn --factory` it, home in the env."""
    settings = load_settings()
    stack = ExitStack()
    con = stack.enter_context(Lake(settings).reader())
    services = load_services(settings.contracts_dir)
    snapshot = current_snapshot(con)
    indexes = {k: build_index(con, *k, cols, snapshot) for k, cols in _wanted(services).items()}
    app = FastAPI()
    app.state.keep = stack

    @app.get("/healthz")
    async def healthz() -> Response:
        return json_response({"status": "ok"})

    for s in services:
        if s.kind in ("verify", "lookup"):
            app.add_api_route(f"/api/services/{s.table}/{s.name}",
                              _unguarded_endpoint(s, indexes[(s.table, s.key.column)]), methods=["GET"])
    return app
