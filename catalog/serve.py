"""Serve the catalog web pages and JSON API with uvicorn."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI


def serve(app: FastAPI, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Block serving the catalog app (from `create_app`, built by the edge) at http://host:port until interrupted."""
    uvicorn.run(app, host=host, port=port, log_level="info")
