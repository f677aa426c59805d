"""Data service calls (verify, lookup) governed vs an unguarded server vs bare DuckDB, at 1/16/64 connections."""

from __future__ import annotations

import gc
import json
import os
import random
import re
import subprocess
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest import mock

from stdnum.cn import ric
from yarl import URL

from bench.bench_sharing import _audited, _free_port, _serve, _setup, uvicorn_process
from bench.services_load import Cell, Check, Probes, _wanted, bare, expect, load, publisher
from countyhub.catalog.access import dataset_info
from countyhub.flow.runtime import Runtime
from countyhub.sharing.service_index import build_index
from countyhub.sharing.serving import current_snapshot

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "test-artifacts" / "bench" / "services.json"
VERIFY = "/api/services/resident_profile/household_verify"
LOOKUP = "/api/services/enterprise_registry/enterprise_lookup"
BARE_SQL = "SELECT name FROM lake.shared.resident_profile WHERE id_number = ?"
CASES = {("verify", "governed"): "verify (governed)", ("lookup", "governed"): "lookup (governed)",
         ("verify", "unguarded"): "verify (unguarded server)", ("lookup", "unguarded"): "lookup (unguarded)"}
SERVER_ENV = {"COUNTYHUB_SERVICE_RATE": "100000", "COUNTYHUB_SERVICE_DAILY_QUOTA": "1000000000"}


