"""A fresh process as the catalog server starts: import the web app, open the saved index, answer the queries.

`python -m bench.catalog_probe CATALOG_URL INDEX_DIR QUERIES.json` prints one JSON object: import and first-query
seconds, per-query times of a cold and a steady pass, the names each query found, and the resident memory."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(url: str, index_dir: str, queries_file: str) -> None:
    queries = json.loads(Path(queries_file).read_text(encoding="utf-8"))
    started = time.perf_counter()
    import countyhub.catalog.web  # noqa: F401 - what the server process holds in memory
    from countyhub.catalog import Catalog

    imported = time.perf_counter()
    rss_imported = rss_mb()
    cat = Catalog(url, index_dir=index_dir)
    first = queries[0]
    cat.query(first["q"], first["facets"], rows=20, facet_fields=())
    first_s = time.perf_counter() - imported
    passes = []
    found = []
    for _ in range(2):
        times = []
        found = []
        for q in queries:
            t0 = time.perf_counter()
            hits = cat.query(q["q"], q["facets"], rows=20, facet_fields=()).hits
            times.append(time.perf_counter() - t0)
            found.append([h["name"] for h in hits[:3]])
        passes.append(times)
    print(json.dumps({"import_s": imported - started, "first_query_s": first_s, "cold": passes[0],
                      "steady": passes[1], "found": found, "rss_mb": rss_mb(), "rss_imported_mb": rss_imported,
                      "opened_snapshot_documents": cat.index._docs.base}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
