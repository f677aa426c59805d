"""The catalog's HTML pages: search with facets, dataset, department and quality overview (zh default, ?lang=en)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from countyhub.catalog.auth import PagePrincipal, sharing_of
from countyhub.catalog.facets import FACETS, SORTS
from countyhub.catalog.pages_services import found_services
from countyhub.catalog.picture import gate_chart, lineage_picture, zone_of
from countyhub.catalog.quality import STATUS_ORDER
from countyhub.catalog.store import Catalog
from countyhub.catalog.views import data_docs_url, fmt_time, page_url, query_snippets, render
from countyhub.catalog.visibility import may_see, shown_entry, visible
from countyhub.sharing.model import NotFound, Principal

PAGE_SIZE = 50


def _facets(request: Request) -> dict[str, str]:
    return {f: request.query_params[f] for f in FACETS if request.query_params.get(f)}


def _int(value: str | None, default: int = 0) -> int:
    try:
        return max(int(value or default), 0)
    except ValueError:
        return default


def _quality_rows(request: Request, catalog: Catalog, who: Principal,
                  department: str | None = None) -> list[dict[str, Any]]:
    """Latest gate result per visible dataset, failing first, each with its small pass-rate chart and (for those
    who may read the audit zone the gate runs in) its Data Docs link."""
    rows = visible(who, catalog.quality_overview(department=department))
    for row in rows:
        row["chart"] = gate_chart(row["history"], fmt_time, bar=8, gap=3, height=24, axis=False)
        row["docs_url"] = data_docs_url(request, row.get("data_docs")) if who.reads_lake_zones() else None
    return rows


def _names(catalog: Catalog, who: Principal, names: Any) -> set[str]:
    """Of these dataset names, the ones the caller may open (the others are shown unlinked)."""
    wanted = set(names)
    return {d["name"] for d in visible(who, catalog.datasets()) if d["name"] in wanted}


def add_page_routes(app: FastAPI, catalog: Catalog) -> None:
    """Mount the pages on the app; each reads the same Catalog the API uses, signed in, and shows only what the
    caller may see."""

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request, q: str = "", sort: str = "relevance", who: Principal = PagePrincipal) -> HTMLResponse:
        facets = _facets(request)
        sort = sort if sort in SORTS else "relevance"
        start = _int(request.query_params.get("start"))
        result = catalog.query(q, facets, sort=sort, start=start, rows=PAGE_SIZE, may_see=may_see(who))
        departments = {d["code"]: d["name"] for d in catalog.departments()}
        more = start + PAGE_SIZE < result.total
        return render(request, "index.html", q=q, facets=facets, hits=result.hits, total=result.total,
                      counts=result.facets, departments=departments, facet_names=FACETS, sort=sort, sorts=SORTS,
                      facet_url=lambda key, value: page_url(request, start=None, **{key: value}),
                      sort_url=lambda s: page_url(request, sort=s, start=None),
                      prev_url=page_url(request, start=str(max(start - PAGE_SIZE, 0)) or None) if start else None,
                      next_url=page_url(request, start=str(start + PAGE_SIZE)) if more else None,
                      start=start, clear_url=page_url(request, "/", q=q or None),
                      suggestions=[s | {"url": page_url(request, q=s["q"], start=None)} for s in result.suggestions],
                      elsewhere=result.elsewhere,
                      services=found_services(request, catalog, who, q) if not start else [])

    @app.get("/datasets/{name}", response_class=HTMLResponse, include_in_schema=False)
    def dataset_page(request: Request, name: str, impact: str | None = None,
                     who: Principal = PagePrincipal) -> HTMLResponse:
        try:
            entry, access = shown_entry(request, who, catalog, name)
        except NotFound:
            return render(request, "not_found.html", status_code=404, name=name)
        catalog.record_usage(name, "page_view")
        graph = catalog.lineage_graph(name)
        origins = {}
        for node in graph:
            if zone_of(node) == "raw" and who.reads_lake_zones():  # source systems: what engineers see
                other = entry if node == name else catalog.get_entry(node)
                origins[node] = (other or {}).get("origin", "")
        columns = {c["name"] for c in entry["columns"]}
        impact = impact if impact in columns else None
        impacted = catalog.impact(name, impact) if impact else None
        affected = set(impacted["datasets"]) | set(impacted["table_level_only"]) if impacted else set()
        docs_url = data_docs_url(request, (entry["latest_gate"] or {}).get("data_docs"))
        docs_url = docs_url if who.reads_lake_zones() else None
        may_request = entry["department_code"] != who.department and entry["sharing_type"] != "not_shared"
        return render(request, "dataset.html", d=entry, known=set(graph) & _names(catalog, who, graph),
                      snippets=query_snippets(name), docs_url=docs_url, access=access, may_request=may_request,
                      requested=request.query_params.get("requested"),
                      chart=gate_chart(entry["gate_history"], fmt_time),
                      picture=lineage_picture(graph, name, origins, affected),
                      col_lineage=catalog.column_lineage(name), impact=impacted,
                      impact_url=lambda col: page_url(request, impact=col) + "#impact",
                      services=sharing_of(request).services.of(name))

    @app.get("/departments/{code}", response_class=HTMLResponse, include_in_schema=False)
    def department_page(request: Request, code: str, who: Principal = PagePrincipal) -> HTMLResponse:
        datasets = visible(who, catalog.datasets(department=code))
        if not datasets:
            return render(request, "not_found.html", status_code=404, name=code)
        stewards = sorted({d["steward"] for d in datasets if d.get("steward")})
        datasets.sort(key=lambda d: (STATUS_ORDER.get(d["gate_status"], 0), d["name"]))  # failing first
        return render(request, "department.html", code=code, name=datasets[0]["department_name"], hits=datasets,
                      counts=Counter(d["kind"] for d in datasets), stewards=stewards,
                      gates=Counter(d["gate_status"] for d in datasets), quality=_quality_rows(request, catalog, who, code))

    @app.get("/quality", response_class=HTMLResponse, include_in_schema=False)
    def quality_page(request: Request, who: Principal = PagePrincipal) -> HTMLResponse:
        rows = _quality_rows(request, catalog, who)
        totals = Counter(r["gate_status"] for r in rows)
        return render(request, "quality.html", rows=rows, totals=totals)
