"""Serve the catalog web pages and JSON API with uvicorn."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from countyhub.catalog.store import Catalog
from countyhub.catalog.web import create_app


def serve(catalog_url: str, host: str = "127.0.0.1", port: int = 8080, data_docs: Path | None = None) -> None:
    """Block serving the catalog at http://host:port until interrupted; Data Docs default to <home>/data_docs
    (home from the settings, which the CLI points at its own through COUNTYHUB_HOME)."""
    if data_docs is None:
        from countyhub.core.settings import load_settings

        data_docs = load_settings().home / "data_docs"
    uvicorn.run(create_app(Catalog(catalog_url), data_docs), host=host, port=port, log_level="info")


if __name__ == "__main__":
    from countyhub.core.settings import load_settings

    settings = load_settings()
    serve(settings.catalog_url, settings.catalog_host, settings.catalog_port, settings.home / "data_docs")
