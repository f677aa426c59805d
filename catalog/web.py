"""The catalog site in one FastAPI app: pages, REST API, CKAN Action API and DCAT-AP export (no JS build, no CDN)."""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse

from countyhub.catalog.api import add_api_routes
from countyhub.catalog.api_data import add_data_routes
from countyhub.catalog.api_grants import add_grant_routes
from countyhub.catalog.api_services import add_service_routes
from countyhub.catalog.auth import PagePrincipal, add_error_handlers
from countyhub.catalog.ckan import add_ckan_routes
from countyhub.catalog.pages import add_page_routes
from countyhub.catalog.pages_auth import add_sign_in_routes
from countyhub.catalog.pages_services import add_service_pages
from countyhub.catalog.pages_sharing import add_sharing_pages
from countyhub.catalog.sessions import Sessions, SignInThrottle
from countyhub.catalog.store import Catalog
from countyhub.catalog.views import DATA_DOCS_PREFIX
from countyhub.sharing.model import Forbidden, NotFound, Principal
from countyhub.sharing.service import Sharing


def create_app(catalog: Catalog, sharing: Sharing, data_docs: Path | str | None = None,
               session_key: bytes | None = None, secure_cookies: bool = False) -> FastAPI:
    """The catalog site over one Catalog, with sign-in and authorization from `sharing`.

    `data_docs` (<home>/data_docs) is served at /data-docs/ (to engineers and admins: Data Docs come from the
    audit zone) when the folder exists. `session_key` signs session cookies; the edge passes the deployment's
    key (without one, a random key: sessions then end when the process does). `secure_cookies` forces the
    Secure flag (otherwise set when the request came over https).
    """
    app = FastAPI(title="countyhub catalog", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json",
                  description="Search the county's shared datasets; read schema, quality, freshness and lineage. "
                              "Every operation needs `Authorization: Bearer <token>` (`countyhub users add` prints "
                              "one); this document itself is public.")
    app.state.catalog, app.state.sharing, app.state.secure_cookies = catalog, sharing, secure_cookies
    app.state.sessions = Sessions(sharing.engine, session_key or secrets.token_bytes(32))
    app.state.sign_in_throttle = SignInThrottle()
    docs = Path(data_docs).resolve() if data_docs else None
    app.state.data_docs = docs if docs is not None and docs.is_dir() else None
    add_error_handlers(app)
    add_sign_in_routes(app)
    add_page_routes(app, catalog)
    add_sharing_pages(app, catalog)
    add_service_pages(app, catalog)
    add_api_routes(app, catalog)
    add_ckan_routes(app, catalog)
    add_grant_routes(app, catalog)
    add_data_routes(app, catalog)
    add_service_routes(app, catalog)

    @app.get(DATA_DOCS_PREFIX + "/{page:path}", include_in_schema=False)
    def data_docs_page(request: Request, page: str, who: Principal = PagePrincipal) -> FileResponse:
        """A gate run's Great Expectations page: failing values of the audit zone, for engineers and admins."""
        root: Path | None = request.app.state.data_docs
        if not who.reads_lake_zones():
            raise Forbidden("Data Docs show the audit zone: for engineers and admins")
        path = (root / page).resolve() if root is not None else None
        if path is None or not path.is_relative_to(root) or not path.is_file():
            raise NotFound("no such Data Docs page")
        return FileResponse(path)

    return app
