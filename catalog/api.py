"""The catalog's REST API (JSON, described by FastAPI's OpenAPI document at /api/openapi.json)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from countyhub.catalog.auth import principal
from countyhub.catalog.dcat import FORMATS, export
from countyhub.catalog.facets import FACETS
from countyhub.catalog.store import Catalog
from countyhub.catalog.views import query_snippets
from countyhub.catalog.visibility import entry_access, may_see, shown_entry, visible
from countyhub.sharing.model import Principal

Caller = Depends(principal)  # every /api route and the DCAT export: a valid bearer token or 401


class UsageEvent(BaseModel):
    """A client tells the catalog it used a dataset: `query` when it ran one, `snippet_copy` from the page."""

    event: Literal["query", "snippet_copy"]


def _facet_args(department: str | None, sharing_type: str | None, kind: str | None, resource_class: str | None,
                theme: str | None, classification: str | None, gate_status: str | None,
                update_cycle: str | None, zone: str | None = None) -> dict[str, Any]:
    return {"department": department, "sharing_type": sharing_type, "kind": kind, "resource_class": resource_class,
            "theme": theme, "classification": classification, "gate_status": gate_status,
            "update_cycle": update_cycle, "zone": zone}


def add_api_routes(app: FastAPI, catalog: Catalog) -> None:
    """Mount /api/... and the DCAT-AP export on the app; each answer holds only what the caller may see."""

    def known(request: Request, who: Principal, name: str) -> dict[str, Any]:
        """The stored entry, or 404; 403 with the reason when the caller may not see it."""
        entry = catalog.get_entry(name)
        if entry is None:
            raise HTTPException(404, f"no dataset named {name!r}")
        entry_access(request, who, entry)
        return entry

    @app.get("/api/datasets", tags=["datasets"])
    def api_datasets(department: str | None = None, sharing_type: str | None = None, kind: str | None = None,
                     resource_class: str | None = None, theme: str | None = None, classification: str | None = None,
                     gate_status: str | None = None, update_cycle: str | None = None, zone: str | None = None,
                     who: Principal = Caller) -> JSONResponse:
        """Every dataset the caller may see matching the facets (no ranking), with gate status and freshness."""
        facets = _facet_args(department, sharing_type, kind, resource_class, theme, classification, gate_status,
                             update_cycle, zone)
        return JSONResponse(jsonable_encoder(visible(who, catalog.datasets(**facets))))

    @app.get("/api/datasets/{name}", tags=["datasets"])
    def api_dataset(request: Request, name: str, who: Principal = Caller) -> JSONResponse:
        """One dataset: metadata, schema, freshness, gate history, publication, usage, the caller's `access`, and
        masked samples when the caller may read rows (none for a conditional dataset without a grant)."""
        entry, _ = shown_entry(request, who, catalog, name)
        catalog.record_usage(name, "api_view")
        return JSONResponse(jsonable_encoder(entry | {"query": query_snippets(name)}))

    @app.get("/api/datasets/{name}/lineage", tags=["lineage"])
    def api_lineage(request: Request, name: str, who: Principal = Caller) -> JSONResponse:
        """Table-level graph ({dataset: upstream}) around the dataset, and its column edges in and out (names
        only: upstream raw or audit tables are named, their entries stay engineers' and admins')."""
        known(request, who, name)
        return JSONResponse({"graph": catalog.lineage_graph(name), "columns": catalog.column_lineage(name)})

    @app.get("/api/datasets/{name}/impact", tags=["lineage"])
    def api_impact(request: Request, name: str, column: str | None = None, who: Principal = Caller) -> JSONResponse:
        """What breaks if this column (or, without `column`, any column) changes: downstream columns and
        datasets, plus datasets linked only at table level (their columns could not be traced)."""
        entry = known(request, who, name)
        if column is not None and column not in {c["name"] for c in entry["columns"]}:
            raise HTTPException(404, f"dataset {name!r} has no column {column!r}")
        return JSONResponse(catalog.impact(name, column))

    @app.post("/api/datasets/{name}/usage", tags=["usage"], status_code=204)
    def api_usage(request: Request, name: str, body: UsageEvent, who: Principal = Caller) -> Response:
        """Count one use of the dataset (feeds `usage.queries_per_week`)."""
        known(request, who, name)
        catalog.record_usage(name, body.event)
        return Response(status_code=204)

    @app.get("/api/search", tags=["search"])
    def api_search(q: str = "", limit: int = Query(20, ge=1, le=500), start: int = Query(0, ge=0),
                   sort: Literal["relevance", "freshness"] = "relevance", department: str | None = None,
                   sharing_type: str | None = None, kind: str | None = None, resource_class: str | None = None,
                   theme: str | None = None, classification: str | None = None, gate_status: str | None = None,
                   update_cycle: str | None = None, zone: str | None = None, who: Principal = Caller) -> JSONResponse:
        """Chinese, pinyin (full or initials), English, synonyms county staff use (营业执照, 低保), or a dataset
        name; facets narrow, counts drill down. The audit zone is left out unless `zone` or `kind` asks for it.
        Hits, count and facet counts cover only the entries the caller may see. With no hit, `suggestions` holds
        queries that would find something and `elsewhere` the facet counts of hits the filters left out."""
        facets = _facet_args(department, sharing_type, kind, resource_class, theme, classification, gate_status,
                             update_cycle, zone)
        result = catalog.query(q, facets, sort=sort, start=start, rows=limit, facet_fields=FACETS,
                               may_see=may_see(who))
        return JSONResponse(jsonable_encoder({
            "q": q, "count": result.total, "hits": result.hits,
            "facets": {k: dict(v) for k, v in result.facets.items()}, "suggestions": result.suggestions,
            "elsewhere": {k: dict(v) for k, v in result.elsewhere.items()}}))

    @app.get("/api/departments", tags=["datasets"])
    def api_departments(who: Principal = Caller) -> JSONResponse:
        """Each department owning a dataset the caller may see, with how many of them."""
        return JSONResponse(department_counts(catalog, visible(who, catalog.datasets())))

    @app.get("/api/quality", tags=["quality"])
    def api_quality(who: Principal = Caller) -> JSONResponse:
        """Every gated dataset the caller may see: latest status, failing rules, pass rate and recent runs."""
        return JSONResponse(jsonable_encoder(visible(who, catalog.quality_overview())))

    @app.get("/catalog.{ext}", tags=["dcat"])
    def api_dcat(request: Request, ext: Literal["ttl", "jsonld"], who: Principal = Caller) -> Response:
        """The catalog as DCAT-AP, in Turtle (catalog.ttl) or JSON-LD (catalog.jsonld): the entries the caller
        may see."""
        fmt, media = FORMATS[ext]
        names = {d["name"] for d in visible(who, catalog.datasets())}
        return Response(export(catalog, fmt, str(request.base_url), names=names), media_type=media)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        """Public liveness probe: says nothing about the catalog's content."""
        catalog.sync()
        return {"status": "ok"}


def department_counts(catalog: Catalog, datasets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Departments as Catalog.departments() lists them, counting only the given (visible) datasets."""
    counts: dict[str, int] = {}
    for d in datasets:
        counts[d["department"]] = counts.get(d["department"], 0) + 1
    return [d | {"datasets": counts[d["code"]]} for d in catalog.departments() if d["code"] in counts]
