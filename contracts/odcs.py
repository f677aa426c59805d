"""Load ODCS v3 data contracts into a small typed view: columns, owner, sharing type and the rules to check."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml
from open_data_contract_standard.model import OpenDataContractStandard
from pydantic import ValidationError

from countyhub.contracts.rules.predicates import DOMAIN_EXPECTATIONS, ROW_LEVEL
from countyhub.core.vocab import CLASSIFICATIONS, SHARING_TYPES

Severity = Literal["error", "warn", "quarantine"]
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_SEVERITY = {"error": "error", "critical": "error", "high": "error",
             "warn": "warn", "warning": "warn", "info": "warn", "low": "warn", "quarantine": "quarantine"}
VOLUME_EXPECTATION = "expect_table_row_count_to_not_drop_more_than"


class ContractError(ValueError):
    """A contract file is invalid; the message names the file and the field."""


@dataclass(frozen=True)
class Column:
    name: str
    physical_type: str  # DuckDB type, e.g. VARCHAR, DECIMAL(12,2): the dbt model contract uses it as-is
    logical_type: str | None
    required: bool
    unique: bool
    primary_key: bool
    classification: str
    description: str | None = None
    business_name: str | None = None


@dataclass(frozen=True)
class Rule:
    """One check. kind: not_null, unique, compound_unique, type, in_set, regex, range, row_count, sql, custom,
    volume, foreign_key, or a domain kind (resident_id, credit_code, division_code, mobile, not_future)."""

    name: str
    kind: str
    column: str | None
    params: dict[str, Any] = field(default_factory=dict)
    severity: Severity = "error"
    description: str | None = None


@dataclass(frozen=True)
class Contract:
    path: Path
    id: str
    dataset: str
    title: str | None
    version: str
    department: str
    owner: str
    sharing_type: str
    sharing_conditions: str | None
    legal_basis: str | None
    update_cycle: str | None
    freshness: str | None  # SLA latency, e.g. "1d"
    description: str | None
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...]
    custom: dict[str, Any]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def references(self) -> set[str]:
        """Datasets this one's rules read (referential integrity): they must be published first."""
        return {r.params["dataset"] for r in self.rules if r.kind == "foreign_key"}

    @property
    def classification(self) -> str:
        """The most restrictive column classification: what the whole dataset must be treated as."""
        return max((c.classification for c in self.columns), key=CLASSIFICATIONS.index, default="internal")


# libyaml's parser when PyYAML was built with it: the pure-Python one takes ~30 ms a contract.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def _schema_validator() -> jsonschema.Validator:
    # The JSON Schema shipped with the Pydantic model is stricter (enums, required keys, no unknown keys).
    text = resources.files("open_data_contract_standard").joinpath("schema.json").read_text(encoding="utf-8")
    return jsonschema.Draft201909Validator(json.loads(text))


def _loc(parts: Any) -> str:
    """schema[0].properties[2].quality — the same spelling for JSON Schema, Pydantic and our own checks."""
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
    return text or "(top)"


def _fail(path: Path, where: str, msg: str) -> ContractError:
    return ContractError(f"{path}: field '{where}': {msg}")


