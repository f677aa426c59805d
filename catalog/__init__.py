"""The catalog stage: every dataset (raw streams, dbt models, published tables) searchable, with quality and lineage."""

from countyhub.catalog.store import Catalog, Column, DatasetEntry

__all__ = ["Catalog", "Column", "DatasetEntry", "create_app", "serve"]


def __getattr__(name: str) -> object:  # the web stack is imported only by those who serve pages
    if name == "create_app":
        from countyhub.catalog.web import create_app

        return create_app
    if name == "serve":
        from countyhub.catalog.serve import serve

        return serve
    raise AttributeError(name)
