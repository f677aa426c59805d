"""The catalog's web pages and JSON API (FastAPI, server-rendered Jinja2, no JavaScript build, no CDN)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates

from catalog.i18n import normalize_lang, translator
from catalog.search import FACETS, matches_facets
from catalog.store import Catalog

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
LIST_LIMIT = 200


def _fmt_time(ts: datetime | None) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC") if ts else ""


TEMPLATES.env.filters["dt"] = _fmt_time


def query_snippets(name: str) -> dict[str, str]:
    """Copy-paste ways to read a dataset: plain SQL, and Python through the project's own lake connection."""
    sql = f"SELECT * FROM lake.{name} LIMIT 10;"
    python = (
        "from countyhub.settings import load_settings\n"
        "from lakehouse import Lake\n\n"
        "with Lake(load_settings()).reader() as con:  # duckdb, lake attached as `lake`\n"
        f'    df = con.sql("SELECT * FROM lake.{name} LIMIT 10").df()\n'
        "print(df)"
    )
    return {"sql": sql, "python": python}


def _facets(request: Request) -> dict[str, str]:
    return {f: request.query_params[f] for f in FACETS if request.query_params.get(f)}


def _url(request: Request, path: str | None = None, **changes: str | None) -> str:
    """The current URL (or `path`) with some query parameters changed; None removes one."""
    params = dict(request.query_params) if path is None else {"lang": request.query_params.get("lang")}
    params.update(changes)
    query = urlencode({k: v for k, v in params.items() if v})
    return (path or request.url.path) + (f"?{query}" if query else "")


def _render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = normalize_lang(request.query_params.get("lang"))
    t, v = translator(lang)

    def link(path: str, **params: str | None) -> str:
        return _url(request, path, **params)

    context |= {"lang": lang, "t": t, "v": v, "link": link,
                "lang_url": {k: _url(request, lang=k if k == "en" else None) for k in ("zh", "en")}}
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)


def _browse(catalog: Catalog, q: str, facets: dict[str, str]) -> tuple[list[dict], dict[str, Counter]]:
    """Matching datasets, and per-facet counts computed with the other facets applied (drill-down)."""
    if q.strip():
        base = catalog.search(q, limit=0)
        status, fresh = catalog.gate_statuses(), catalog.freshness()
        for hit in base:
            hit |= {"gate_status": status.get(hit["name"], "not_gated"), "freshness": fresh.get(hit["name"])}
    else:
        base = catalog.datasets()
    hits = [h for h in base if matches_facets(h, facets)]
    counts = {}
    for facet in FACETS:
        others = {k: val for k, val in facets.items() if k != facet}
        counts[facet] = Counter(h[facet] for h in base if matches_facets(h, others))
    return hits, counts


def create_app(catalog: Catalog | Any) -> FastAPI:
    """The catalog site. Accepts a Catalog, or settings with a `catalog_url` (as the CLI has them)."""
    if not isinstance(catalog, Catalog):
        catalog = Catalog(catalog.catalog_url)
    app = FastAPI(title="countyhub catalog", docs_url="/api/docs", redoc_url=None)
    app.state.catalog = catalog

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, q: str = "") -> HTMLResponse:
        facets = _facets(request)
        hits, counts = _browse(catalog, q, facets)
        departments = {d["code"]: d["name"] for d in catalog.departments()}
        return _render(request, "index.html", q=q, facets=facets, hits=hits[:LIST_LIMIT], total=len(hits),
                       counts=counts, departments=departments, facet_names=FACETS,
                       facet_url=lambda key, value: _url(request, **{key: value}),
                       clear_url=_url(request, "/", q=q or None))

    @app.get("/datasets/{name}", response_class=HTMLResponse)
    def dataset_page(request: Request, name: str) -> HTMLResponse:
        entry = catalog.get(name)
        if entry is None:
            return _render(request, "not_found.html", status_code=404, name=name)
        known = {d["name"] for d in catalog.datasets()}
        return _render(request, "dataset.html", d=entry, known=known, snippets=query_snippets(name),
                       chart=gate_chart(entry["gate_history"]))

    @app.get("/departments/{code}", response_class=HTMLResponse)
    def department_page(request: Request, code: str) -> HTMLResponse:
        datasets = catalog.datasets(department=code)
        if not datasets:
            return _render(request, "not_found.html", status_code=404, name=code)
        return _render(request, "department.html", code=code, name=datasets[0]["department_name"],
                       hits=datasets, counts=Counter(d["kind"] for d in datasets))

    @app.get("/api/datasets")
    def api_datasets(department: str | None = None, sharing_type: str | None = None, kind: str | None = None,
                     classification: str | None = None) -> JSONResponse:
        rows = catalog.datasets(department=department, sharing_type=sharing_type, kind=kind,
                                classification=classification)
        return JSONResponse(jsonable_encoder(rows))

    @app.get("/api/datasets/{name}")
    def api_dataset(name: str) -> JSONResponse:
        entry = catalog.get(name)
        if entry is None:
            raise HTTPException(404, f"no dataset named {name!r}")
        return JSONResponse(jsonable_encoder(entry | {"query": query_snippets(name)}))

    @app.get("/api/search")
    def api_search(q: str = "", limit: int = Query(20, ge=1, le=500), department: str | None = None,
                   sharing_type: str | None = None, kind: str | None = None,
                   classification: str | None = None) -> JSONResponse:
        hits = catalog.search(q, limit=limit, department=department, sharing_type=sharing_type, kind=kind,
                              classification=classification)
        return JSONResponse(jsonable_encoder({"q": q, "count": len(hits), "hits": hits}))

    @app.get("/api/departments")
    def api_departments() -> JSONResponse:
        return JSONResponse(catalog.departments())

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "datasets": len(catalog.index)}

    return app


def gate_chart(history: list[dict[str, Any]], bar: int = 18, gap: int = 6, height: int = 64) -> dict[str, Any]:
    """Bars for an inline SVG: one per gate run, oldest first; taller = larger share of rules passed."""
    bars = []
    for i, run in enumerate(history):
        total = run.get("total_rules") or 0
        ratio = (run.get("passed_rules", 0) / total) if total else (1.0 if run["success"] else 0.0)
        # A floor keeps a run where every rule failed visible as a red stub rather than nothing.
        h = round(12 + (height - 12) * ratio)
        bars.append({"x": i * (bar + gap), "y": height - h, "h": h, "w": bar, "success": run["success"],
                     "label": f"{_fmt_time(run['started_at'])} · {run.get('passed_rules', 0)}/{total}"
                              + (f" · {run['reason']}" if run.get("reason") else "")})
    width = max(len(history) * (bar + gap), 120)
    return {"bars": bars, "width": width, "height": height,
            "first": _fmt_time(history[0]["started_at"]) if history else "",
            "last": _fmt_time(history[-1]["started_at"]) if history else ""}
