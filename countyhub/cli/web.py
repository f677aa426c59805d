"""The web app factory, an edge: `uvicorn --factory countyhub.cli.web:app` serves the catalog from the settings."""

from __future__ import annotations

from fastapi import FastAPI

from countyhub.catalog.web import create_app
from countyhub.cli.common import runtime


def app() -> FastAPI:
    """The catalog site over the configured catalog store, with <home>/data_docs served beside it."""
    rt = runtime()
    return create_app(rt.catalog, rt.settings.home / "data_docs")
