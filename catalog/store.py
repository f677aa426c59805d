"""The catalog store: datasets in one SQL database, with a live in-process search index kept in step with it."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from countyhub.catalog import snapshot
from countyhub.catalog import tables as t
from countyhub.catalog.entry import (
    KINDS,
    Column,
    DatasetEntry,
    coerce_columns,
    fill_defaults,
    validate,
)
from countyhub.catalog.facets import FACETS, check_facets, matches_facets
from countyhub.catalog.records import SUCCESS_STATUSES, Records, gate_status
from countyhub.catalog.search import SearchIndex, SearchResult, entry_terms, zone_of
from countyhub.catalog.synonyms import Synonyms
from countyhub.catalog.tables import make_engine, row_dict
from countyhub.catalog.text import add_words
from countyhub.core.masking import mask_rows, mask_text
from countyhub.core.vocab import CLASSIFICATIONS, SHARING_TYPES

MAX_SAMPLE_ROWS = 20
log = logging.getLogger(__name__)


def _resnapshot_at(documents: int) -> int:
    """Documents indexed since the snapshot past which a new one is written: each costs a re-tokenization at
    every process start until then."""
    return max(200, documents // 20)
_FACET_COLUMNS = {"department": "department_code"}
_SQL_FACETS = ("department", "sharing_type", "kind", "classification")


class Catalog(Records):
    """Every dataset of the county with its lineage, loads, gate runs and publications; searchable."""

    def __init__(self, url: str, index_dir: Path | None = None, vocabulary: Path | None = None) -> None:
        """`index_dir` keeps the search index on disk (opened in well under a second, updated from the change log);
        without it the index lives in memory. `vocabulary` is the county's own search-word file, if any."""
        self.url = url
        self.engine = make_engine(url)
        t.upgrade(self.engine)
        self.index_dir = Path(index_dir) if index_dir is not None else None
        self.vocabulary = Path(vocabulary) if vocabulary is not None else None
        self._index: SearchIndex | None = None
        self._index_lock = threading.Lock()
        self._sync_lock = threading.RLock()
        self._own_changes: set[int] = set()
        self._last_change = 0

    @property
    def index(self) -> SearchIndex:
        """The search index, opened on first use: a run that only writes never pays for it."""
        with self._index_lock:
            if self._index is None:
                self._index = self._open_index()
            # An edited vocabulary applies to the next query.
            self._index.synonyms = Synonyms.load(self.vocabulary, self.index_dir)
            return self._index

    def _open_index(self) -> SearchIndex:
        for attempt in range(2):  # a second look: another process may have just replaced the snapshot we read
            found = snapshot.current(self.index_dir) if self.index_dir is not None else None
            if found is None or not self._stamp_holds(found[1]):
                break
            try:
                index = snapshot.open_index(found[0])
            except (OSError, ValueError, KeyError) as exc:  # damaged or half-deleted: it is only a cache
                if attempt:
                    log.warning("search index %s unreadable (%s); rebuilding it from the catalog", found[0], exc)
                continue
            self._last_change = found[1]["change"]
            self._own_changes.clear()
            self._catch_up(index)
            return self._persist(index) if index._docs.size - index._docs.base > _resnapshot_at(len(index)) else index
        return self._persist(self._build_index())

    def _stamp_holds(self, stamp: dict[str, Any]) -> bool:
        """The snapshot was made from this catalog: its last change is still there, at the same time."""
        if not stamp.get("change"):
            return True
        with self.engine.connect() as con:
            at = con.execute(select(t.changes.c.at).where(t.changes.c.id == stamp["change"])).scalar()
        return at is not None and at.isoformat() == stamp.get("change_at")

    def _persist(self, index: SearchIndex) -> SearchIndex:
        """Write the index as the current snapshot and read it back from there (postings then live in the page
        cache, not the heap). Without an index folder the in-memory index is kept as it is."""
        if self.index_dir is None:
            return index
        with self.engine.connect() as con:
            at = con.execute(select(t.changes.c.at).where(t.changes.c.id == self._last_change)).scalar()
        stamp = {"change": self._last_change, "change_at": at.isoformat() if at else None}
        try:
            folder = snapshot.write(index, self.index_dir, stamp)
        except OSError as exc:  # a read-only or full disk costs speed at the next start, never a search
            log.warning("search index not saved to %s: %s", self.index_dir, exc.strerror or exc)
            return index
        return snapshot.open_index(folder)

    def _build_index(self) -> SearchIndex:
        index = SearchIndex()
        with self.engine.connect() as con:
            self._last_change = con.execute(select(func.coalesce(func.max(t.changes.c.id), 0))).scalar()
            rows = con.execute(select(t.datasets.c.entry_json, t.datasets.c.search_terms)).all()
        entries = [json.loads(row.entry_json) for row in rows]
        terms = [json.loads(row.search_terms) if row.search_terms else None for row in rows]
        self._own_changes.clear()
        # Teach the segmenter every keyword first, so documents split the same whatever order they load in.
        add_words([k for e in entries for k in e.get("keywords", []) + e.get("themes", []) if isinstance(k, str)])
        statuses = self.index_statuses()
        for e, stored in zip(entries, terms, strict=True):
            index.add(e, statuses.get(e["name"]), stored)
        return index

    def register_dataset(self, entry: DatasetEntry) -> None:
        """Insert or replace a dataset by name; sample rows are masked before they are stored or indexed."""
        entry.columns = coerce_columns(entry.columns)
        now = datetime.now(UTC).replace(tzinfo=None)
        with self.engine.connect() as con:
            previous = con.execute(select(t.datasets.c.registered_at, t.datasets.c.entry_json,
                                          t.datasets.c.search_terms).where(t.datasets.c.name == entry.name)).first()
        if previous is not None and not entry.issued:
            entry.issued = json.loads(previous.entry_json).get("issued", "")
        fill_defaults(entry, now.replace(tzinfo=UTC).isoformat(timespec="seconds"))
        validate(entry)
        data = asdict(entry)
        levels = {c.name: c.classification for c in entry.columns}
        data["sample_rows"] = mask_rows(entry.sample_rows[:MAX_SAMPLE_ROWS], levels)
        # Every free text that is stored, indexed or served: an ID number or phone typed into any of them
        # (a column description's example, a keyword) must not reach the search index or a response.
        for key in ("description", "contact", "steward", "sharing_conditions", "legal_basis", "title_zh", "title_en"):
            data[key] = mask_text(data[key])
        data["keywords"] = [mask_text(k) for k in data["keywords"]]
        data["themes"] = [mask_text(k) for k in data["themes"]]
        for column in data["columns"]:
            column["description"] = mask_text(column["description"])
        if previous is not None and previous.search_terms is not None and _same_entry(data, previous.entry_json):
            return  # a daily run re-registers what did not change: no write, no re-indexing, no change-log line
        values = {k: data[k] for k in ("kind", "title_zh", "title_en", "department_code", "department_name",
                                       "sharing_type", "classification", "row_count")}
        terms = entry_terms(data)  # tokenized once here, so no search process has to load the dictionaries
        values |= {"entry_json": json.dumps(data, ensure_ascii=False, default=str),
                   "search_terms": json.dumps(terms, ensure_ascii=False),
                   "registered_at": previous.registered_at if previous else now, "updated_at": now}
        self._upsert(t.datasets, {"name": entry.name}, values)
        self._changed(entry.name, "entry")
        if self._index is not None:
            self._index.add(data, self.index_statuses(entry.name).get(entry.name), terms)

    def _changed(self, dataset: str, what: str) -> None:
        with self.engine.begin() as con:
            key = con.execute(insert(t.changes).values(
                dataset=dataset, what=what, at=datetime.now(UTC).replace(tzinfo=None))).inserted_primary_key
        self._own_changes.add(key[0])

    def sync(self) -> int:
        """Catch the index up with writes made by other processes since the last sync; returns datasets touched."""
        if self._index is None:
            return 0  # nothing indexed yet: the first search reads everything as it is now
        touched = self._catch_up(self._index)
        index = self._index
        if self.index_dir is not None and index._docs.size - index._docs.base > _resnapshot_at(len(index)):
            with self._index_lock:
                self._index = self._persist(index)
        return touched

    def _catch_up(self, index: SearchIndex) -> int:
        with self._sync_lock:
            c = t.changes.c
            with self.engine.connect() as con:
                rows = con.execute(select(c.id, c.dataset, c.what).where(c.id > self._last_change)
                                   .order_by(c.id)).all()
            if not rows:
                return 0
            self._last_change = rows[-1].id
            foreign = [r for r in rows if r.id not in self._own_changes]
            self._own_changes.difference_update(r.id for r in rows)
            entries = {r.dataset for r in foreign if r.what == "entry"}
            touched = {r.dataset for r in foreign}
            if entries:
                d = t.datasets.c
                with self.engine.connect() as con:
                    found = con.execute(select(d.entry_json, d.search_terms).where(d.name.in_(sorted(entries)))).all()
                for row in found:
                    index.add(json.loads(row.entry_json), None,
                              json.loads(row.search_terms) if row.search_terms else None)
            statuses = self.index_statuses(*touched) if touched else {}
            for name, status in statuses.items():
                index.set_status(name, **status)
            return len(touched)

    def get_entry(self, name: str) -> dict[str, Any] | None:
        with self.engine.connect() as con:
            row = con.execute(select(t.datasets).where(t.datasets.c.name == name)).first()
        if row is None:
            return None
        entry = json.loads(row.entry_json)
        entry.update(registered_at=_utc(row.registered_at), updated_at=_utc(row.updated_at))
        return entry

    def entries(self) -> list[dict[str, Any]]:
        """Every stored entry (masked as stored), for exports."""
        with self.engine.connect() as con:
            return [json.loads(r[0]) for r in con.execute(select(t.datasets.c.entry_json).order_by(t.datasets.c.name))]

    def get(self, name: str) -> dict[str, Any] | None:
        """The entry with freshness, the latest gate run (with results), gate history and published version."""
        entry = self.get_entry(name)
        if entry is None:
            return None
        entry |= self.activity(name)
        pub = entry["publication"]
        if pub and pub["published_at"].isoformat() > str(entry.get("modified", "")):
            entry["modified"] = pub["published_at"].isoformat(timespec="seconds")
        entry["downstream"] = self.downstream(name)
        entry["usage"] = self.usage(name)
        return entry

    def downstream(self, name: str) -> list[str]:
        """Datasets built directly from this one (table-level lineage)."""
        with self.engine.connect() as con:
            rows = con.execute(select(t.datasets.c.name, t.datasets.c.entry_json)
                               .where(t.datasets.c.entry_json.contains(json.dumps(name)))).all()
        return sorted(r.name for r in rows if name in json.loads(r.entry_json).get("upstream", []))

    def lineage_graph(self, name: str, depth: int = 6) -> dict[str, list[str]]:
        """{dataset: its upstream} for every ancestor and descendant of `name`, for the lineage picture."""
        with self.engine.connect() as con:
            ups = {r.name: json.loads(r.entry_json).get("upstream", [])
                   for r in con.execute(select(t.datasets.c.name, t.datasets.c.entry_json))}
        downs: dict[str, list[str]] = {}
        for n, us in ups.items():
            for u in us:
                downs.setdefault(u, []).append(n)
        keep = {name}
        for step in (lambda n: ups.get(n, []), lambda n: downs.get(n, [])):
            frontier = {name}
            for _ in range(depth):
                frontier = {m for n in frontier for m in step(n)} - keep
                keep |= frontier
        return {n: [u for u in ups.get(n, []) if u in keep] for n in sorted(keep)}

    def datasets(self, **facets: Any) -> list[dict[str, Any]]:
        """Summaries of every dataset matching the facets, with gate status and freshness."""
        check_facets(facets)
        d = t.datasets.c
        query = select(d.name, d.kind, d.title_zh, d.title_en, d.department_code, d.department_name,
                       d.sharing_type, d.classification, d.row_count, d.updated_at, d.entry_json)
        for key, wanted in facets.items():
            if key in _SQL_FACETS and wanted not in (None, "", [], ()):
                col = d[_FACET_COLUMNS.get(key, key)]
                query = query.where(col == wanted if isinstance(wanted, str) else col.in_(list(wanted)))
        with self.engine.connect() as con:
            rows = con.execute(query.order_by(d.name)).all()
        status, fresh = self.gate_statuses(), self.freshness()
        out = []
        for r in rows:
            entry = json.loads(r.entry_json)
            item = row_dict(r, "entry_json") | {k: entry.get(k) for k in (
                "description", "resource_code", "resource_class", "themes", "update_cycle", "steward")}
            item |= {"department": r.department_code, "zone": zone_of(r.name),
                     "gate_status": status.get(r.name, "not_gated"),
                     "freshness": fresh.get(r.name)}
            if matches_facets(item, {k: v for k, v in facets.items() if k not in _SQL_FACETS}):
                out.append(item)
        return out

    def search(self, q: str, limit: int = 20, sort: str = "relevance", **facets: Any) -> list[dict[str, Any]]:
        """Ranked hits: name, title_zh, title_en, department (code), department_name, sharing_type, kind, score."""
        self.sync()
        return self.index.search(q, limit=limit, sort=sort, **facets)

    def query(self, q: str = "", facets: dict[str, Any] | None = None, sort: str = "relevance", start: int = 0,
              rows: int | None = 20, facet_fields: tuple[str, ...] = FACETS, drill_down: bool = True,
              may_see: Callable[[str, str, str], bool] | None = None) -> SearchResult:
        """Hits, total and facet counts in one call (what the search page and CKAN's package_search need);
        `may_see(zone, department, sharing_type)` keeps only what the caller may see."""
        self.sync()
        return self.index.query(q, facets, sort=sort, start=start, rows=rows, facet_fields=facet_fields,
                                drill_down=drill_down, may_see=may_see)

    def departments(self) -> list[dict[str, Any]]:
        """Each department that owns a dataset, with how many it owns."""
        d = t.datasets.c
        query = (select(d.department_code, func.max(d.department_name), func.count())
                 .group_by(d.department_code).order_by(d.department_code))
        with self.engine.connect() as con:
            return [{"code": c, "name": n, "datasets": k} for c, n, k in con.execute(query)]


def _utc(ts: datetime | None) -> datetime | None:
    return ts.replace(tzinfo=UTC) if ts is not None else None


__all__ = ["CLASSIFICATIONS", "FACETS", "KINDS", "SHARING_TYPES", "SUCCESS_STATUSES", "Catalog", "Column",
           "DatasetEntry", "gate_status"]


def _same_entry(data: dict[str, Any], stored_json: str) -> bool:
    """Whether an entry about to be stored says what the stored one says (its `modified` stamp aside)."""
    stored = json.loads(stored_json)
    fresh = json.loads(json.dumps(data, ensure_ascii=False, default=str))
    return {**fresh, "modified": stored.get("modified")} == stored
