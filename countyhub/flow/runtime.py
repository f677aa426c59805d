"""The runtime an edge (CLI command, DAG task, web app) builds once and hands down: settings, environment, lake, catalog."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from countyhub.catalog.store import Catalog
from countyhub.core.secrets import resolve_secret
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake
from countyhub.sharing.limits import Limits
from countyhub.sharing.service import Sharing
from countyhub.sharing.service_spec import load_services


@dataclass
class Runtime:
    """What one process works with. Stages get the parts they need from it as arguments, never a global.

    `environ` is the environment the edge chose to run in (the process's own, or the demo's with its
    local API's address and token added): `${VAR}` in department files and secret names resolve in it.
    """

    settings: Settings
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.environ = MappingProxyType(dict(self.environ))

    @cached_property
    def lake(self) -> Lake:
        """The one lake handle: DuckDB config and the "was the lake moved" check are worked out once."""
        return Lake(self.settings)

    @cached_property
    def catalog(self) -> Catalog:
        """The one catalog store (schema upgraded once); its search index is opened (or built) on the first search."""
        return Catalog(self.settings.catalog_url, index_dir=self.settings.search_index_dir,
                       vocabulary=self.settings.search_vocabulary)

    @cached_property
    def sharing(self) -> Sharing:
        """Users, grants, audit log and query gateway, in the catalog's database; the county's pseudonym key
        (COUNTYHUB_PSEUDONYM_KEY, a secret) comes from the runtime's environment."""
        key = resolve_secret("COUNTYHUB_PSEUDONYM_KEY", self.environ)
        return Sharing(self.catalog.engine, self.lake, pseudonym_key=key.encode() if key else None,
                       serving_bytes=self.settings.serving_mb << 20,
                       declared=load_services(self.settings.contracts_dir),
                       limits=Limits(self.settings.service_rate, self.settings.service_daily_quota))

    def duckdb_config(self) -> dict[str, str | bool]:
        """DuckDB settings every connection of this process uses (verified extensions, no autoload)."""
        return self.lake.duckdb_config()

    def with_environ(self, **values: str) -> Runtime:
        """The same runtime (same lake and catalog handles) with some environment values added."""
        other = Runtime(self.settings, {**self.environ, **values})
        other.__dict__.update({k: v for k, v in self.__dict__.items() if k in ("lake", "catalog", "sharing")})
        return other
