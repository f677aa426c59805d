"""The search index on disk: one folder of flat arrays per snapshot, written whole and switched to atomically."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from countyhub.catalog.doctable import MULTI, SINGLE, DocTable
from countyhub.catalog.postings import save_postings
from countyhub.catalog.search import SearchIndex
from countyhub.catalog.strings import StringTable
from countyhub.catalog.text import HAN, query_words, use_query_words

# Bump when the index terms or the file layout change: an older snapshot is then rebuilt, never misread.
FORMAT = 3
CURRENT = "CURRENT"
KEEP_OLD_S = 300  # a process may still be opening the previous snapshot; older ones are removed


def current(root: Path) -> tuple[Path, dict[str, Any]] | None:
    """The live snapshot folder and its stamp, or None when there is none of this format."""
    try:
        folder = root / (root / CURRENT).read_text(encoding="utf-8").strip()
        stamp = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return (folder, stamp) if stamp.get("format") == FORMAT else None


def open_index(folder: Path) -> SearchIndex:
    """The index saved in `folder`; queries are split with its own words until the full dictionary is needed."""
    index = SearchIndex(folder)
    use_query_words(json.loads((folder / "words.json").read_text(encoding="utf-8")))
    return index


def write(index: SearchIndex, root: Path, stamp: dict[str, Any]) -> Path:
    """Write every live document of `index` as a new snapshot and make it the current one; returns its folder.
    Readers of the previous snapshot keep their mapped files (unlinking does not unmap them)."""
    root.mkdir(parents=True, exist_ok=True)
    folder = root / f"snap-{time.time_ns()}-{os.getpid()}"
    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir()
    with index._lock:
        docs = index._docs
        live = np.flatnonzero(docs.alive[: docs.size])
        remap = np.full(docs.size, -1, dtype=np.int64)
        remap[live] = np.arange(len(live))
        _write_docs(tmp, docs, live, remap)
        terms, term_of, doc_of, impacts = index._postings.term_ids()
        keep = docs.alive[doc_of] if len(doc_of) else np.zeros(0, dtype=bool)
        save_postings(tmp, terms, term_of[keep], remap[doc_of[keep]], impacts[keep])
    words = query_words(t for t in terms if HAN.search(t))
    (tmp / "words.json").write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
    (tmp / "index.json").write_text(json.dumps({"format": FORMAT, "documents": len(live)} | stamp), encoding="utf-8")
    tmp.rename(folder)
    pointer = root / f"{CURRENT}.{os.getpid()}.tmp"
    pointer.write_text(folder.name, encoding="utf-8")
    os.replace(pointer, root / CURRENT)
    _remove_old(root, keep=folder.name)
    return folder


def _write_docs(folder: Path, docs: DocTable, live: np.ndarray, remap: np.ndarray) -> None:
    names = [docs.name(d) for d in live.tolist()]
    StringTable.build(names).save(folder, "names")
    StringTable.build(_meta_json(docs, d) for d in live.tolist()).save(folder, "meta")
    by_name = sorted(range(len(names)), key=names.__getitem__)
    StringTable.build(names[i] for i in by_name).save(folder, "names_sorted")
    np.save(folder / "name_order.npy", np.array(by_name, dtype=np.int32))
    shorts = [n.lower().rsplit(".", 1)[-1] for n in names]
    by_short = sorted(range(len(names)), key=shorts.__getitem__)
    StringTable.build(shorts[i] for i in by_short).save(folder, "short")
    np.save(folder / "short_order.npy", np.array(by_short, dtype=np.int32))
    arrays = {"alive": np.ones(len(live), dtype=bool), "fresh": docs.fresh[live], "rank": docs.rank[live]}
    arrays |= {f"code_{f}": docs.codes[f][live] for f in SINGLE}
    for facet in MULTI:
        pair_docs, pair_vals = docs._pairs(facet)
        keep = docs.alive[pair_docs]
        arrays[f"pair_doc_{facet}"] = remap[pair_docs[keep]].astype(np.int32)
        arrays[f"pair_val_{facet}"] = pair_vals[keep]
    np.savez(folder / "docs.npz", **arrays)
    info = {"documents": len(live), "values": docs.value_list}
    (folder / "docs.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")


def _meta_json(docs: DocTable, doc: int) -> str:
    if doc < docs.base and doc not in docs.status:
        return docs._meta[doc]  # unchanged since the last snapshot: copied without decoding
    meta = docs.meta(doc)
    fresh = meta.get("freshness")
    return json.dumps(meta | {"freshness": fresh.isoformat() if fresh else None}, ensure_ascii=False)


def _remove_old(root: Path, keep: str) -> None:
    cutoff = time.time() - KEEP_OLD_S
    for path in root.glob("snap-*"):
        if path.name != keep and path.stat().st_mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)
