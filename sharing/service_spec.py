"""Data service declarations (`contracts/<department>/<dataset>.services.yaml`) and their parameter checks."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc

from countyhub.core import resident_id
from countyhub.sharing.model import BadRequest

Kind = Literal["verify", "lookup", "list"]
KINDS = ("verify", "lookup", "list")
PARAM_TYPES = ("id_number", "credit_code", "string", "integer", "number")
ROLES = ("key", "claim", "filter")  # key finds the row; claim is compared (verify); filter narrows a list
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_VALUE = 256
MAX_PAGE = 100
MAX_OFFSET = 10_000


class ServiceFileError(ValueError):
    """A services file that cannot be used: the message names the file, the line and the field."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    column: str  # the dataset column it is compared with
    role: str = "key"
    required: bool = True
    max_length: int = 64
    description: str = ""
    example: str = ""  # a value for the example call and the OpenAPI document


@dataclass(frozen=True)
class Service:
    """One interface of one published dataset: what it answers, from which parameters, with which columns."""

    dataset: str  # shared.<name>
    name: str
    kind: Kind
    title_zh: str
    title_en: str
    params: tuple[Param, ...]
    returns: tuple[str, ...] = ()  # lookup/list: the columns answered (masked as the caller's access says)
    expect: Mapping[str, Any] = field(default_factory=dict)  # verify: the row must also hold these values
    page_cap: int = 20  # list: most rows one call returns
    description: str = ""
    source: str = ""  # file:line it was declared at

    @property
    def table(self) -> str:
        return self.dataset.split(".", 1)[1]

    @property
    def key(self) -> Param:
        """The parameter that finds the row (verify and lookup have exactly one; a list has none)."""
        for param in self.params:
            if param.role == "key":
                return param
        raise ValueError(f"{self.name} is a {self.kind} service: it has no key parameter")

    def columns(self) -> tuple[str, ...]:
        """Every dataset column the service reads (what its serving index holds)."""
        used = [p.column for p in self.params] + list(self.returns) + list(self.expect)
        return tuple(dict.fromkeys(used))


