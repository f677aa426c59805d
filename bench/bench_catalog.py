"""Catalog search benchmark: 1k/10k/100k entries, 200 labelled queries, side by side with a LIKE '%…%' scan; and
120 queries in the words county staff use instead of the titles' (synonyms, department short forms, ...)."""

from __future__ import annotations

import gc
import json
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.catalog_data import Labelled, generate, labelled_queries, staff_queries
from countyhub.catalog import Catalog, tables
from countyhub.catalog.entry import Column, DatasetEntry
from countyhub.catalog.text import tokenize

SIZES, QUICK_SIZES = (1_000, 10_000, 100_000), (1_000, 10_000)
LIKE_FIELDS = ("name", "title_zh", "title_en", "description", "keywords")
OUT = Path(__file__).resolve().parents[1] / "test-artifacts" / "bench" / "catalog.json"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(p / 100 * (len(ordered) - 1)), len(ordered) - 1)] * 1000


def _fill_store(url: str, entries: list[dict[str, Any]]) -> float:
    """Bulk-insert entries (as register_dataset would store them) plus loads and gate runs; returns seconds."""
    started = time.perf_counter()
    rng = random.Random(7)
    cat = Catalog(url)  # creates the tables
    now = datetime.now(UTC).replace(tzinfo=None)
    rows, loads, gates = [], [], []
    for e in entries:
        data = {k: v for k, v in e.items() if k != "_meta"}
        rows.append({"name": e["name"], "kind": e["kind"], "title_zh": e["title_zh"], "title_en": e["title_en"],
                     "department_code": e["department_code"], "department_name": e["department_name"],
                     "sharing_type": e["sharing_type"], "classification": e["classification"], "row_count": None,
                     "entry_json": json.dumps(data, ensure_ascii=False), "registered_at": now, "updated_at": now})
        at = now - timedelta(hours=rng.randrange(24 * 365))
        if e["kind"] == "raw_stream":
            loads.append({"dataset": e["name"], "load_id": "L1", "rows": 1, "status": "success", "started_at": at,
                          "finished_at": at, "message": ""})
        elif e["kind"] == "published":
            gates.append({"dataset": e["name"], "run_id": "R1", "success": rng.random() < 0.85, "reason": "",
                          "results_json": "[]", "started_at": at, "finished_at": at})
    with cat.engine.begin() as con:
        for table, batch in ((tables.datasets, rows), (tables.loads, loads), (tables.gate_runs, gates)):
            for i in range(0, len(batch), 5000):
                con.execute(insert(table), batch[i: i + 5000])
    cat.engine.dispose()
    return time.perf_counter() - started


def _like_db(entries: list[dict[str, Any]]) -> sqlite3.Connection:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE d (name TEXT, title_zh TEXT, title_en TEXT, description TEXT, keywords TEXT, "
                "department TEXT, classification TEXT)")
    con.executemany("INSERT INTO d VALUES (?,?,?,?,?,?,?)", [
        (e["name"], e["title_zh"], e["title_en"], e["description"], " ".join(e["keywords"]), e["department_code"],
         e["classification"]) for e in entries])
    return con


def _like(con: sqlite3.Connection, query: Labelled, per_word: bool) -> list[str]:
    """What a plain portal does: every word (or the whole string) as LIKE '%…%' on the text columns."""
    words = query.q.split() if per_word else [query.q]
    where = " AND ".join("(" + " OR ".join(f"{f} LIKE ?" for f in LIKE_FIELDS) + ")" for _ in words)
    params = [f"%{w}%" for w in words for _ in LIKE_FIELDS]
    for key, value in query.facets.items():
        where += f" AND {key} = ?"
        params.append(value)
    return [r[0] for r in con.execute(f"SELECT name FROM d WHERE {where} LIMIT 20", params)]


def _run(queries: list[Labelled], search: Any) -> tuple[list[float], list[bool]]:
    times, found = [], []
    for query in queries:
        started = time.perf_counter()
        names = search(query)
        times.append(time.perf_counter() - started)
        found.append(query.expected in names[:3])
    return times, found


def _row(engine: str, n: int, build: float, mem: float, times: list[float], found: list[bool]) -> dict[str, Any]:
    return {"engine": engine, "entries": n, "build_s": round(build, 2), "memory_mb": round(mem, 1),
            "p50_ms": round(_pct(times, 50), 2), "p95_ms": round(_pct(times, 95), 2),
            "p99_ms": round(_pct(times, 99), 2), "mean_ms": round(statistics.fmean(times) * 1000, 2),
            "top3": round(100 * sum(found) / len(found), 1)}


