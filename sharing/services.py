"""Calling a data service: who may, within which limits, answered from the serving index, every call audited."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from countyhub.sharing.gateway import Gateway, View
from countyhub.sharing.limits import Limits
from countyhub.sharing.masks import mask_row, pseudonym
from countyhub.sharing.model import (
    Access,
    AuditEntry,
    DatasetInfo,
    Forbidden,
    Grant,
    NotFound,
    Principal,
    SharingError,
)
from countyhub.sharing.policy import decide
from countyhub.sharing.service_index import ServiceIndexes
from countyhub.sharing.service_spec import Service, check_page, check_params

GrantLookup = Callable[[str, str], Grant | None]
LIST_PARAMS = ("limit", "offset")


@dataclass
class Answer:
    """What a call returns (JSON-ready) and what goes on the audit record about it."""

    body: dict[str, Any]
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    summary: str = ""  # match / no_match / not_found / found / rows


def _same(service: Service, column: str, claimed: Any, stored: Any) -> bool:
    if stored is None:
        return False
    info = next((p for p in service.params if p.column == column), None)
    if info is not None and info.type in ("id_number", "credit_code"):
        return str(stored).strip().upper() == str(claimed).strip().upper()
    if isinstance(claimed, int | float) and not isinstance(stored, str):
        return float(stored) == float(claimed)
    return str(stored).strip() == str(claimed).strip()


def _holds(expected: Any, stored: Any) -> bool:
    """A verify service's fixed condition: a value (equal), or {contains: text} for a list-like text column."""
    if isinstance(expected, dict) and "contains" in expected:
        return stored is not None and str(expected["contains"]) in str(stored)
    if isinstance(expected, bool) or isinstance(stored, bool):
        return bool(stored) is bool(expected) and stored is not None
    return stored is not None and str(stored) == str(expected)


def unknown(table: str, name: str) -> NotFound:
    """The refusal for a service nobody declared (the caller's words cut short, never quoted at length)."""
    return NotFound(f"no data service {name[:64]!r} on shared.{table[:64]} (GET /api/services lists them)")