class _Loader(yaml.SafeLoader):
    """Safe YAML that remembers the line of each mapping, so errors can say where."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[str, Any]:
    value = loader.construct_mapping(node, deep=True)
    value["__line__"] = node.start_mark.line + 1
    return value


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _fail(where: str, line: Any, what: str) -> ServiceFileError:
    return ServiceFileError(f"{where}:{line}: {what}")


def _param(raw: Any, where: str, service_line: Any, columns: set[str] | None) -> Param:
    if not isinstance(raw, dict):
        raise _fail(where, service_line, "each entry of `params` is a mapping (name, type, column, role)")
    line = raw.get("__line__", service_line)
    name, kind = str(raw.get("name", "")), raw.get("type", "string")
    if not NAME.match(name):
        raise _fail(where, line, f"params.name {name!r}: lower-case letters, digits and _ (a query parameter)")
    if kind not in PARAM_TYPES:
        raise _fail(where, line, f"params.{name}.type {kind!r}: one of {', '.join(PARAM_TYPES)}")
    role = raw.get("role", "key")
    if role not in ROLES:
        raise _fail(where, line, f"params.{name}.role {role!r}: one of {', '.join(ROLES)}")
    column = str(raw.get("column", name))
    if columns is not None and column not in columns:
        raise _fail(where, line, f"params.{name}.column {column!r} is not a column of the dataset")
    max_length = raw.get("max_length", 64)
    if not isinstance(max_length, int) or not 1 <= max_length <= MAX_VALUE:
        raise _fail(where, line, f"params.{name}.max_length: a whole number from 1 to {MAX_VALUE}")
    return Param(name, kind, column, role, bool(raw.get("required", role != "filter")), max_length,
                 str(raw.get("description", "")), str(raw.get("example", "")))


def _service(raw: Any, dataset: str, where: str, columns: set[str] | None) -> Service:
    if not isinstance(raw, dict):
        raise _fail(where, 1, "each entry of `services` is a mapping")
    line = raw.get("__line__", 1)
    name, kind = str(raw.get("name", "")), raw.get("kind")
    if not NAME.match(name):
        raise _fail(where, line, f"name {name!r}: lower-case letters, digits and _ (it is part of the URL)")
    if kind not in KINDS:
        raise _fail(where, line, f"{name}.kind {kind!r}: one of {', '.join(KINDS)}")
    params = tuple(_param(p, where, line, columns) for p in raw.get("params") or [])
    keys = [p for p in params if p.role == "key"]
    if kind in ("verify", "lookup") and len(keys) != 1:
        raise _fail(where, line, f"{name}: a {kind} service has exactly one parameter with role: key")
    if kind == "list" and (keys or not params):
        raise _fail(where, line, f"{name}: a list service takes filter parameters (role: filter), no key")
    if len({p.name for p in params}) != len(params):
        raise _fail(where, line, f"{name}: two parameters share a name")
    returns = tuple(str(c) for c in raw.get("returns") or [])
    if kind == "verify" and returns:
        raise _fail(where, line, f"{name}.returns: a verify service answers match / no_match / not_found only")
    if kind != "verify" and not returns:
        raise _fail(where, line, f"{name}.returns: name the columns a {kind} answers")
    expect = {k: v for k, v in (raw.get("expect") or {}).items() if k != "__line__"}
    unknown = [c for c in [*returns, *expect] if columns is not None and c not in columns]
    if unknown:
        raise _fail(where, line, f"{name}: {unknown[0]!r} is not a column of the dataset")
    page_cap = raw.get("page_cap", 20)
    if not isinstance(page_cap, int) or not 1 <= page_cap <= MAX_PAGE:
        raise _fail(where, line, f"{name}.page_cap: a whole number from 1 to {MAX_PAGE}")
    title = raw.get("title") or {}
    return Service(dataset, name, kind, str(title.get("zh", name)), str(title.get("en", name)), params, returns,
                   expect, page_cap, str(raw.get("description", "")).strip(), f"{where}:{line}")


def load_services(contracts_dir: Path, columns: Mapping[str, set[str]] | None = None) -> list[Service]:
    """Every `<department>/<dataset>.services.yaml` under `contracts_dir`; `columns` (dataset -> its columns,
    when known) lets a parameter or answer naming a missing column fail here rather than at the first call."""
    services: list[Service] = []
    seen: set[tuple[str, str]] = set()
    for path in sorted(Path(contracts_dir).glob("*/*.services.yaml")):
        where = str(path)
        try:
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}  # _Loader is a SafeLoader
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise _fail(where, mark.line + 1 if mark else 1, f"not valid YAML ({getattr(exc, 'problem', exc)})") from None
        dataset = f"shared.{path.name.removesuffix('.services.yaml')}"
        known = columns.get(dataset) if columns is not None else None
        for raw in doc.get("services") or [] if isinstance(doc, dict) else []:
            service = _service(raw, dataset, where, known)
            if (dataset, service.name) in seen:
                raise _fail(where, raw.get("__line__", 1), f"service {service.name!r} is declared twice")
            seen.add((dataset, service.name))
            services.append(service)
    return services


def _one(param: Param, value: str) -> Any:
    """The checked, normalised value; BadRequest naming the parameter (never echoing a personal value)."""
    if len(value) > param.max_length:
        raise BadRequest(f"{param.name}: longer than {param.max_length} characters")
    try:
        if param.type == "id_number":
            return resident_id.validate(value)  # 18 characters, GB 11643 check digit, a real birth date and region
        if param.type == "credit_code":
            return uscc.validate(value)
    except stdnum_errors.InvalidChecksum:
        raise BadRequest(f"{param.name}: the check digit is wrong") from None
    except stdnum_errors.InvalidLength:
        raise BadRequest(f"{param.name}: wrong length") from None
    except (stdnum_errors.InvalidFormat, stdnum_errors.InvalidComponent):
        raise BadRequest(f"{param.name}: not a valid {param.type.replace('_', ' ')}") from None
    if param.type == "integer":
        if not re.fullmatch(r"-?\d{1,18}", value):
            raise BadRequest(f"{param.name}: a whole number")
        return int(value)
    if param.type == "number":
        try:
            number = float(value)
        except ValueError:
            raise BadRequest(f"{param.name}: a number") from None
        if not math.isfinite(number):
            raise BadRequest(f"{param.name}: a finite number")
        return number
    if not value.strip() or any(ord(c) < 32 for c in value):
        raise BadRequest(f"{param.name}: empty or holds control characters")
    return value.strip()


def check_params(service: Service, query: Mapping[str, str], extra_ok: tuple[str, ...] = ()) -> dict[str, Any]:
    """The call's parameters, checked and normalised; BadRequest for a missing, unknown, repeated or bad one."""
    known = {p.name for p in service.params}
    extra = sorted(k for k in query if k not in known and k not in extra_ok)
    if extra:
        raise BadRequest(f"unknown parameter {extra[0][:40]!r}; {service.name} takes "
                         + ", ".join(p.name for p in service.params))
    values: dict[str, Any] = {}
    for param in service.params:
        raw = query.get(param.name)
        if raw is None or raw == "":
            if param.required:
                raise BadRequest(f"missing parameter {param.name}")
            continue
        values[param.name] = _one(param, raw)
    return values


def check_page(service: Service, query: Mapping[str, str]) -> tuple[int, int]:
    """A list call's `limit` (1..the service's page cap, default the cap) and `offset` (0..10,000)."""
    limit = _one(Param("limit", "integer", ""), query.get("limit") or str(service.page_cap))
    offset = _one(Param("offset", "integer", ""), query.get("offset") or "0")
    if not 1 <= limit <= service.page_cap:
        raise BadRequest(f"limit: from 1 to {service.page_cap} (this service's page cap)")
    if not 0 <= offset <= MAX_OFFSET:
        raise BadRequest(f"offset: from 0 to {MAX_OFFSET}; filter more to reach further")
    return limit, offset