def _serve_unguarded(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "COUNTYHUB_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return uvicorn_process("bench.services_load:unguarded_app", port, env, cwd=ROOT)


def _grant_app(rt: Runtime) -> str:
    """An mzj system (role app) with an approved grant naming the resident verifications, at a rate no bench
    reaches; enterprise_lookup is unconditional (SERVER_ENV lifts its default rate)."""
    app_user, token = rt.sharing.users.add("bench-app-mzj", "mzj", "app")
    steward, _ = rt.sharing.users.add("bench-dsj-steward-services", "dsj", "steward")
    info = dataset_info(rt.catalog.get_entry("shared.resident_profile"))
    offered = tuple(s.name for s in rt.sharing.services.of(info.name))
    req = rt.sharing.grants.request(app_user, info, [], "低保核查", "《社会救助暂行办法》", 30,
                                    ["household_verify", "subsidy_verify"], offered)
    rt.sharing.grants.approve(req.id, steward, info, rate_per_second=100000, daily_quota=10**9)
    return token


def _absent_ids(con: Any, real: list[str], rng: random.Random) -> list[str]:
    """Valid ID numbers (a real region and birth date, a new sequence, the right check digit) held by nobody."""
    made = set()
    for id_number in real:
        body = id_number[:14] + f"{rng.randrange(1000):03d}"
        made.add(body + ric.calc_check_digit(body + "0"))
    held = {r[0] for r in con.execute("SELECT id_number FROM lake.shared.resident_profile "
                                      "WHERE list_contains(?, id_number)", [sorted(made)]).fetchall()}
    return sorted(made - held)


def _samples(rt: Runtime) -> dict[str, Any]:
    """Verify calls on real people (70 % match, 15 % a wrong name, 15 % an absent ID), real credit codes to look
    up, and 100 probe people (left out of the others) whose names the publish changes."""
    rng = random.Random(14)
    with rt.lake.reader() as con:
        people = con.execute("SELECT id_number, name FROM lake.shared.resident_profile WHERE id_number IS NOT NULL "
                             "AND name IS NOT NULL USING SAMPLE reservoir(20100 ROWS) REPEATABLE (14)").fetchall()
        codes = [r[0] for r in con.execute("SELECT uscc FROM lake.shared.enterprise_registry WHERE uscc IS NOT NULL "
                                           "USING SAMPLE reservoir(20000 ROWS) REPEATABLE (14)").fetchall()]
        absent = _absent_ids(con, [p[0] for p in people[:3000]], rng)
    probes, people = people[:100], people[100:]
    names = [p[1] for p in people]
    verify: list[tuple[str, str, str]] = []
    for i, (id_number, name) in enumerate(people):
        kind = rng.random()
        if kind < 0.15:
            other = rng.choice(names)
            verify.append((id_number, other, "match" if other == name else "no_match"))
        elif kind < 0.30:
            verify.append((absent[i % len(absent)], name, "not_found"))
        else:
            verify.append((id_number, name, "match"))
    return {"verify": verify, "codes": codes, "keys": [p[0] for p in people],
            "probes": [(i, n, n + "新") for i, n in probes]}


def _calls(base: URL, sample: dict[str, Any]) -> dict[str, list[tuple[URL, Check]]]:
    verify = [((base / VERIFY[1:]).with_query(id_number=i, name=nm), expect(e)) for i, nm, e in sample["verify"]]
    lookup = [((base / LOOKUP[1:]).with_query(credit_code=c), expect("found")) for c in sample["codes"]]
    return {"verify": verify, "lookup": lookup}


def _publish(rt: Runtime, probes: list[tuple[str, str, str]]) -> None:
    """A new version of shared.resident_profile, replaced whole as contracts/publish.py does: the probe
    people's names changed, every other row as it was."""
    ids = ", ".join(f"'{i}'" for i, _, _ in probes if re.fullmatch(r"\d{17}[\dX]", i))
    with rt.lake.writer() as con:
        con.execute("CREATE OR REPLACE TABLE lake.shared.resident_profile AS SELECT * REPLACE (CASE WHEN id_number "
                    f"IN ({ids}) THEN name || '新' ELSE name END AS name) FROM lake.shared.resident_profile")


def _index_memory(rt: Runtime) -> list[dict[str, Any]]:
    out = []
    with rt.lake.reader() as con:
        snapshot = current_snapshot(con)
        for (table, key), cols in _wanted(rt.sharing.services.all()).items():
            index = build_index(con, table, key, cols, snapshot)
            per = 1e6 / max(index.rows.num_rows, 1)
            out.append({"table": table, "key": key, "rows": index.rows.num_rows, "columns": list(cols),
                        "keys_mb_per_m": index.keys.nbytes * per / 1e6, "rows_mb_per_m": index.rows.nbytes * per / 1e6})
            del index
    gc.collect()
    return out


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()  # uvicorn's shutdown flushes the audit queue (atexit)
    server.wait(timeout=60)


def _cells(rt: Runtime, sample: dict[str, Any], urls: dict[str, Any], pids: dict[str, int], seconds: float,
           max_calls: int, headers: dict[str, str]) -> tuple[list[Cell], int, Probes]:
    """Every measured cell, the governed calls made (the audit must hold as many) and the publish probes."""
    cells, made = [], 0
    for kind in ("verify", "lookup"):  # the first call builds the serving index; let it finish
        warm = load(Cell("warm", 1), urls["governed"][kind], pids["governed"], 60, 50, headers)
        made += warm.calls
        assert warm.errors == 0, f"governed {kind} warm-up: {dict(warm.statuses)}"
    for conns in (1, 16, 64):  # governed and unguarded interleaved, so that drift hits both alike
        for server in ("governed", "unguarded"):
            for kind in ("verify", "lookup"):
                cell = load(Cell(CASES[(kind, server)], conns), urls[server][kind], pids[server], seconds,
                            max_calls, headers)
                made += cell.calls if server == "governed" else 0
                cells.append(cell)
    with rt.lake.reader() as con:
        for conns in (1, 16):
            cells.append(bare(Cell("bare DuckDB point query", conns), lambda cur, k: cur.execute(
                BARE_SQL, [k]).fetchall(), con.cursor, sample["keys"], seconds, max_calls))
    probes = Probes(sample["probes"], lambda i, nm: (urls["base"] / VERIFY[1:]).with_query(id_number=i, name=nm))
    side = publisher(probes, lambda: _publish(rt, probes.people), at=seconds / 2, settle=2.0, cap=90.0)
    during = load(Cell("verify during a publish", 16), urls["governed"]["verify"], pids["governed"], seconds,
                  10 * max_calls, headers, probes=[probes.source(k * 50) for k in range(4)], side=side)
    return [*cells, during], made + during.calls, probes


def main(flags: list[str]) -> None:
    quick = "--quick" in flags
    n, seconds, max_calls = (20_000, 4.0, 20_000) if quick else (1_000_000, 10.0, 100_000)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as servers:
        home = Path(tmp) / "home"
        w = _setup(home, n)
        rt, token = w.rt, _grant_app(w.rt)
        ports = {"governed": _free_port(), "unguarded": _free_port()}
        sample = _samples(rt)
        urls: dict[str, Any] = {k: _calls(URL(f"http://127.0.0.1:{p}"), sample) for k, p in ports.items()}
        urls["base"] = URL(f"http://127.0.0.1:{ports['governed']}")
        memory = _index_memory(rt)
        before = _audited(rt)
        with mock.patch.dict(os.environ, SERVER_ENV):
            governed = _serve(home, ports["governed"], 256)
        servers.callback(_stop, governed)
        unguarded = _serve_unguarded(home, ports["unguarded"])
        servers.callback(_stop, unguarded)
        cells, made, probes = _cells(rt, sample, urls, {"governed": governed.pid, "unguarded": unguarded.pid},
                                     seconds, max_calls, {"Authorization": f"Bearer {token}"})
        servers.close()
        audited = _audited(rt) - before
    during = cells[-1]
    published = {**probes.verdict(), "calls": during.calls, "errors": during.errors, "wrong": during.wrong}
    _report(cells, n, w.built, made, audited, published, memory)


def _report(cells: list[Cell], n: int, built: float, made: int, audited: int, published: dict[str, Any],
            memory: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    order = [*CASES.values(), "bare DuckDB point query", "verify during a publish"]
    rows = sorted((c.row() for c in cells), key=lambda r: (order.index(r["case"]), r["connections"]))
    table = Table(title=f"Data services on the demo at --persons {n:,}: aiohttp load on 127.0.0.1, one uvicorn "
                        f"process per server, {os.cpu_count()} cores; latency in ms")
    for col in ("case", "conns", "calls", "calls/s", "p50", "p95", "p99", "errors", "wrong", "server RSS MB",
                "server CPU", "client CPU"):
        table.add_column(col, justify="left" if col == "case" else "right")
    for r in rows:
        bare_row = r["case"].startswith("bare")
        table.add_row(r["case"], str(r["connections"]), f"{r['calls']:,}", f"{r['calls_per_s']:,.0f}",
                      f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}", f"{r['p99_ms']:.2f}", str(r["errors"]),
                      str(r["wrong"]), "—" if bare_row else f"{r['server_rss_mb']:.0f}",
                      "—" if bare_row else f"{r['server_cpu']:.0%}", f"{r['client_cpu']:.0%}")
    console = Console(width=170)
    console.print(table)
    at16 = {r["case"]: r for r in rows if r["connections"] == 16}
    for kind, unguarded in (("verify", "verify (unguarded server)"), ("lookup", "lookup (unguarded)")):
        g, u = at16[f"{kind} (governed)"], at16[unguarded]
        console.print(f"{kind} at 16 connections: governed {g['calls_per_s']:,.0f} calls/s (p99 {g['p99_ms']:.1f} ms) "
                      f"= {g['calls_per_s'] / u['calls_per_s']:.2f}× the unguarded server's {u['calls_per_s']:,.0f}")
    verdict = "exactly one per call" if audited == made else "MISMATCH"
    console.print(f"audit entries {audited:,} for {made:,} governed calls (warm-up and the publish run included): "
                  f"{verdict}; the hash chain verifies")
    p = published
    switch = f"{p['switch_after_commit_s']:.2f} s" if p["switched"] else "NEVER"
    console.print(f"publish during load (verify, 16 connections, 4 on 100 probe people): {p['calls']:,} calls, "
                  f"{p['errors']} errors, {p['wrong']} wrong answers, {p['mixed']} mixed answers in "
                  f"{p['probe_calls']:,} probe calls; the publish took {p['publish_s']:.2f} s and the server "
                  f"answered from the new version {switch} after its commit")
    for m in memory:
        console.print(f"serving index shared.{m['table']} by {m['key']} ({', '.join(m['columns'])}): "
                      f"{m['keys_mb_per_m']:.1f} MB keys + {m['rows_mb_per_m']:.1f} MB rows per million rows "
                      f"({m['rows']:,} rows held)")
    console.print(f"demo flow ran in {built:.0f} s; load average at the end {os.getloadavg()[0]:.1f} "
                  f"(other processes on the machine share its cores)")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"persons": n, "cells": rows, "governed_calls": made, "audited": audited,
                               "publish": published, "index_memory": memory}, indent=2, ensure_ascii=False))
    print(f"written {OUT}")