def _quality_rules(path: Path, where: str, items: list[Any], column: str | None) -> list[Rule]:
    """Compile ODCS quality items; anything this gate cannot check is an error, never silently skipped."""
    rules = []
    for i, q in enumerate(items):
        at = f"{where}.quality[{i}]"
        severity = _SEVERITY.get((q.severity or "error").lower())
        if severity is None:
            raise _fail(path, f"{at}.severity", f"{q.severity!r} is not one of {sorted(_SEVERITY)}")
        name = q.name or q.id or f"{column or 'table'}_{i}"
        common = {"name": name, "column": column, "severity": severity, "description": q.description}
        kind = q.type or "library"
        metric = q.metric or q.rule
        if kind == "library" and metric == "rowCount":
            low = q.mustBeGreaterOrEqualTo
            if q.mustBeGreaterThan is not None:
                low = q.mustBeGreaterThan + 1
            high = q.mustBeLessOrEqualTo if q.mustBeLessThan is None else q.mustBeLessThan - 1
            if q.mustBeBetween:
                low, high = q.mustBeBetween
            if q.mustBe is not None:
                low = high = q.mustBe
            rules.append(Rule(kind="row_count", params={"min": low, "max": high}, **{**common, "column": None}))
            continue
        if kind == "library":
            if column is None:
                raise _fail(path, f"{at}.metric", f"{metric!r} needs a column; put it under the property")
            if q.mustBe not in (None, 0) or any(v is not None for v in (q.mustBeGreaterThan, q.mustBeLessThan)):
                raise _fail(path, at, "only 'mustBe: 0' (no offending rows) is supported for column metrics")
            args = q.arguments or {}
            if metric in ("nullValues", "missingValues"):
                rules.append(Rule(kind="not_null", **common))
            elif metric == "duplicateValues":
                rules.append(Rule(kind="unique", **common))
            elif metric == "invalidValues" and "validValues" in args:
                rules.append(Rule(kind="in_set", params={"values": list(args["validValues"])}, **common))
            elif metric == "invalidValues" and "pattern" in args:
                rules.append(Rule(kind="regex", params={"pattern": args["pattern"]}, **common))
            else:
                raise _fail(path, f"{at}.metric", f"unsupported metric/arguments {metric!r} {args}")
        elif kind == "sql":
            ops = {"mustBe": "=", "mustBeGreaterThan": ">", "mustBeGreaterOrEqualTo": ">=",
                   "mustBeLessThan": "<", "mustBeLessOrEqualTo": "<="}
            found = [(op, getattr(q, k)) for k, op in ops.items() if getattr(q, k) is not None]
            if len(found) != 1 or not q.query:
                raise _fail(path, at, "a sql rule needs a query and exactly one mustBe* comparison")
            rules.append(Rule(kind="sql", params={"query": q.query, "op": found[0][0], "value": found[0][1]},
                              **common))
        elif kind == "custom" and (q.engine or "").replace("-", "").lower() == "greatexpectations":
            impl = yaml.safe_load(q.implementation) if isinstance(q.implementation, str) else q.implementation
            if not isinstance(impl, dict) or not isinstance(impl.get("type"), str):
                raise _fail(path, f"{at}.implementation", "must be a mapping with 'type' (expectation) and 'kwargs'")
            kwargs = impl.get("kwargs") or {}
            if impl["type"] in DOMAIN_EXPECTATIONS:
                rules.append(Rule(kind=DOMAIN_EXPECTATIONS[impl["type"]], params=kwargs, **common))
            elif impl["type"] == VOLUME_EXPECTATION:
                if not isinstance(kwargs.get("max_drop_percent"), int | float):
                    raise _fail(path, f"{at}.implementation.kwargs", "needs max_drop_percent (a number)")
                rules.append(Rule(kind="volume", params=kwargs, **{**common, "column": None}))
            else:
                rules.append(Rule(kind="custom", params={"type": impl["type"], "kwargs": kwargs}, **common))
        elif kind != "text":  # text rules are documentation for people
            raise _fail(path, f"{at}.type", f"unsupported quality type {kind!r} (engine {q.engine!r})")
        if rules and rules[-1].severity == "quarantine" and rules[-1].kind not in ROW_LEVEL:
            raise _fail(path, f"{at}.severity", f"quarantine needs a row-level rule ({sorted(ROW_LEVEL)})")
    return rules


def _relationship_rules(path: Path, where: str, prop: Any) -> list[Rule]:
    """Property-level foreignKey relationships ('to: <dataset>.<column>') become referential-integrity rules."""
    rules = []
    for i, rel in enumerate(prop.relationships or []):
        target = rel.to if isinstance(rel.to, str) else ""
        if (rel.type or "foreignKey") != "foreignKey" or target.count(".") != 1:
            raise _fail(path, f"{where}.relationships[{i}].to", "must be a foreignKey to '<dataset>.<column>'")
        dataset, column = target.split(".")
        severity = _SEVERITY.get(str(_custom(rel.customProperties).get("severity", "error")).lower())
        if severity is None:
            raise _fail(path, f"{where}.relationships[{i}].customProperties", f"severity not in {sorted(_SEVERITY)}")
        rules.append(Rule(name=f"{prop.name}_references_{dataset}", kind="foreign_key", column=prop.name,
                          params={"dataset": dataset, "column": column}, severity=severity,
                          description=f"every {prop.name} exists in shared.{dataset}.{column}"))
    return rules


def _column_rules(path: Path, where: str, prop: Any) -> list[Rule]:
    name = prop.name
    rules = [Rule(name=f"{name}_type", kind="type", column=name, params={"type": prop.physicalType})]
    if prop.required:
        rules.append(Rule(name=f"{name}_required", kind="not_null", column=name))
    if prop.unique:
        rules.append(Rule(name=f"{name}_unique", kind="unique", column=name))
    opts = prop.logicalTypeOptions or {}
    if "pattern" in opts:
        rules.append(Rule(name=f"{name}_pattern", kind="regex", column=name, params={"pattern": opts["pattern"]}))
    if "minimum" in opts or "maximum" in opts:
        rules.append(Rule(name=f"{name}_range", kind="range", column=name,
                          params={"min": opts.get("minimum"), "max": opts.get("maximum")}))
    return rules + _quality_rules(path, where, prop.quality or [], name) + _relationship_rules(path, where, prop)


