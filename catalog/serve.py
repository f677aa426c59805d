"""Serve the catalog web pages and JSON API with uvicorn."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from countyhub.catalog.store import Catalog
from countyhub.catalog.web import create_app


def serve(catalog: Catalog, host: str = "127.0.0.1", port: int = 8080, data_docs: Path | None = None) -> None:
    """Block serving the catalog at http://host:port until interrupted; `data_docs` is <home>/data_docs."""
    uvicorn.run(create_app(catalog, data_docs), host=host, port=port, log_level="info")
