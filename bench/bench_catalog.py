"""Catalog search benchmark: 1k/10k/100k entries, a fresh process on the saved index, two labelled query sets
(title-derived and county staff's words), side by side with LIKE '%…%' scans."""

from __future__ import annotations

import gc
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench import catalog_fts5
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


def _probe(module: str, args: list[str], queries: list[Labelled], workdir: Path) -> dict[str, Any]:
    """Run the queries in a fresh process (`python -m bench.<module> ARGS QUERIES.json`), as a server or CLI would
    after a restart."""
    qfile = workdir / "queries.json"
    qfile.write_text(json.dumps([{"q": q.q, "facets": q.facets} for q in queries], ensure_ascii=False))
    out = subprocess.run([sys.executable, "-m", f"bench.{module}", *args, str(qfile)],
                         capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    return json.loads(out.stdout)


def _fts5_row(entries: list[dict[str, Any]], titled: list[Labelled], staff: list[Labelled], n: int,
              workdir: Path) -> dict[str, Any]:
    """The measured alternative store: the same terms in SQLite FTS5, ranked by its weighted bm25."""
    path = workdir / f"fts5_{n}.sqlite"
    build = catalog_fts5.build(entries, path)
    probe = _probe("catalog_fts5", [str(path)], titled + staff, workdir)
    steady = probe["steady"]
    return {"engine": "SQLite FTS5, same terms (fresh process)", "entries": n, "build_s": round(build, 2),
            "index_mb": round(path.stat().st_size / 2**20, 1), "first_query_s": round(probe["first_query_s"], 3),
            "p50_ms": round(_pct(steady, 50), 2), "p95_ms": round(_pct(steady, 95), 2),
            "p99_ms": round(_pct(steady, 99), 2), "rss_growth_mb": round(probe["rss_mb"] - probe["rss_imported_mb"]),
            "top3": round(_top3(titled, probe["found"][: len(titled)])[0], 1),
            "top3_staff": round(_top3(staff, probe["found"][len(titled):])[0], 1)}


def _top3(queries: list[Labelled], found: list[list[str]]) -> tuple[float, dict[str, float]]:
    by_kind: dict[str, list[bool]] = {}
    for q, names in zip(queries, found, strict=True):
        by_kind.setdefault(q.kind, []).append(q.expected in names)
    hits = [ok for oks in by_kind.values() for ok in oks]
    return 100 * sum(hits) / len(hits), {k: round(100 * sum(v) / len(v), 1) for k, v in by_kind.items()}


def _disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def bench_size(n: int, workdir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    entries = generate(n)
    titled = labelled_queries(entries[:1000])
    staff = staff_queries(entries[:1000])
    url = f"sqlite:///{workdir / f'catalog_{n}.sqlite'}"
    index_dir = workdir / f"index_{n}"
    store_s = _fill_store(url, entries)
    tokenize("户籍人口 warm-up")  # load jieba's dictionary first: it is shared by any index, not part of one
    gc.collect()
    before = _rss_mb()
    started = time.perf_counter()
    cat = Catalog(url, index_dir=index_dir)
    cat.index  # noqa: B018 - what every process paid before the index was saved: read every entry, index it
    build = time.perf_counter() - started
    build_mem = _rss_mb() - before
    probe = _probe("catalog_probe", [url, str(index_dir)], titled + staff, workdir)
    steady = probe["steady"]
    top3_titled, kinds = _top3(titled, probe["found"][: len(titled)])
    top3_staff, staff_kinds = _top3(staff, probe["found"][len(titled):])
    ours = {"engine": "countyhub (saved index, fresh process)", "entries": n, "build_s": round(build, 2),
            "build_memory_mb": round(build_mem, 1), "index_mb": round(_disk_mb(index_dir), 1),
            "first_query_s": round(probe["first_query_s"], 3), "import_s": round(probe["import_s"], 2),
            "p50_ms": round(_pct(steady, 50), 2), "p95_ms": round(_pct(steady, 95), 2),
            "p99_ms": round(_pct(steady, 99), 2), "cold_p95_ms": round(_pct(probe["cold"], 95), 2),
            "rss_mb": round(probe["rss_mb"]), "rss_after_import_mb": round(probe["rss_imported_mb"]),
            "rss_growth_mb": round(probe["rss_mb"] - probe["rss_imported_mb"]),
            "top3": round(top3_titled, 1), "top3_staff": round(top3_staff, 1)}
    rows = [ours, _fts5_row([{k: v for k, v in e.items() if k != "_meta"} for e in entries], titled, staff, n,
                            workdir)]
    started = time.perf_counter()
    con = _like_db(entries)
    like_build = time.perf_counter() - started
    pages = con.execute("PRAGMA page_count").fetchone()[0] * con.execute("PRAGMA page_size").fetchone()[0]
    for label, per_word in (("LIKE, whole string", False), ("LIKE, every word", True)):
        t, f = _run(titled, lambda q, pw=per_word: _like(con, q, pw))
        _, fs = _run(staff, lambda q, pw=per_word: _like(con, q, pw))
        rows.append(_row(label, n, like_build, pages / 2**20, t, f) | {"top3_staff": round(100 * sum(fs) / len(fs), 1)})
    con.close()
    extra = {"store_bulk_load_s": round(store_s, 2), "register_ms": _register_cost(cat, n)}
    extra |= {f"top3_{k}": v for k, v in kinds.items()} | {f"staff_{k}": v for k, v in staff_kinds.items()}
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


def _print(rows: list[dict[str, Any]], extras: dict[int, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=170)
    ours = Table(title="Catalog search: a fresh process on the saved index (200 title-derived + staff queries)")
    for col in ("entries", "build s (once)", "index MB", "first query s", "p50 ms", "p95 ms", "p99 ms",
                "RSS MB", "top-3 titles %", "top-3 staff %"):
        ours.add_column(col, justify="right")
    for r in rows:
        if r["engine"].startswith("countyhub"):
            ours.add_row(f"{r['entries']:,}", f"{r['build_s']:.1f}", f"{r['index_mb']:.1f}", f"{r['first_query_s']:.3f}",
                         f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['rss_mb']:.0f}",
                         f"{r['top3']:.1f}", f"{r['top3_staff']:.1f}")
    console.print(ours)
    console.print("build s: what every process paid before the index was saved (read every entry, tokenize it); "
                  "first query s: a fresh process opening the saved index and answering, after its imports; "
                  "RSS: that process, holding the web app's imports, after all queries.")
    side = Table(title="Side by side, same queries: SQLite FTS5 holding our terms (the store we measured against "
                       "ours), and LIKE '%…%' scans")
    for col in ("engine", "entries", "index MB", "first query s", "RSS growth MB", "p50 ms", "p95 ms",
                "top-3 titles %", "top-3 staff %"):
        side.add_column(col, justify="left" if col == "engine" else "right")

    def opt(r: dict[str, Any], key: str, fmt: str) -> str:
        return format(r[key], fmt) if key in r else "—"

    for r in rows:
        side.add_row(r["engine"], f"{r['entries']:,}", opt(r, "index_mb", ".1f"), opt(r, "first_query_s", ".3f"),
                     opt(r, "rss_growth_mb", ".0f"), f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}", f"{r['top3']:.1f}",
                     f"{r['top3_staff']:.1f}")
    console.print(side)
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
            extras[n] |= {k: size_rows[0][k] for k in ("cold_p95_ms", "import_s", "build_memory_mb",
                                                        "rss_after_import_mb")}
    _print(rows, extras)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"rows": rows, "extras": {str(k): v for k, v in extras.items()}}, indent=2))
    print(f"written {OUT}")
