"""Data service interfaces over HTTP: one typed GET route per declared service, its list, and its usage."""

from __future__ import annotations

import functools
import hashlib
import inspect
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from countyhub.catalog import tables as catalog_tables
from countyhub.catalog.access import dataset_info
from countyhub.catalog.api_data import json_response
from countyhub.catalog.auth import _Bearer, principal
from countyhub.catalog.grant_actions import owned_datasets
from countyhub.catalog.store import Catalog
from countyhub.sharing.authz_cache import AuthzCache
from countyhub.sharing.model import AuditEntry, BadRequest, DatasetInfo, NotFound, Principal, SharingError, Unauthorized
from countyhub.sharing.service_spec import Param, Service
from countyhub.sharing.service_stats import usage
from countyhub.sharing.services import unknown

EXAMPLES = {"id_number": "511724200001011235", "credit_code": "91511724MA62X0XX16", "integer": "1", "number": "1.5"}
Caller = Annotated[Principal, Depends(principal)]


class VerifyAnswer(BaseModel):
    service: str
    dataset: str
    result: str  # match | no_match | not_found


class LookupAnswer(BaseModel):
    service: str
    dataset: str
    found: bool
    row: dict[str, Any] | None
    masked: list[str]


class ListAnswer(BaseModel):
    service: str
    dataset: str
    rows: list[dict[str, Any]]
    limit: int
    offset: int
    truncated: bool
    masked: list[str]


ANSWER_MODELS = {"verify": VerifyAnswer, "lookup": LookupAnswer, "list": ListAnswer}


