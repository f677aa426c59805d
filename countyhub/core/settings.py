"""One config file (countyhub.toml) plus COUNTYHUB_* environment overrides; no code changes between deployments."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[2]


class SettingsError(ValueError):
    """The config file or a COUNTYHUB_* variable holds something unusable; the message names where and the field."""


@dataclass(frozen=True)
class Settings:
    """Where everything lives. Every field can be overridden by COUNTYHUB_<FIELD> in the environment."""

    home: Path
    lake_metadata: str  # DuckLake metadata: "sqlite:<file>" (embedded) or "postgres:dbname=.. host=.." (many writers)
    lake_data: str  # Parquet folder or object-store prefix
    catalog_url: str  # SQLAlchemy URL of the catalog store
    departments_dir: Path
    contracts_dir: Path
    dbt_project_dir: Path
    catalog_host: str
    catalog_port: int
    gate_memory_limit: str = "1GB"  # DuckDB memory cap of a gate run; past it, checks spill to disk or fail closed
    tools_dir: Path = PROJECT_DIR / ".countyhub-tools"  # tools with clashing pins (datacontract-cli) in own venvs
    s3_endpoint: str = ""  # object store for lake_data = s3://...: host[:port] with scheme, e.g. http://minio:9000
    s3_region: str = "us-east-1"
    serving_mb: int = 256  # memory for the gateway's in-memory copies of published tables; 0 reads the lake each call
    service_rate: float = 100.0  # data service calls a second per caller and service, unless its grant says
    service_daily_quota: int = 1_000_000  # calls a day per caller and service, unless its grant says
    # The county's own search words (same format as catalog/synonyms.yml); a missing file adds nothing.
    search_vocabulary: Path = PROJECT_DIR / "search_vocabulary.yml"
    search_index_dir: Path = Path(".countyhub/search-index")  # the persisted search index (a cache of the catalog)

    @property
    def lake_is_embedded(self) -> bool:
        """Embedded metadata (SQLite/DuckDB file) is single-writer: writes must be serialized."""
        return not self.lake_metadata.startswith("postgres:")

    @property
    def extension_dir(self) -> Path:
        return self.home / "duckdb_extensions"


def _expand(value: str, home: Path) -> str:
    return os.path.expandvars(value.replace("{home}", str(home)).replace("{project}", str(PROJECT_DIR)))


def load_settings(config_file: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read countyhub.toml (or COUNTYHUB_CONFIG), then apply COUNTYHUB_* overrides from `environ` (default: os.environ)."""
    environ = os.environ if environ is None else environ
    named = config_file or environ.get("COUNTYHUB_CONFIG")
    path = Path(named or PROJECT_DIR / "countyhub.toml")
    raw, where = _read_config(path, required=bool(named))
    for f in fields(Settings):
        env = environ.get(f"COUNTYHUB_{f.name.upper()}")
        if env is not None:
            raw[f.name] = env
            where[f.name] = f"COUNTYHUB_{f.name.upper()}"
    home = Path(_expand(str(raw.get("home", "{project}/.countyhub")), Path("."))).resolve()
    defaults = {
        "lake_metadata": "sqlite:{home}/lake/metadata.sqlite",
        "lake_data": "{home}/lake/data/",
        "catalog_url": "sqlite:///{home}/catalog.sqlite",
        "departments_dir": "{project}/departments",
        "contracts_dir": "{project}/contracts",
        "dbt_project_dir": "{project}/dbt_project",
        "catalog_host": "127.0.0.1",
        "catalog_port": "8080",
        "gate_memory_limit": "1GB",
        "tools_dir": "{project}/.countyhub-tools",
        # The object store's standard AWS_* names are honoured too (its keys are secrets: see core/secrets.py).
        "s3_endpoint": environ.get("AWS_ENDPOINT_URL", ""),
        "s3_region": environ.get("AWS_REGION", "us-east-1"),
        "serving_mb": "256",
        "service_rate": "100",
        "service_daily_quota": "1000000",
        "search_vocabulary": "{project}/search_vocabulary.yml",
        "search_index_dir": "{home}/search-index",
    }
    values = {k: _expand(str(raw.get(k, d)), home) for k, d in defaults.items()}
    return Settings(
        home=home,
        lake_metadata=values["lake_metadata"],
        lake_data=values["lake_data"],
        catalog_url=values["catalog_url"],
        departments_dir=Path(values["departments_dir"]),
        contracts_dir=Path(values["contracts_dir"]),
        dbt_project_dir=Path(values["dbt_project_dir"]),
        catalog_host=values["catalog_host"],
        catalog_port=_number(int, "catalog_port", values, where),
        gate_memory_limit=values["gate_memory_limit"],
        tools_dir=Path(values["tools_dir"]),
        s3_endpoint=values["s3_endpoint"],
        s3_region=values["s3_region"],
        serving_mb=_number(int, "serving_mb", values, where),
        service_rate=_number(float, "service_rate", values, where),
        service_daily_quota=_number(int, "service_daily_quota", values, where),
        search_vocabulary=Path(values["search_vocabulary"]),
        search_index_dir=Path(values["search_index_dir"]),
    )


def _read_config(path: Path, required: bool) -> tuple[dict, dict[str, str]]:
    """The [countyhub] table of the config file, and where each key is written ("file:line: field 'key'")."""
    if not path.exists():
        if required:  # a file the user named and mistyped must not quietly fall back to the defaults
            raise SettingsError(f"{path}: no such config file (from --config or COUNTYHUB_CONFIG)")
        return {}, {}
    text = path.read_text(encoding="utf-8")
    try:
        table = tomllib.loads(text).get("countyhub", {})
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        where = f"{path}:{at.group(1)}" if at else str(path)
        raise SettingsError(f"{where}: not valid TOML: {str(exc).split(' (at line')[0]}") from None
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: 'countyhub' must be a table ([countyhub] followed by key = value lines)")
    lines = text.splitlines()

    def line_of(key: str) -> str:
        found = next((n for n, line in enumerate(lines, 1) if re.match(rf"\s*{re.escape(key)}\s*=", line)), None)
        return f"{path}:{found}" if found else str(path)

    return dict(table), {key: f"{line_of(key)}: field '{key}'" for key in table}


def _number(kind: type[int | float], name: str, values: dict[str, str], where: dict[str, str]) -> Any:
    try:
        return kind(values[name])
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{where.get(name, name)}: {values[name]!r} is not {what}") from None
