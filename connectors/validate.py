"""Check department files against the installed connector kinds: a known `kind:`, and stream options it takes."""

from __future__ import annotations

import difflib
from types import UnionType
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from countyhub.connectors.errors import ConnectorError
from countyhub.connectors.options import StreamOptions
from countyhub.connectors.registry import available_kinds, get_connector
from countyhub.core.departments import Department, DepartmentFileError, Stream, field_error


def check_departments(departments: list[Department]) -> list[Department]:
    """Every department's problems at once, as one DepartmentFileError (file:line: field: problem per line)."""
    options: dict[str, type[StreamOptions] | str] = {}
    problems = [p for d in departments for p in _problems(d, options)]
    if problems:
        raise DepartmentFileError("\n".join(problems))
    return departments


def check_department(department: Department) -> Department:
    """Raise DepartmentFileError naming file, line and field for an unknown kind or an option its kind does not take."""
    return check_departments([department])[0]


def _problems(department: Department, options: dict[str, type[StreamOptions] | str]) -> list[str]:
    # The core loader knows no connector (it sits below them), so kinds and options are checked here.
    node = yaml.compose(department.path.read_text(encoding="utf-8")) if department.path else None
    problems: list[str] = []
    for i, source in enumerate(department.sources):
        if source.kind not in options:
            options[source.kind] = _options_model(source.kind)
        model = options[source.kind]
        if isinstance(model, str):  # the kind is unknown, or its connector does not import
            problems.append(field_error(department, ("sources", i, "kind"), model, node))
            continue
        for j, stream in enumerate(source.streams):
            try:
                model.model_validate(stream.options)
            except ValidationError as exc:
                for err in exc.errors():
                    loc = ("sources", i, "streams", j, *err["loc"])
                    problems.append(field_error(department, loc, _message(err, model, source.kind), node))
    return problems


def _options_model(kind: str) -> type[StreamOptions] | str:
    """The kind's options model, or what is wrong with the kind."""
    kinds = available_kinds()
    if kind not in kinds:
        return f"unknown connector kind {kind!r}{_did_you_mean(kind, kinds)}; known: {', '.join(kinds)}"
    try:
        return get_connector(kind).Options
    except ConnectorError as exc:
        return str(exc)


def _message(err: Any, model: type[StreamOptions], kind: str) -> str:
    if err["type"] != "extra_forbidden":
        return err["msg"]
    parent = _model_at(model, tuple(err["loc"][:-1]))
    known = list(parent.model_fields) if parent else []
    if parent is model:  # a misspelt core key (primry_key) lands among the options too
        known += list(Stream.model_fields)
    return f"unknown option for kind {kind!r}{_did_you_mean(str(err['loc'][-1]), known)}"


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The nested model (e.g. `pagination`'s) that an error location points into."""
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None
        annotation = field.annotation
        candidates = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
