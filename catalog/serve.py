"""Serve the catalog web pages and JSON API with uvicorn."""

from __future__ import annotations

import uvicorn

from catalog.store import Catalog
from catalog.web import create_app


def serve(catalog_url: str, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Block serving the catalog at http://host:port until interrupted."""
    uvicorn.run(create_app(Catalog(catalog_url)), host=host, port=port, log_level="info")


if __name__ == "__main__":
    from countyhub.settings import load_settings

    settings = load_settings()
    serve(settings.catalog_url, settings.catalog_host, settings.catalog_port)
