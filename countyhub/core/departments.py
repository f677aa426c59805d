"""Department files (departments/<code>.yml): load, validate, and report errors by file, line and field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from countyhub.core.vocab import Classification, SharingType

SECRET_KEY = re.compile(r"(password|passwd|secret|token|api_key|apikey)$", re.IGNORECASE)
ENV_REF = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


class DepartmentFileError(ValueError):
    """A department file is invalid; the message names the file, line and field."""


class Owner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steward: str
    email: str | None = None
    phone: str | None = None


class Stream(BaseModel):
    """One table, endpoint or file pattern of a source."""

    model_config = ConfigDict(extra="allow")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str | None = None
    title_en: str | None = None
    description: str | None = None
    primary_key: list[str] = []
    cursor: str | None = None
    classification: Classification = "internal"
    keywords: list[str] = []
    # How loads apply rows (default: files for drop folders, incremental with a cursor, snapshot with a key).
    mode: Literal["incremental", "snapshot", "files", "replace", "append"] | None = None
    # Accept a dropped or retyped source column instead of stopping the load.
    allow_schema_evolution: bool = False

    @property
    def options(self) -> dict[str, Any]:
        """Connector-specific keys (table, pattern, path, records, pagination, ...)."""
        return dict(self.model_extra or {})


class Source(BaseModel):
    """One system of a department: a database, a drop folder or an API."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: str
    title: str | None = None
    config: dict[str, Any] = {}
    streams: list[Stream]

    @field_validator("config")
    @classmethod
    def no_secrets_inline(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if SECRET_KEY.search(key):
                raise ValueError(
                    f"'{key}' looks like a secret; secrets never go in YAML: use '{key}_env: ENV_VAR_NAME'"
                )
        url = str(value.get("url", ""))
        if re.search(r"://[^/@:]+:[^/@]+@", url):
            raise ValueError("the url carries a password; put it in an environment variable named by password_env")
        return value


class Department(BaseModel):
    """An owner of data: its sources, streams, schedule, owner and default sharing type."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    name_en: str
    division_code: str | None = None
    owner: Owner
    sharing_type: SharingType = "conditional"
    sharing_conditions: str | None = None
    legal_basis: str | None = None
    schedule: str | None = "@daily"
    sources: list[Source] = []
    path: Path | None = Field(default=None, exclude=True)

    @property
    def raw_schema(self) -> str:
        return f"raw_{self.code}"

    def stream(self, name: str) -> tuple[Source, Stream]:
        for source in self.sources:
            for stream in source.streams:
                if stream.name == name:
                    return source, stream
        raise KeyError(f"department {self.code} has no stream {name!r}")


def expand(value: Any, home: Path, environ: Mapping[str, str]) -> Any:
    """Fill {home} and ${VAR:-default} (from `environ`, the runtime's environment) in non-secret config values."""
    if isinstance(value, dict):
        return {k: expand(v, home, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, home, environ) for v in value]
    if isinstance(value, str):
        value = value.replace("{home}", str(home))
        return ENV_REF.sub(lambda m: environ.get(m.group(1), m.group(2) or ""), value)
    return value


def line_of(node: yaml.Node, loc: tuple[Any, ...]) -> int:
    """Walk the YAML node tree along a pydantic error location to find the line to blame."""
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == part]
            if not match:
                break
            key, node = match[0]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def field_error(department: Department, loc: tuple[Any, ...], message: str, node: yaml.Node | None = None) -> str:
    """`path:line: field 'a.0.b': message` for a field of a loaded department (`node`: its file, if composed)."""
    field = ".".join(str(p) for p in loc)
    if department.path is None:  # built in code, not read from a file
        return f"department {department.code}: field '{field}': {message}"
    if node is None:
        node = yaml.compose(department.path.read_text(encoding="utf-8"))
    return f"{department.path}:{line_of(node, loc)}: field '{field}': {message}"


def load_department(path: Path) -> Department:
    """Parse and validate one department file; raise DepartmentFileError naming file:line and field."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise DepartmentFileError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise DepartmentFileError(f"{path}:1: a department file must be a mapping with code, name, owner, sources")
    try:
        dept = Department.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            lines.append(f"{path}:{line_of(node, err['loc'])}: field '{field}': {err['msg']}")
        raise DepartmentFileError("\n".join(lines)) from None
    if dept.code != path.stem:
        raise DepartmentFileError(f"{path}:{line_of(node, ('code',))}: field 'code': {dept.code!r} must match the file name {path.stem!r}")
    dept.path = path
    return dept


def load_departments(folder: Path) -> list[Department]:
    """Every departments/<code>.yml, validated, sorted by code; a missing folder is an error, not a county of none."""
    if not folder.is_dir():
        raise DepartmentFileError(f"{folder}: no such departments folder (departments_dir in countyhub.toml, "
                                  "COUNTYHUB_DEPARTMENTS_DIR)")
    return [load_department(p) for p in sorted(folder.glob("*.yml"))]