def _custom(props: list[Any] | None) -> dict[str, Any]:
    return {p.property: p.value for p in props or [] if p.property}


def load_contract(path: Path | str) -> Contract:
    """Parse, validate (ODCS JSON Schema and Pydantic model) and compile one contract file."""
    path = Path(path)
    return _compiled(path, path.read_text(encoding="utf-8"))


@lru_cache(maxsize=512)
def _compiled(path: Path, text: str) -> Contract:
    """One compile per file text and process: one run's build, gate and catalog each read every contract, and the
    JSON Schema check alone costs ~40 ms a file. An edited file is another key (a Contract is immutable)."""
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ContractError(f"{path}: a contract must be a mapping (apiVersion, kind, id, version, schema)")
    errors = sorted(_schema_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise ContractError("\n".join(
            f"{path}: field '{_loc(e.absolute_path)}': {e.message[:300]}" for e in errors))
    try:
        odcs = OpenDataContractStandard.model_validate(data)
    except ValidationError as exc:
        raise ContractError("\n".join(
            f"{path}: field '{_loc(e['loc'])}': {e['msg']}" for e in exc.errors())) from None
    if not odcs.schema_ or len(odcs.schema_) != 1:
        raise _fail(path, "schema", "exactly one schema object (the published table) is expected")
    obj = odcs.schema_[0]
    if not IDENTIFIER.match(obj.physicalName or obj.name or ""):
        raise _fail(path, "schema[0].physicalName", "must be a lower-case SQL identifier (the table name)")
    custom = _custom(odcs.customProperties)
    columns, rules = [], _quality_rules(path, "schema[0]", obj.quality or [], None)
    for i, prop in enumerate(obj.properties or []):
        where = f"schema[0].properties[{i}]"
        if not IDENTIFIER.match(prop.name or "") or not prop.physicalType:
            raise _fail(path, where, "every property needs a lower-case identifier name and a physicalType")
        if prop.classification not in CLASSIFICATIONS:
            raise _fail(path, f"{where}.classification", f"{prop.classification!r} is not one of {CLASSIFICATIONS}")
        columns.append(Column(prop.name, prop.physicalType, prop.logicalType, bool(prop.required),
                              bool(prop.unique), bool(prop.primaryKey), prop.classification,
                              prop.description, prop.businessName))
        rules += _column_rules(path, where, prop)
    keys = [c.name for c in sorted(columns, key=lambda c: _pk_position(obj, c.name)) if c.primary_key]
    if len(keys) == 1 and not columns[[c.name for c in columns].index(keys[0])].unique:
        rules.append(Rule(name=f"{keys[0]}_primary_key", kind="unique", column=keys[0]))
    elif len(keys) > 1:
        rules.append(Rule(name="primary_key", kind="compound_unique", column=None, params={"columns": keys}))
    for key in ("department", "steward", "sharingType"):
        if not custom.get(key):
            raise _fail(path, "customProperties", f"property {key!r} is required")
    if custom["sharingType"] not in SHARING_TYPES:
        raise _fail(path, "customProperties.sharingType", f"{custom['sharingType']!r} not in {SHARING_TYPES}")
    if custom["sharingType"] == "not_shared" and not custom.get("legalBasis"):
        raise _fail(path, "customProperties.legalBasis", "a not_shared dataset must state its legal basis")
    latency = next((s for s in odcs.slaProperties or [] if s.property in ("latency", "freshness")), None)
    desc = odcs.description.purpose if odcs.description else None
    return Contract(
        path=path, id=odcs.id or "", dataset=obj.physicalName or obj.name or "", title=custom.get("titleZh"),
        version=odcs.version or "", department=custom["department"], owner=custom["steward"],
        sharing_type=custom["sharingType"], sharing_conditions=custom.get("sharingConditions"),
        legal_basis=custom.get("legalBasis"), update_cycle=custom.get("updateCycle"),
        freshness=f"{latency.value}{latency.unit or ''}" if latency else None, description=desc,
        columns=tuple(columns), rules=tuple(rules), custom=custom,
    )


def _pk_position(obj: Any, name: str) -> int:
    prop = next(p for p in obj.properties if p.name == name)
    return prop.primaryKeyPosition or 0


def load_contracts(folder: Path | str) -> list[Contract]:
    """Every <department>/<dataset>.odcs.yaml under folder, sorted by path."""
    return [load_contract(p) for p in sorted(Path(folder).glob("*/*.odcs.yaml"))]