async def _caller(request: Request) -> Principal:
    """The caller, or 401 on the audit record too (as `anonymous`: the token named nobody who may be named).

    A call runs on the event loop, not the thread pool (the hop cost more than the work), and reads one small
    row (AuthzCache.version) instead of the user; the token's Argon2 check happens once per state."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    token = credentials.strip() if scheme.lower() == "bearer" else ""
    sharing = request.app.state.sharing
    cache: AuthzCache = request.app.state.service_authz
    request.state.authz_version = version = cache.version()
    try:
        if not token:
            raise Unauthorized("sign in: send Authorization: Bearer <token> (`countyhub users add` prints one)")
        digest = hashlib.sha256(token.encode()).hexdigest()
        who = cache.get(version, ("token", digest), lambda: sharing.users.resolve(token))
        request.state.principal = who
        return who
    except Unauthorized as exc:
        table, _, name = request.url.path.removeprefix("/api/services/").partition("/")
        await _refused(request, "anonymous", "", table, name, 401, exc.message)
        raise


async def _refused(request: Request, actor: str, department: str, table: str, service: str, status: int,
                   answer: str) -> None:
    """A refusal that came before a declared service was found (who or which was unknown), on the record."""
    audit = request.app.state.sharing.audit
    await audit.written(audit.append(AuditEntry(
        action="service_refused", actor=actor, department=department, dataset=f"shared.{table}"[:255],
        detail={"service": service[:64], "status": status, "answer": answer[:200]})))


def _example(param: Param) -> str:
    return param.example or EXAMPLES.get(param.type, "x")


def example_call(service: Service, base: str = "http://127.0.0.1:8080") -> str:
    query = "&".join(f"{p.name}={quote(_example(p))}" for p in service.params if p.required)
    return f'curl -H "Authorization: Bearer $TOKEN" "{base}/api/services/{service.table}/{service.name}?{query}"'


def service_json(service: Service, dataset: DatasetInfo | None) -> dict[str, Any]:
    return {"dataset": service.dataset, "name": service.name, "kind": service.kind, "title_zh": service.title_zh,
            "title_en": service.title_en, "description": service.description,
            "owner": dataset.department if dataset else None, "sharing_type": dataset.sharing_type if dataset else None,
            "params": [{"name": p.name, "type": p.type, "role": p.role, "required": p.required,
                        "description": p.description} for p in service.params],
            "returns": list(service.returns), "url": f"/api/services/{service.table}/{service.name}",
            "example": example_call(service)}


def _dataset(catalog: Catalog, service: Service) -> DatasetInfo:
    entry = catalog.get_entry(service.dataset)
    if entry is None:
        raise NotFound(f"{service.dataset} is not published yet: its services answer once it is")
    return dataset_info(entry)


def _query(request: Request) -> dict[str, str]:
    repeated = sorted({k for k in request.query_params if len(request.query_params.getlist(k)) > 1})
    if repeated:
        raise BadRequest(f"parameter {repeated[0][:40]!r} given more than once")
    return dict(request.query_params)


async def _answer(request: Request, catalog: Catalog, service: Service) -> Response:
    """One service call, whole: caller, dataset, parameters, answer, the audit entry committed, the JSON."""
    who = await _caller(request)
    sharing = request.app.state.sharing
    services, cache, version = sharing.services, request.app.state.service_authz, request.state.authz_version
    try:
        dataset = cache.get(version, ("dataset", service.dataset), lambda: _dataset(catalog, service))
        query = _query(request)
    except SharingError as exc:
        await sharing.audit.written(services.refused(who, service, exc))
        raise

    def grant_of(department: str, name: str) -> Any:
        return cache.get(version, ("grant", department, name), lambda: sharing.grants.active_grant(department, name))

    if services.needs_thread(service):
        outcome, seq = await run_in_threadpool(services.start, who, dataset, service, query, grant_of)
    else:
        outcome, seq = services.start(who, dataset, service, query, grant_of)
    await sharing.audit.written(seq)  # on the record before the answer leaves
    if isinstance(outcome, SharingError):
        raise outcome
    return json_response(outcome.body)


def _endpoint(catalog: Catalog, service: Service) -> Any:
    async def call(request: Request, creds: HTTPAuthorizationCredentials | None = _Bearer, **_: Any) -> Response:
        return await _answer(request, catalog, service)

    # Typed query parameters for the OpenAPI document; all optional there, so that a missing one is our clear,
    # audited 400 rather than FastAPI's unaudited 422. Values are checked by service_spec.check_params.
    params = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
              inspect.Parameter("creds", inspect.Parameter.KEYWORD_ONLY, default=_Bearer,
                                annotation=HTTPAuthorizationCredentials | None)]
    for p in service.params:
        described = f"{p.description} ({p.type}{', required' if p.required else ''})".strip()
        params.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
            str | None, Query(description=f"{described}; at most {p.max_length} characters", examples=[_example(p)])]))
    if service.kind == "list":
        for name, text in (("limit", f"rows per page, at most {service.page_cap}"), ("offset", "rows to skip")):
            params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                            annotation=Annotated[int | None, Query(description=text, ge=0)]))
    call.__signature__ = inspect.Signature(params, return_annotation=Response)  # type: ignore[attr-defined]
    call.__name__ = f"service_{service.table}_{service.name}"
    call.__doc__ = f"{service.title_zh} — {service.title_en}. {service.description}"
    return call


def add_service_routes(app: FastAPI, catalog: Catalog) -> None:
    """GET /api/services, /api/services/usage, and /api/services/{dataset}/{service} for each declared one."""
    # Cached per authorization state: the sharing generation and the catalog's change log (a new sharing type or
    # column classification reaches the next call).
    app.state.service_authz = AuthzCache(app.state.sharing.engine, also=[catalog_tables.changes.c.id])

    @app.get("/api/services", tags=["services"])
    def list_services(request: Request, who: Caller) -> Response:
        """Every declared data service: what it answers, its parameters, owner, sharing type and an example call."""
        out = []
        for service in request.app.state.sharing.services.all():
            entry = catalog.get_entry(service.dataset)
            out.append(service_json(service, dataset_info(entry) if entry else None))
        return json_response(out)

    @app.get("/api/services/usage", tags=["services"])
    def service_usage(request: Request, who: Caller, day: date | None = None) -> Response:
        """Calls per service per caller on `day` (UTC, default today): calls, errors, p95 latency. Admins see all;
        a steward the calls on its department's datasets and its department's own; others their department's."""
        return json_response(visible_usage(request.app.state.sharing, catalog, who, day))

    for service in app.state.sharing.services.all():
        path = f"/api/services/{service.table}/{service.name}"
        # The typed FastAPI route is what the OpenAPI document shows; calls take the plain Starlette route put in
        # front of it, which runs the same `_answer` without FastAPI's per-request parameter and dependency
        # solving (a quarter of a call's CPU at a thousand calls a second).
        app.add_api_route(path, _endpoint(catalog, service), methods=["GET"], tags=["services"],
                          summary=f"{service.title_zh} ({service.kind})",
                          responses={200: {"model": ANSWER_MODELS[service.kind]}})
        app.router.routes.insert(0, Route(path, functools.partial(_answer, catalog=catalog, service=service),
                                          methods=["GET"], include_in_schema=False))

    @app.get("/api/services/{dataset}/{name}", tags=["services"], include_in_schema=False)
    async def unknown_service(request: Request, dataset: str, name: str) -> Response:
        """Any other service name: 404 naming it, on the audit record."""
        who = await _caller(request)
        await _refused(request, who.name, who.department, dataset, name, 404, "unknown service")
        raise unknown(dataset, name)


def visible_usage(sharing: Any, catalog: Catalog, who: Principal, day: date | None) -> list[dict[str, Any]]:
    """The usage rows the caller may see (the one rule the API and the page share)."""
    day = day or datetime.now(UTC).date()
    if who.is_admin:
        return usage(sharing.engine, day)
    if who.role == "steward":
        mine = owned_datasets(catalog, who.department)
        return [r for r in usage(sharing.engine, day) if r["dataset"] in mine or r["department"] == who.department]
    return usage(sharing.engine, day, department=who.department)
