"""What happens to a dataset over time: loads, gate runs, publications and usage, as a mixin of Catalog."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from countyhub.catalog import tables as t
from countyhub.catalog.lineage_store import LineageStore
from countyhub.catalog.quality import QualityStore, clean_extra, describe_run, run_status
from countyhub.catalog.tables import as_utc, row_dict, utc_naive
from countyhub.core.masking import MASKED_CLASSIFICATIONS, mask_json, mask_rows, mask_text

SUCCESS_STATUSES = frozenset({"success", "succeeded", "ok", "completed", "passed"})
GATE_HISTORY_LIMIT = 50
USAGE_EVENTS = ("page_view", "api_view", "snippet_copy", "query")
USAGE_WINDOW = timedelta(days=7)


def _mask_samples(samples: Any, levels: dict[str, str]) -> list[dict[str, Any]]:
    return mask_rows([mask_json(row) for row in samples or [] if isinstance(row, dict)], levels)


def gate_status(success: bool | None) -> str:
    return "not_gated" if success is None else ("passed" if success else "failed")


def _open_failure(failure: Any, last_ok: Any, pub: Any) -> dict[str, Any] | None:
    """The latest task failure, unless a load or publication of the dataset succeeded after it."""
    if failure is None:
        return None
    later = [ts for ts in (last_ok.finished_at if last_ok else None, pub.published_at if pub else None) if ts]
    return None if any(ts >= failure.failed_at for ts in later) else row_dict(failure, "id", "dataset")


class Records(QualityStore, LineageStore):
    """Loads, gate runs, publications and usage; each write is logged so other processes' indexes catch up."""

    engine: Engine
    _index: Any  # the search index once built (Catalog.index builds it on first use)

    def _changed(self, dataset: str, what: str) -> None:  # implemented by Catalog
        raise NotImplementedError

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

    def _status_changed(self, dataset: str, what: str) -> None:
        self._changed(dataset, what)
        if self._index is not None:  # an index not built yet reads the new status when it is
            self._index.set_status(dataset, **self.index_statuses(dataset).get(dataset, {}))

    def recorded_loads(self) -> set[tuple[str, str]]:
        """(dataset, load_id) of every load recorded: a run records only the loads not there yet."""
        with self.engine.connect() as con:
            return {(r.dataset, r.load_id) for r in con.execute(select(t.loads.c.dataset, t.loads.c.load_id))}

    def has_column_lineage(self) -> bool:
        """Whether any column edge is stored (a catalog database that was reset has none)."""
        with self.engine.connect() as con:
            return con.execute(select(func.count()).select_from(t.column_lineage)).scalar() > 0

    def record_load(self, dataset: str, load_id: str, rows: int, status: str, started_at: datetime,
                    finished_at: datetime, message: str = "") -> None:
        """One connector run over a stream; the latest successful one is the dataset's freshness."""
        self._upsert(t.loads, {"dataset": dataset, "load_id": load_id},
                     {"rows": rows, "status": status, "started_at": utc_naive(started_at),
                      "finished_at": utc_naive(finished_at), "message": mask_text(message or "")})
        self._status_changed(dataset, "load")

    def record_gate_run(self, dataset: str, run_id: str, success: bool, reason: str, results: list[dict],
                        started_at: datetime, finished_at: datetime, extra: dict[str, Any] | None = None) -> None:
        """A contract gate run with its per-rule results (rule, column, expectation, observed, samples, ...).

        `extra` holds run-level facts: status (passed / warn / quarantined / failed), rules, rules_passed,
        warnings, quarantined (rows held back), quarantined_rules, published_version, row_count and data_docs
        (the run's Data Docs page relative to <home>/data_docs). Unknown keys are dropped.
        """
        levels = self._column_levels(dataset)
        sensitive = {c for c, level in levels.items() if level in MASKED_CLASSIFICATIONS}
        # Observed values of a failing rule are often offending rows: mask them like sample rows; the gate masks
        # samples already, and they are masked again by this catalog's own classification of the columns.
        safe = [mask_json(r) | {"observed": mask_json(r.get("observed"), whole=r.get("column") in sensitive),
                                "samples": _mask_samples(r.get("samples"), levels)} for r in results]
        facts = clean_extra(extra, safe)
        status = run_status(bool(success), (extra or {}).get("status"), safe)
        self._upsert(t.gate_runs, {"dataset": dataset, "run_id": run_id},
                     {"success": bool(success), "reason": mask_text(reason or ""), "status": status,
                      "results_json": json.dumps(safe, ensure_ascii=False, default=str),
                      "extra_json": json.dumps(facts, ensure_ascii=False),
                      "started_at": utc_naive(started_at), "finished_at": utc_naive(finished_at)})
        self._status_changed(dataset, "gate")

    def record_publication(self, dataset: str, version: int, snapshot_id: int, rows: int,
                           published_at: datetime) -> None:
        self._upsert(t.publications, {"dataset": dataset, "version": version},
                     {"snapshot_id": snapshot_id, "rows": rows, "published_at": utc_naive(published_at)})
        self._status_changed(dataset, "publication")

    def record_run_failure(self, dataset: str, task: str, run_id: str, message: str, failed_at: datetime) -> None:
        """A scheduled task that failed for good on this dataset (the orchestrator's failure callback calls it)."""
        with self.engine.begin() as con:
            con.execute(insert(t.run_failures).values(dataset=dataset, task=task, run_id=run_id,
                                                      message=mask_text(message)[:1000], failed_at=utc_naive(failed_at)))
        self._changed(dataset, "failure")

    def record_usage(self, dataset: str, event: str) -> None:
        """Count one interaction: page_view, api_view, snippet_copy, or a query a client reports having run."""
        if event not in USAGE_EVENTS:
            raise ValueError(f"unknown usage event {event!r}; known: {', '.join(USAGE_EVENTS)}")
        with self.engine.begin() as con:
            con.execute(insert(t.usage).values(dataset=dataset, event=event,
                                               at=datetime.now(UTC).replace(tzinfo=None)))

    def usage(self, dataset: str) -> dict[str, int]:
        """Events of the last 7 days per kind, plus `queries_per_week` (reported queries + snippet copies)."""
        since = datetime.now(UTC).replace(tzinfo=None) - USAGE_WINDOW
        u = t.usage.c
        query = (select(u.event, func.count()).where(u.dataset == dataset, u.at >= since).group_by(u.event))
        with self.engine.connect() as con:
            counts = {e: 0 for e in USAGE_EVENTS} | dict(con.execute(query).all())
        return counts | {"queries_per_week": counts["query"] + counts["snippet_copy"]}

    def _column_levels(self, dataset: str) -> dict[str, str]:
        with self.engine.connect() as con:
            raw = con.execute(select(t.datasets.c.entry_json).where(t.datasets.c.name == dataset)).scalar()
        return {c["name"]: c.get("classification") or "" for c in (json.loads(raw)["columns"] if raw else [])}

    def activity(self, name: str) -> dict[str, Any]:
        """Freshness, latest load, gate history (oldest first) with the latest run's results, publication."""
        with self.engine.connect() as con:
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
            f = t.run_failures.c
            failure = con.execute(select(t.run_failures).where(f.dataset == name)
                                  .order_by(f.failed_at.desc(), f.id.desc()).limit(1)).first()
        history = []
        for run in reversed(runs):
            results = json.loads(run.results_json)
            item = row_dict(run, "id", "results_json", "extra_json", "dataset")
            item |= describe_run(run.success, run.status, run.extra_json, results)
            item |= {"results": results, "total_rules": len(results),
                     "passed_rules": sum(1 for r in results if r.get("success")),
                     "failed_rules": [r for r in results if not r.get("success")]}
            history.append(item)
        latest_gate = history[-1] if history else None
        return {
            "latest_load": row_dict(latest_load, "id") if latest_load else None,
            "last_successful_load": row_dict(last_ok, "id") if last_ok else None,
            "freshness": as_utc(last_ok.finished_at) if last_ok else None,
            "latest_gate": latest_gate,
            "gate_status": latest_gate["status"] if latest_gate else gate_status(None),
            "gate_history": [{k: v for k, v in h.items() if k != "results"} for h in history],
            "publication": row_dict(pub, "id", "dataset") if pub else None,
            "published_version": pub.version if pub else None,
            "run_failure": _open_failure(failure, last_ok, pub),
        }

    def _latest(self, table: Table, time_col: str, value_col: str, where: Any = None,
                names: tuple[str, ...] = ()) -> dict[str, Any]:
        """{dataset: value of the latest row} in one query, for list pages."""
        c = table.c
        inner = select(c.dataset, func.max(c[time_col]).label("ts")).group_by(c.dataset)
        if where is not None:
            inner = inner.where(where)
        if names:
            inner = inner.where(c.dataset.in_(names))
        sub = inner.subquery()
        query = select(c.dataset, c[value_col]).join(sub, and_(c.dataset == sub.c.dataset, c[time_col] == sub.c.ts))
        if where is not None:
            query = query.where(where)
        with self.engine.connect() as con:
            return {r[0]: r[1] for r in con.execute(query)}

    def gate_statuses(self, *names: str) -> dict[str, str]:
        """{dataset: passed | warn | quarantined | failed} from each dataset's latest gate run."""
        status = self._latest(t.gate_runs, "started_at", "status", None, names)
        success = self._latest(t.gate_runs, "started_at", "success", None, names)
        return {k: status.get(k) or gate_status(v) for k, v in success.items()}

    def freshness(self, *names: str) -> dict[str, datetime]:
        """{dataset: finish time of its last successful load}."""
        ok = t.loads.c.status.in_(SUCCESS_STATUSES)
        return {k: as_utc(v) for k, v in self._latest(t.loads, "finished_at", "finished_at", ok, names).items()}

    def published_at(self, *names: str) -> dict[str, datetime]:
        return {k: as_utc(v) for k, v in
                self._latest(t.publications, "published_at", "published_at", None, names).items()}

    def index_statuses(self, *names: str) -> dict[str, dict[str, Any]]:
        """The live fields the index filters and sorts on: gate status, and freshness (load or publication)."""
        status, fresh, pub = self.gate_statuses(*names), self.freshness(*names), self.published_at(*names)
        out: dict[str, dict[str, Any]] = {}
        for name in set(status) | set(fresh) | set(pub) | set(names):
            times = [x for x in (fresh.get(name), pub.get(name)) if x is not None]
            out[name] = {"gate_status": status.get(name, "not_gated"), "freshness": max(times) if times else None}
        return out
