"""The catalog site in one FastAPI app: pages, REST API, CKAN Action API and DCAT-AP export (no JS build, no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from countyhub.catalog.api import add_api_routes
from countyhub.catalog.ckan import add_ckan_routes
from countyhub.catalog.pages import add_page_routes
from countyhub.catalog.store import Catalog
from countyhub.catalog.views import DATA_DOCS_PREFIX


def create_app(catalog: Catalog, data_docs: Path | str | None = None) -> FastAPI:
    """The catalog site over one Catalog.

    `data_docs` (<home>/data_docs) is served at /data-docs/ when the folder exists, so each gate run's
    Great Expectations page can be linked from the quality views.
    """
    app = FastAPI(title="countyhub catalog", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json",
                  description="Search the county's shared datasets; read schema, quality, freshness and lineage.")
    app.state.catalog = catalog
    docs = Path(data_docs).resolve() if data_docs else None
    app.state.data_docs = docs if docs is not None and docs.is_dir() else None
    if app.state.data_docs is not None:
        app.mount(DATA_DOCS_PREFIX, StaticFiles(directory=app.state.data_docs), name="data-docs")
    add_page_routes(app, catalog)
    add_api_routes(app, catalog)
    add_ckan_routes(app, catalog)
    return app