class Services:
    """The declared services of the published datasets; `call` is the whole path of one call."""

    def __init__(self, declared: list[Service], sharing: Any, gateway: Gateway, limits: Limits,
                 pseudonym_key: bytes | None, indexes: ServiceIndexes | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.declared = {(s.table, s.name): s for s in declared}
        self.sharing, self.gateway, self.limits, self.pseudonym_key = sharing, gateway, limits, pseudonym_key
        self.indexes = indexes or ServiceIndexes(lambda: gateway._cursor("shared"))
        self.clock = clock
        for s in declared:
            if s.kind in ("verify", "lookup"):
                self.indexes.want(s.table, s.key.column, s.columns())

    def all(self) -> list[Service]:
        return list(self.declared.values())

    def of(self, dataset: str) -> list[Service]:
        return [s for s in self.declared.values() if s.dataset == dataset]

    def get(self, table: str, name: str) -> Service:
        service = self.declared.get((table, name))
        if service is None:
            raise unknown(table, name)
        return service

    def access(self, who: Principal, dataset: DatasetInfo, service: Service,
               grant_of: GrantLookup | None = None) -> tuple[Access, Grant | None]:
        """The caller's access through this service, or Forbidden with the reason. `grant_of(department,
        dataset)` finds the active grant (default: the grant store; the web edge passes a cached one)."""
        grant = None
        if who.department != dataset.department and dataset.sharing_type != "not_shared":
            grant = (grant_of or self.sharing.grants.active_grant)(who.department, dataset.name)
        now = self.sharing.clock()
        if grant is not None and not grant.active(now):  # a cached grant may have expired since it was read
            grant = None
        access = decide(who, dataset, grant, now)
        if not access.rows:
            raise Forbidden(access.reason)
        if dataset.sharing_type == "conditional" and who.department != dataset.department and (
                grant is None or service.name not in grant.services):
            raise Forbidden(f"conditional dataset; no approved grant for service {service.name} "
                            f"for department {who.department}")
        return access, grant

    def call(self, who: Principal, dataset: DatasetInfo, service: Service, query: Mapping[str, str]) -> Answer:
        """Authorize, limit, check the parameters, answer; one audit entry (a refusal too), committed before
        this returns or raises."""
        outcome, seq = self.start(who, dataset, service, query)
        self.sharing.audit.wait_written(seq, timeout=30)
        if isinstance(outcome, SharingError):
            raise outcome
        return outcome

    def start(self, who: Principal, dataset: DatasetInfo, service: Service, query: Mapping[str, str],
              grant_of: GrantLookup | None = None) -> tuple[Answer | SharingError, int]:
        """`call` up to the audit commit: the answer (or the refusal) and the audit entry's number to wait for
        (the web edge awaits it without holding a thread)."""
        started, grant, key_value = self.clock(), None, None
        try:
            access, grant = self.access(who, dataset, service, grant_of)
            self.limits.take(who.name, f"{service.table}.{service.name}", grant.rate_per_second if grant else None,
                             grant.daily_quota if grant else None)
            values = check_params(service, query, LIST_PARAMS if service.kind == "list" else ())
            if service.kind != "list":
                key_value = values[service.key.name]
            answer = self._answer(service, dataset, access, values, query)
        except SharingError as exc:
            return exc, self._audit(who, dataset, service, grant, key_value, started, exc.status, exc.message[:200],
                                    None)
        return answer, self._audit(who, dataset, service, grant, key_value, started, 200, answer.summary, answer)

    def needs_thread(self, service: Service) -> bool:
        """Whether answering may block for long: a list reads DuckDB; a lookup whose index is not built yet."""
        return service.kind == "list" or not self.indexes.ready(service.table, service.key.column)

    def refused(self, who: Principal, service: Service, exc: SharingError) -> int:
        """Put a refusal that came before the call (e.g. the dataset not published yet) on the audit record."""
        dataset = DatasetInfo(service.dataset, "", "not_shared")
        return self._audit(who, dataset, service, None, None, self.clock(), exc.status, exc.message[:200], None)

    def _answer(self, service: Service, dataset: DatasetInfo, access: Access, values: dict[str, Any],
                query: Mapping[str, str]) -> Answer:
        if service.kind == "list":
            return self._list(service, dataset, access, values, query)
        index = self.indexes.get(service.table, service.key.column)
        found = index.find(values[service.key.name]).to_pylist()
        base = {"service": service.name, "dataset": service.dataset}
        if service.kind == "verify":
            if not found:
                result = "not_found"
            else:
                row = found[0]
                claims = all(_same(service, p.column, values[p.name], row.get(p.column))
                             for p in service.params if p.role == "claim" and p.name in values)
                result = "match" if claims and all(_holds(v, row.get(c)) for c, v in service.expect.items()) \
                    else "no_match"
            return Answer({**base, "result": result}, summary=result)
        if not found:
            return Answer({**base, "found": False, "row": None, "masked": []}, summary="not_found")
        row = {c: found[0].get(c) for c in service.returns}
        masked = sorted(set(service.returns) & access.masked)
        shown = mask_row(row, dataset.columns, access.masked)
        return Answer({**base, "found": True, "row": shown, "masked": masked}, rows=1,
                      columns=list(service.returns), summary="found")

    def _list(self, service: Service, dataset: DatasetInfo, access: Access, values: dict[str, Any],
              query: Mapping[str, str]) -> Answer:
        limit, offset = check_page(service, query)
        filters = {p.column: values[p.name] for p in service.params if p.name in values}
        result = self.gateway.filtered(View(dataset, access), filters, list(service.returns), limit, offset)
        rows = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
        body = {"service": service.name, "dataset": service.dataset, "rows": rows, "limit": limit, "offset": offset,
                "truncated": result.truncated, "masked": sorted(set(service.returns) & access.masked)}
        return Answer(body, rows=len(rows), columns=list(service.returns), summary="rows")

    def _audit(self, who: Principal, dataset: DatasetInfo, service: Service, grant: Grant | None, key: Any,
               started: float, status: int, summary: str, answer: Answer | None) -> int:
        """One entry per call, the key pseudonymised (an ID number is never stored); returns its number."""
        asked = None
        if key is not None:  # keyed like the pseudonym column, so the steward can match calls to a person
            asked = pseudonym(self.pseudonym_key, key) if self.pseudonym_key else "withheld (no county key)"
        ms = round((self.clock() - started) * 1000, 3)
        entry = AuditEntry(action="service_call" if status == 200 else "service_refused", actor=who.name,
                           department=who.department, dataset=dataset.name,
                           columns=answer.columns if answer else [], purpose=grant.purpose if grant else "",
                           grant_id=grant.id if grant else None, rows=answer.rows if answer else 0,
                           detail={"service": service.name, "key": asked, "answer": summary, "status": status,
                                   "ms": ms})
        return self.sharing.audit.append(entry)
