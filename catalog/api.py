"""The catalog's REST API (JSON, described by FastAPI's OpenAPI document at /api/openapi.json)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from countyhub.catalog.dcat import FORMATS, export
from countyhub.catalog.facets import FACETS
from countyhub.catalog.store import Catalog
from countyhub.catalog.views import query_snippets


class UsageEvent(BaseModel):
    """A client tells the catalog it used a dataset: `query` when it ran one, `snippet_copy` from the page."""

    event: Literal["query", "snippet_copy"]


def _facet_args(department: str | None, sharing_type: str | None, kind: str | None, resource_class: str | None,
                theme: str | None, classification: str | None, gate_status: str | None,
                update_cycle: str | None) -> dict[str, Any]:
    return {"department": department, "sharing_type": sharing_type, "kind": kind, "resource_class": resource_class,
            "theme": theme, "classification": classification, "gate_status": gate_status,
            "update_cycle": update_cycle}


def add_api_routes(app: FastAPI, catalog: Catalog) -> None:
    """Mount /api/... and the DCAT-AP export on the app."""

    def known(name: str) -> dict[str, Any]:
        entry = catalog.get(name)
        if entry is None:
            raise HTTPException(404, f"no dataset named {name!r}")
        return entry

    @app.get("/api/datasets", tags=["datasets"])
    def api_datasets(department: str | None = None, sharing_type: str | None = None, kind: str | None = None,
                     resource_class: str | None = None, theme: str | None = None, classification: str | None = None,
                     gate_status: str | None = None, update_cycle: str | None = None) -> JSONResponse:
        """Every dataset matching the facets (no ranking), with gate status and freshness."""
        facets = _facet_args(department, sharing_type, kind, resource_class, theme, classification, gate_status,
                             update_cycle)
        return JSONResponse(jsonable_encoder(catalog.datasets(**facets)))

    @app.get("/api/datasets/{name}", tags=["datasets"])
    def api_dataset(name: str) -> JSONResponse:
        """One dataset: metadata, schema, masked samples, freshness, gate history, publication, usage."""
        entry = known(name)
        catalog.record_usage(name, "api_view")
        return JSONResponse(jsonable_encoder(entry | {"query": query_snippets(name)}))

    @app.get("/api/datasets/{name}/lineage", tags=["lineage"])
    def api_lineage(name: str) -> JSONResponse:
        """Table-level graph ({dataset: upstream}) around the dataset, and its column edges in and out."""
        known(name)
        return JSONResponse({"graph": catalog.lineage_graph(name), "columns": catalog.column_lineage(name)})

    @app.get("/api/datasets/{name}/impact", tags=["lineage"])
    def api_impact(name: str, column: str | None = None) -> JSONResponse:
        """What breaks if this column (or, without `column`, any column) changes: downstream columns and
        datasets, plus datasets linked only at table level (their columns could not be traced)."""
        entry = known(name)
        if column is not None and column not in {c["name"] for c in entry["columns"]}:
            raise HTTPException(404, f"dataset {name!r} has no column {column!r}")
        return JSONResponse(catalog.impact(name, column))

    @app.post("/api/datasets/{name}/usage", tags=["usage"], status_code=204)
    def api_usage(name: str, body: UsageEvent) -> Response:
        """Count one use of the dataset (feeds `usage.queries_per_week`)."""
        if catalog.get_entry(name) is None:
            raise HTTPException(404, f"no dataset named {name!r}")
        catalog.record_usage(name, body.event)
        return Response(status_code=204)

    @app.get("/api/search", tags=["search"])
    def api_search(q: str = "", limit: int = Query(20, ge=1, le=500), start: int = Query(0, ge=0),
                   sort: Literal["relevance", "freshness"] = "relevance", department: str | None = None,
                   sharing_type: str | None = None, kind: str | None = None, resource_class: str | None = None,
                   theme: str | None = None, classification: str | None = None, gate_status: str | None = None,
                   update_cycle: str | None = None) -> JSONResponse:
        """Chinese, pinyin (full or initials), English, or a dataset name; facets narrow, counts drill down."""
        facets = _facet_args(department, sharing_type, kind, resource_class, theme, classification, gate_status,
                             update_cycle)
        result = catalog.query(q, facets, sort=sort, start=start, rows=limit, facet_fields=FACETS)
        return JSONResponse(jsonable_encoder({"q": q, "count": result.total, "hits": result.hits,
                                              "facets": {k: dict(v) for k, v in result.facets.items()}}))

    @app.get("/api/departments", tags=["datasets"])
    def api_departments() -> JSONResponse:
        return JSONResponse(catalog.departments())

    @app.get("/api/quality", tags=["quality"])
    def api_quality() -> JSONResponse:
        """Every gated dataset: latest status, failing rules, pass rate and recent runs."""
        return JSONResponse(jsonable_encoder(catalog.quality_overview()))

    @app.get("/catalog.{ext}", tags=["dcat"])
    def api_dcat(request: Request, ext: Literal["ttl", "jsonld"]) -> Response:
        """The whole catalog as DCAT-AP, in Turtle (catalog.ttl) or JSON-LD (catalog.jsonld)."""
        fmt, media = FORMATS[ext]
        return Response(export(catalog, fmt, str(request.base_url)), media_type=media)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        catalog.sync()
        return {"status": "ok", "datasets": len(catalog.index)}
