"""Department files (departments/<code>.yml): load, validate, and report errors by file, line and field."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from countyhub.core.vocab import Classification, SharingType

SECRET_KEY = re.compile(r"(password|passwd|secret|token|api_key|apikey)$", re.IGNORECASE)
ENV_REF = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")
# What Airflow takes as a schedule in a department file: a preset, or five cron fields.
SCHEDULE_PRESETS = ("@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly",
                    "@annually")
CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
CRON_NAMES = {3: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
              4: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]}
CRON_ITEM = re.compile(r"^(\*|(\w+)(-(\w+))?)(/(\d+))?$")


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
    # Connections countyhub may hold to this system at once (the size of its Airflow pool).
    max_connections: int = Field(default=2, ge=1, le=64)
    streams: list[Stream]

    @field_validator("config")
    @classmethod
    def no_secrets_inline(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, entry in value.items():
            if problem := inline_secret(key, entry):
                raise ValueError(f"'{key}': {problem}")
        return value


def inline_secret(key: str, value: Any) -> str | None:
    """Why a config entry holds a secret itself instead of naming where it lives (None: it does not)."""
    if SECRET_KEY.search(key):
        return f"looks like a secret; secrets never go in YAML: use '{key}_env: ENV_VAR_NAME'"
    if key == "url" and re.search(r"://[^/@:]+:[^/@]+@", str(value)):
        return "the url carries a password; put it in an environment variable named by password_env"
    return None


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

    @field_validator("schedule")
    @classmethod
    def known_schedule(cls, value: str | None) -> str | None:
        if value is not None and value not in SCHEDULE_PRESETS:
            cron_problem(value)
        return value

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
        # As in a shell (and docker compose): the default also stands in for a variable set to "".
        return ENV_REF.sub(lambda m: environ.get(m.group(1)) or m.group(2) or "", value)
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


def cron_problem(value: str) -> None:
    """Raise ValueError naming the cron field that is wrong (five fields: minute hour day month weekday)."""
    fields = value.split()
    if len(fields) != len(CRON_FIELDS):
        raise ValueError(f"{value!r} is neither a preset ({', '.join(SCHEDULE_PRESETS)}) nor a cron expression of "
                         f"five fields (minute hour day-of-month month day-of-week)")
    for position, (text, (name, low, high)) in enumerate(zip(fields, CRON_FIELDS, strict=True)):
        names = CRON_NAMES.get(position, [])
        for item in text.split(","):
            match = CRON_ITEM.match(item.lower())
            bounds = [] if not match or match.group(1) == "*" else [match.group(2), match.group(4)]
            numbers = [names.index(b) + (position == 3) if b in names else int(b) if b.isdigit() else -1
                       for b in bounds if b is not None]
            if not match or any(not low <= n <= high for n in numbers) or match.group(6) == "0":
                raise ValueError(f"cron {name} {item!r} in {value!r} is not valid (allowed {low}-{high})")


def _yaml_error(path: Path, exc: yaml.YAMLError) -> DepartmentFileError:
    problem, mark = getattr(exc, "problem", None) or str(exc), getattr(exc, "problem_mark", None)
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and start and "end of stream" in problem:
        mark = start  # an unclosed quote or bracket: the line that opened it is the one to fix
        problem = f"{context} opened here, never closed ({problem})"
    if "'\\t'" in problem:
        problem += "; YAML indents with spaces, never tabs"
    where = f"{path}:{mark.line + 1}" if mark else str(path)
    return DepartmentFileError(f"{where}: not valid YAML: {problem}")


def _repeated_keys(node: yaml.Node, loc: tuple[Any, ...] = ()) -> Iterator[str]:
    """`line: field 'a.b': ...` for each key given twice in one mapping (PyYAML keeps the last one silently)."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            here = key.start_mark.line + 1
            if key.value in first:
                field = ".".join(str(p) for p in (*loc, key.value))
                yield f"{here}: field '{field}': given twice (first at line {first[key.value]}); YAML keeps only the last"
            first.setdefault(key.value, here)
            yield from _repeated_keys(value, (*loc, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _repeated_keys(item, (*loc, index))


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that owns the last key of an error location (streams take connector options: validate.py)."""
    models: dict[tuple[Any, ...], type[BaseModel]] = {(): Department, ("owner",): Owner, ("sources", 0): Source}
    shape = tuple(0 if isinstance(p, int) else p for p in loc[:-1])
    return models.get(shape)


def _message(err: Any) -> str:
    if err["type"] != "extra_forbidden" or (model := _model_at(tuple(err["loc"]))) is None:
        return err["msg"]
    close = difflib.get_close_matches(str(err["loc"][-1]), list(model.model_fields), n=1, cutoff=0.6)
    return "unknown field" + (f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(model.model_fields)}")


def _repeated_streams(department: Department, node: yaml.Node, path: Path) -> list[str]:
    # Each stream loads into raw_<department>.<stream>: two of one name would write one table.
    seen: dict[str, str] = {}
    problems = []
    for i, source in enumerate(department.sources):
        for j, stream in enumerate(source.streams):
            loc = ("sources", i, "streams", j, "name")
            if stream.name in seen:
                problems.append(f"{path}:{line_of(node, loc)}: field '{'.'.join(map(str, loc))}': stream "
                                f"{stream.name!r} is declared twice (first as {seen[stream.name]}); stream names are "
                                f"table names in raw_{department.code}, one per department")
            seen.setdefault(stream.name, f"'{'.'.join(map(str, loc))}' at line {line_of(node, loc)}")
    return problems


def _inline_secrets(data: dict[str, Any], node: yaml.Node, path: Path) -> list[str]:
    # Checked before the model so that the error points at the key's own line (the value is never shown).
    problems = []
    sources = data.get("sources") if isinstance(data.get("sources"), list) else []
    for i, source in enumerate(sources):
        config = source.get("config") if isinstance(source, dict) else None
        for key, value in (config or {}).items() if isinstance(config, dict) else ():
            if problem := inline_secret(str(key), value):
                loc = ("sources", i, "config", key)
                problems.append(f"{path}:{line_of(node, loc)}: field '{'.'.join(map(str, loc))}': {problem}")
    return problems


def load_department(path: Path) -> Department:
    """Parse and validate one department file; raise DepartmentFileError naming file:line and field."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(path, exc) from None
    if not isinstance(data, dict):
        raise DepartmentFileError(f"{path}:1: a department file must be a mapping with code, name, owner, sources")
    if repeated := list(_repeated_keys(node)):
        raise DepartmentFileError("\n".join(f"{path}:{r}" for r in repeated))
    if secrets := _inline_secrets(data, node, path):
        raise DepartmentFileError("\n".join(secrets))
    try:
        dept = Department.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            lines.append(f"{path}:{line_of(node, err['loc'])}: field '{field}': {_message(err)}")
        raise DepartmentFileError("\n".join(lines)) from None
    if dept.code != path.stem:
        raise DepartmentFileError(f"{path}:{line_of(node, ('code',))}: field 'code': {dept.code!r} must match the file name {path.stem!r}")
    if repeated := _repeated_streams(dept, node, path):
        raise DepartmentFileError("\n".join(repeated))
    dept.path = path
    return dept


def load_departments(folder: Path) -> list[Department]:
    """Every departments/<code>.yml, validated, sorted by code; a missing folder is an error, not a county of none."""
    if not folder.is_dir():
        raise DepartmentFileError(f"{folder}: no such departments folder (departments_dir in countyhub.toml, "
                                  "COUNTYHUB_DEPARTMENTS_DIR)")
    return [load_department(p) for p in sorted(folder.glob("*.yml"))]
