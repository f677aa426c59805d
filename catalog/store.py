"""The catalog store: datasets, loads, gate runs and publications in one SQL database, with a live search index."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from catalog import tables as t
from catalog.masking import MASKED_CLASSIFICATIONS, mask_json, mask_rows, mask_text
from catalog.search import FACETS, SearchIndex, add_words, check_facets
from catalog.tables import as_utc, make_engine, row_dict, utc_naive

KINDS = ("raw_stream", "model", "published")
SHARING_TYPES = ("unconditional", "conditional", "not_shared")
CLASSIFICATIONS = ("public", "internal", "sensitive", "secret")
SUCCESS_STATUSES = frozenset({"success", "succeeded", "ok", "completed", "passed"})
GATE_HISTORY_LIMIT = 50
MAX_SAMPLE_ROWS = 20
_FACET_COLUMNS = {"department": "department_code"}


@dataclass
class Column:
    name: str
    type: str
    description: str = ""
    classification: str = "internal"


@dataclass
class DatasetEntry:
    name: str
    kind: str
    title_zh: str
    title_en: str
    description: str
    department_code: str
    department_name: str
    sharing_type: str
    classification: str
    columns: list[Column]
    upstream: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    update_cycle: str = ""
    contract: str = ""
    row_count: int | None = None
    sample_rows: list[dict] = field(default_factory=list)


def _validate(entry: DatasetEntry) -> None:
    for attr, allowed in (("kind", KINDS), ("sharing_type", SHARING_TYPES), ("classification", CLASSIFICATIONS)):
        if getattr(entry, attr) not in allowed:
            raise ValueError(f"dataset {entry.name!r}: {attr}={getattr(entry, attr)!r}, expected one of {allowed}")
    for col in entry.columns:
        if col.classification not in CLASSIFICATIONS:
            raise ValueError(f"dataset {entry.name!r} column {col.name!r}: classification {col.classification!r}")


class Catalog:
    """Every dataset of the county with its lineage, loads, gate runs and publications; searchable."""

    def __init__(self, url: str | None = None) -> None:
        if url is None:
            from countyhub.settings import load_settings

            url = load_settings().catalog_url
        self.url = url
        self.engine = make_engine(url)
        t.metadata.create_all(self.engine)
        self.index = SearchIndex()
        with self.engine.connect() as con:
            entries = [json.loads(row[0]) for row in con.execute(select(t.datasets.c.entry_json))]
        # Teach the segmenter every keyword first, so documents split the same whatever order they load in.
        add_words([k for e in entries for k in e.get("keywords", []) if isinstance(k, str)])
        for e in entries:
            self.index.add(e)

    def _upsert(self, table: Table, key: dict[str, Any], values: dict[str, Any]) -> None:
        """Portable upsert (no dialect-specific ON CONFLICT); one retry covers a concurrent insert."""
        where = and_(*(table.c[k] == v for k, v in key.items()))
        for attempt in range(2):
            try:
                with self.engine.begin() as con:
                    if con.execute(select(func.count()).select_from(table).where(where)).scalar():
                        con.execute(update(table).where(where).values(**values))
                    else:
                        con.execute(insert(table).values(**key, **values))
                return
            except IntegrityError:
                if attempt:
                    raise

    def register_dataset(self, entry: DatasetEntry) -> None:
        """Insert or replace a dataset by name; sample rows are masked before they are stored or indexed."""
        # Columns given as plain dicts (e.g. read from a contract) are accepted as well as Column objects.
        entry.columns = [Column(**c) if isinstance(c, dict) else c for c in entry.columns]
        _validate(entry)
        data = asdict(entry)
        levels = {c.name: c.classification for c in entry.columns}
        data["sample_rows"] = mask_rows(entry.sample_rows[:MAX_SAMPLE_ROWS], levels)
        data["description"] = mask_text(entry.description)
        now = datetime.now(UTC).replace(tzinfo=None)
        with self.engine.connect() as con:
            registered = con.execute(
                select(t.datasets.c.registered_at).where(t.datasets.c.name == entry.name)
            ).scalar()
        values = {k: data[k] for k in ("kind", "title_zh", "title_en", "department_code", "department_name",
                                       "sharing_type", "classification", "row_count")}
        values |= {"entry_json": json.dumps(data, ensure_ascii=False, default=str),
                   "registered_at": registered or now, "updated_at": now}
        self._upsert(t.datasets, {"name": entry.name}, values)
        self.index.add(data)

    def record_load(self, dataset: str, load_id: str, rows: int, status: str, started_at: datetime,
                    finished_at: datetime, message: str = "") -> None:
        """One connector run over a stream; the latest successful one is the dataset's freshness."""
        self._upsert(t.loads, {"dataset": dataset, "load_id": load_id},
                     {"rows": rows, "status": status, "started_at": utc_naive(started_at),
                      "finished_at": utc_naive(finished_at), "message": mask_text(message or "")})

    def record_gate_run(self, dataset: str, run_id: str, success: bool, reason: str, results: list[dict],
                        started_at: datetime, finished_at: datetime) -> None:
        """A contract gate run with its per-rule results (rule, column, expectation, observed, ...)."""
        sensitive = self._sensitive_columns(dataset)
        # Observed values of a failing rule are often offending rows: mask them like sample rows.
        safe = [mask_json(r) | {"observed": mask_json(r.get("observed"), whole=r.get("column") in sensitive)}
                for r in results]
        self._upsert(t.gate_runs, {"dataset": dataset, "run_id": run_id},
                     {"success": bool(success), "reason": mask_text(reason or ""),
                      "results_json": json.dumps(safe, ensure_ascii=False, default=str),
                      "started_at": utc_naive(started_at), "finished_at": utc_naive(finished_at)})

    def record_publication(self, dataset: str, version: int, snapshot_id: int, rows: int,
                           published_at: datetime) -> None:
        self._upsert(t.publications, {"dataset": dataset, "version": version},
                     {"snapshot_id": snapshot_id, "rows": rows, "published_at": utc_naive(published_at)})

    def _sensitive_columns(self, dataset: str) -> set[str]:
        entry = self._entry(dataset)
        cols = entry["columns"] if entry else []
        return {c["name"] for c in cols if c.get("classification") in MASKED_CLASSIFICATIONS}

    def _entry(self, name: str, con: Connection | None = None) -> dict[str, Any] | None:
        query = select(t.datasets).where(t.datasets.c.name == name)
        if con is None:
            with self.engine.connect() as own:
                row = own.execute(query).first()
        else:
            row = con.execute(query).first()
        if row is None:
            return None
        entry = json.loads(row.entry_json)
        entry.update(registered_at=as_utc(row.registered_at), updated_at=as_utc(row.updated_at))
        return entry

    def get(self, name: str) -> dict[str, Any] | None:
        """The entry with freshness, the latest gate run (with results), gate history and published version."""
        with self.engine.connect() as con:
            entry = self._entry(name, con)
            if entry is None:
                return None
            ld = t.loads.c
            latest_load = con.execute(select(t.loads).where(ld.dataset == name)
                                      .order_by(ld.finished_at.desc(), ld.id.desc()).limit(1)).first()
            last_ok = con.execute(select(t.loads).where(ld.dataset == name, ld.status.in_(SUCCESS_STATUSES))
                                  .order_by(ld.finished_at.desc(), ld.id.desc()).limit(1)).first()
            g = t.gate_runs.c
            runs = con.execute(select(t.gate_runs).where(g.dataset == name)
                               .order_by(g.started_at.desc(), g.id.desc()).limit(GATE_HISTORY_LIMIT)).all()
            p = t.publications.c
            pub = con.execute(select(t.publications).where(p.dataset == name)
                              .order_by(p.version.desc()).limit(1)).first()
        history = []
        for run in reversed(runs):
            results = json.loads(run.results_json)
            item = row_dict(run, "id", "results_json", "dataset")
            item |= {"results": results, "total_rules": len(results),
                     "passed_rules": sum(1 for r in results if r.get("success")),
                     "failed_rules": [r for r in results if not r.get("success")]}
            history.append(item)
        latest_gate = history[-1] if history else None
        entry |= {
            "latest_load": row_dict(latest_load, "id") if latest_load else None,
            "last_successful_load": row_dict(last_ok, "id") if last_ok else None,
            "freshness": as_utc(last_ok.finished_at) if last_ok else None,
            "latest_gate": latest_gate,
            "gate_status": gate_status(latest_gate["success"] if latest_gate else None),
            "gate_history": [{k: v for k, v in h.items() if k != "results"} for h in history],
            "publication": row_dict(pub, "id", "dataset") if pub else None,
            "published_version": pub.version if pub else None,
            "downstream": self.downstream(name),
        }
        return entry

    def downstream(self, name: str) -> list[str]:
        with self.engine.connect() as con:
            rows = con.execute(select(t.datasets.c.name, t.datasets.c.entry_json)).all()
        return sorted(r.name for r in rows if name in json.loads(r.entry_json).get("upstream", []))

    def datasets(self, **facets: Any) -> list[dict[str, Any]]:
        """Summaries of every dataset matching the facets (department, sharing_type, kind, classification)."""
        check_facets(facets)
        d = t.datasets.c
        query = select(d.name, d.kind, d.title_zh, d.title_en, d.department_code, d.department_name,
                       d.sharing_type, d.classification, d.row_count, d.updated_at, d.entry_json)
        for key, wanted in facets.items():
            if wanted not in (None, "", [], ()):
                col = d[_FACET_COLUMNS.get(key, key)]
                query = query.where(col == wanted if isinstance(wanted, str) else col.in_(list(wanted)))
        with self.engine.connect() as con:
            rows = con.execute(query.order_by(d.name)).all()
        status = self.gate_statuses()
        fresh = self.freshness()
        out = []
        for r in rows:
            item = row_dict(r, "entry_json")
            item |= {"description": json.loads(r.entry_json).get("description", ""),
                     "department": r.department_code, "gate_status": status.get(r.name, "not_gated"),
                     "freshness": fresh.get(r.name)}
            out.append(item)
        return out

    def _latest(self, table: Table, time_col: str, value_col: str, where: Any = None) -> dict[str, Any]:
        """{dataset: value of the latest row} in one query, for list pages."""
        c = table.c
        inner = select(c.dataset, func.max(c[time_col]).label("ts")).group_by(c.dataset)
        if where is not None:
            inner = inner.where(where)
        sub = inner.subquery()
        query = select(c.dataset, c[value_col]).join(sub, and_(c.dataset == sub.c.dataset, c[time_col] == sub.c.ts))
        if where is not None:
            query = query.where(where)
        with self.engine.connect() as con:
            return {r[0]: r[1] for r in con.execute(query)}

    def gate_statuses(self) -> dict[str, str]:
        """{dataset: passed | failed} from each dataset's latest gate run."""
        return {k: gate_status(v) for k, v in self._latest(t.gate_runs, "started_at", "success").items()}

    def freshness(self) -> dict[str, datetime]:
        """{dataset: finish time of its last successful load}."""
        ok = t.loads.c.status.in_(SUCCESS_STATUSES)
        return {k: as_utc(v) for k, v in self._latest(t.loads, "finished_at", "finished_at", ok).items()}

    def search(self, q: str, limit: int = 20, **facets: Any) -> list[dict[str, Any]]:
        """Ranked hits: name, title_zh, title_en, department (code), department_name, sharing_type, kind, score."""
        return self.index.search(q, limit=limit, **facets)

    def departments(self) -> list[dict[str, Any]]:
        """Each department that owns a dataset, with how many it owns."""
        d = t.datasets.c
        query = (select(d.department_code, func.max(d.department_name), func.count())
                 .group_by(d.department_code).order_by(d.department_code))
        with self.engine.connect() as con:
            return [{"code": c, "name": n, "datasets": k} for c, n, k in con.execute(query)]


def gate_status(success: bool | None) -> str:
    return "not_gated" if success is None else ("passed" if success else "failed")


__all__ = ["CLASSIFICATIONS", "FACETS", "KINDS", "SHARING_TYPES", "Catalog", "Column", "DatasetEntry"]
