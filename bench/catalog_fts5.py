"""SQLite FTS5 as the catalog search contender: our own index terms in an FTS5 table, ranked by weighted bm25."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from countyhub.catalog.search import FIELD_WEIGHTS, _fields
from countyhub.catalog.text import HAN, add_words, query_words, tokenize, use_query_words

FIELDS = tuple(FIELD_WEIGHTS)  # name, title, keywords, department, description, columns: bm25 weights in this order
FACET_COLUMNS = {"department": "department_code", "classification": "classification", "kind": "kind"}
# Terms hold Chinese, Latin, digits, '_' and '.' (shared.resident_profile): unicode61 keeps letters and digits,
# tokenchars keeps the name punctuation, and a space-joined column of terms is split back into exactly those terms.
TOKENIZER = "unicode61 remove_diacritics 0 tokenchars '_.'"
ROOT = Path(__file__).resolve().parents[1]


def _taught(entries: list[dict[str, Any]]) -> list[str]:
    return sorted({k for e in entries for k in e.get("keywords", []) + e.get("themes", []) if isinstance(k, str)})


def rows(entries: list[dict[str, Any]]) -> tuple[list[tuple[str, ...]], set[str]]:
    """One row per entry (each field's terms space-joined, a term repeated tf times, then the facet columns) and
    the set of all terms. Keywords are taught to the segmenter first, as SearchIndex.add does."""
    add_words(_taught(entries))
    out, vocab = [], set()
    for e in entries:
        fields = _fields(e)
        cols = []
        for f in FIELDS:
            vocab.update(fields[f])
            cols.append(" ".join(t for term, tf in fields[f].items() for t in [term] * tf))
        out.append((*cols, e["name"], e.get("department_code", ""), e.get("classification", ""), e.get("kind", "")))
    return out, vocab


def write(table: list[tuple[str, ...]], vocab: set[str], path: Path) -> None:
    """The SQLite file: the FTS5 table (merged into one b-tree) and the words a query process splits with."""
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
    unindexed = ", ".join(f"{c} UNINDEXED" for c in ("dataset", *FACET_COLUMNS.values()))
    con.execute(f"CREATE VIRTUAL TABLE docs USING fts5({', '.join(FIELDS)}, {unindexed}, tokenize = \"{TOKENIZER}\")")
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    with con:
        con.executemany(f"INSERT INTO docs VALUES ({', '.join('?' * (len(FIELDS) + 4))})", table)
        con.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        # As the saved index does: the Han words a query needs, so a search process skips jieba's full dictionary.
        words = query_words(t for t in vocab if HAN.search(t))  # with the taught keywords
        con.execute("INSERT INTO meta VALUES ('words', ?)", (json.dumps(words, ensure_ascii=False),))
    con.execute("VACUUM")
    con.close()


def build(entries: list[dict[str, Any]], path: Path) -> float:
    """Tokenize the entries with our terms and write them to an FTS5 file at `path`; returns seconds."""
    started = time.perf_counter()
    table, vocab = rows(entries)
    write(table, vocab, path)
    return time.perf_counter() - started


def open_db(path: Path) -> sqlite3.Connection:
    """A read-only connection; queries are split with the file's own words, as the saved index does."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    (words,) = con.execute("SELECT value FROM meta WHERE key = 'words'").fetchone()
    use_query_words(json.loads(words))
    return con


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def search(con: sqlite3.Connection, q: str, facets: dict[str, Any] | None = None, limit: int = 20) -> list[str]:
    """Names of the best `limit` datasets: the query's terms OR-ed in one FTS5 MATCH, ranked by bm25 with our
    field weights, facets (department, classification, kind: a value or a list) as WHERE on unindexed columns.
    Plain FTS5 on purpose: no typo or prefix fallbacks, no synonyms, no exact-name boost, no published prior."""
    terms = list(dict.fromkeys(tokenize(q.lower(), pinyin=False, query=True)))
    if not terms:
        return []
    where, params = ["docs MATCH ?"], [" OR ".join(_phrase(t) for t in terms)]
    for key, value in (facets or {}).items():
        if value in (None, "", [], ()):
            continue
        if key not in FACET_COLUMNS:
            raise ValueError(f"facet {key!r} is not stored; stored: {', '.join(FACET_COLUMNS)}")
        values = [value] if isinstance(value, str) else list(value)
        where.append(f"{FACET_COLUMNS[key]} IN ({', '.join('?' * len(values))})")
        params += values
    weights = ", ".join(str(FIELD_WEIGHTS[f]) for f in FIELDS)
    sql = f"SELECT dataset FROM docs WHERE {' AND '.join(where)} ORDER BY bm25(docs, {weights}) LIMIT ?"
    return [r[0] for r in con.execute(sql, [*params, limit])]


def first_query_seconds(path: Path, q: str) -> float:
    """Seconds a fresh process takes, after its imports, to open the file and answer `q`."""
    code = ("import sys, time\nfrom pathlib import Path\nfrom bench.catalog_fts5 import open_db, search\n"
            "t = time.perf_counter()\nsearch(open_db(Path(sys.argv[1])), sys.argv[2], {})\n"
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code, str(path), q], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    return float(out.stdout.strip())


def _rss_mb(key: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def probe(path: Path, queries_file: Path) -> dict[str, Any]:
    """In this process: open the file, answer the queries ({q, facets} list) twice; like bench/catalog_probe.py."""
    queries = json.loads(queries_file.read_text(encoding="utf-8"))
    rss_imported = _rss_mb()
    started = time.perf_counter()
    con = open_db(path)
    search(con, queries[0]["q"], queries[0]["facets"])
    first_s = time.perf_counter() - started
    passes, found = [], []
    for _ in range(2):
        times, found = [], []
        for q in queries:
            t0 = time.perf_counter()
            found.append(search(con, q["q"], q["facets"])[:3])
            times.append(time.perf_counter() - t0)
        passes.append(times)
    return {"first_query_s": first_s, "cold": passes[0], "steady": passes[1], "found": found,
            "rss_imported_mb": rss_imported, "rss_mb": _rss_mb(), "peak_rss_mb": _rss_mb("VmHWM")}


if __name__ == "__main__":  # python -m bench.catalog_fts5 FILE.sqlite QUERIES.json -> one JSON object
    print(json.dumps(probe(Path(sys.argv[1]), Path(sys.argv[2])), ensure_ascii=False))