def bench_size(n: int, workdir: Path) -> tuple[list[dict[str, Any]], dict[str, float]]:
    entries = generate(n)
    queries = labelled_queries(entries[:1000])
    url = f"sqlite:///{workdir / f'catalog_{n}.sqlite'}"
    store_s = _fill_store(url, entries)
    tokenize("户籍人口 warm-up")  # load jieba's dictionary first: it is shared by any index, not part of one
    gc.collect()
    before = _rss_mb()
    started = time.perf_counter()
    cat = Catalog(url)  # what a server start does: read every entry back and index it
    build = time.perf_counter() - started
    gc.collect()
    mem = _rss_mb() - before

    def ours(q: Labelled) -> list[str]:
        return [h["name"] for h in cat.query(q.q, q.facets, rows=20, facet_fields=()).hits]

    cold, _ = _run(queries, ours)
    times, found = _run(queries, ours)
    by_kind: dict[str, list[bool]] = {}
    for q, ok in zip(queries, found, strict=True):
        by_kind.setdefault(q.kind, []).append(ok)
    rows = [_row("countyhub index", n, build, mem, times, found) | {"cold_p95_ms": round(_pct(cold, 95), 2)}]
    started = time.perf_counter()
    con = _like_db(entries)
    like_build = time.perf_counter() - started
    pages = con.execute("PRAGMA page_count").fetchone()[0] * con.execute("PRAGMA page_size").fetchone()[0]
    like_mem = pages / 2**20  # the table itself; a LIKE scan needs no index
    for label, per_word in (("LIKE, whole string", False), ("LIKE, every word", True)):
        t, f = _run(queries, lambda q, pw=per_word: _like(con, q, pw))
        rows.append(_row(label, n, like_build, like_mem, t, f))
    con.close()
    extra = {"store_bulk_load_s": round(store_s, 2), "register_ms": _register_cost(cat, n)}
    extra |= {f"top3_{k}": round(100 * sum(v) / len(v), 1) for k, v in by_kind.items()}
    staff = staff_queries(entries[:1000])
    _, staff_found = _run(staff, ours)
    staff_kinds: dict[str, list[bool]] = {}
    for q, ok in zip(staff, staff_found, strict=True):
        staff_kinds.setdefault(q.kind, []).append(ok)
    extra["top3_staff"] = round(100 * sum(staff_found) / len(staff_found), 1)
    extra |= {f"top3_staff_{k}": round(100 * sum(v) / len(v), 1) for k, v in staff_kinds.items()}
    cat.engine.dispose()
    return rows, extra


def _register_cost(cat: Catalog, n: int) -> float:
    """Mean ms of register_dataset (store upsert + live index update) into a catalog of n entries."""
    times = []
    for i in range(20):
        entry = DatasetEntry(f"raw_bench.new_{n}_{i}", "raw_stream", f"新增数据集{i}", f"new dataset {i}", "",
                             "gaj", "大竹县公安局", "conditional", "internal", [Column("id", "INTEGER")])
        started = time.perf_counter()
        cat.register_dataset(entry)
        times.append(time.perf_counter() - started)
    assert cat.search(f"raw_bench.new_{n}_19", limit=1)[0]["name"] == f"raw_bench.new_{n}_19"
    return round(statistics.fmean(times) * 1000, 2)


def _print(rows: list[dict[str, Any]], extras: dict[int, dict[str, float]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Catalog search: 200 labelled queries (zh, pinyin, initials, English, typos, names, facets)")
    for col in ("engine", "entries", "build s", "memory MB", "p50 ms", "p95 ms", "p99 ms", "top-3 %"):
        table.add_column(col, justify="left" if col == "engine" else "right")
    for r in rows:
        table.add_row(r["engine"], f"{r['entries']:,}", f"{r['build_s']:.2f}", f"{r['memory_mb']:.0f}",
                      f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['top3']:.1f}")
    console = Console(width=150)
    console.print(table)
    for n, extra in extras.items():
        console.print(f"{n:,} entries: " + ", ".join(f"{k}={v}" for k, v in extra.items()))


def main(flags: list[str]) -> None:
    """`python -m bench catalog [--quick]`: --quick runs 1k and 10k only."""
    sizes = QUICK_SIZES if "--quick" in flags else SIZES
    rows, extras = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp:
        for n in sizes:
            size_rows, extras[n] = bench_size(n, Path(tmp))
            rows += size_rows
            extras[n]["cold_p95_ms"] = size_rows[0]["cold_p95_ms"]
    _print(rows, extras)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"rows": rows, "extras": {str(k): v for k, v in extras.items()}}, indent=2))
    print(f"written {OUT}")
