"""What a catalog entry carries: the government information-resource catalog fields, validation and defaults."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from countyhub.core.vocab import CLASSIFICATIONS, SHARING_TYPES

KINDS = ("raw_stream", "model", "published")
# 基础 / 主题 / 部门 information resources (the 2016 national rules' three classes of resource).
RESOURCE_CLASSES = ("basic", "thematic", "departmental")
SHARING_MODES = ("query", "api", "download")
OPEN_ATTRIBUTES = ("open", "conditional_open", "not_open")
KIND_LETTER = {"raw_stream": "R", "model": "M", "published": "S"}
CLASS_LETTER = {"basic": "1", "thematic": "2", "departmental": "3"}


@dataclass
class Column:
    name: str
    type: str
    description: str = ""
    classification: str = "internal"
    since: str = ""  # ISO date a load added this column to the source (schema drift); "" if there from the start
    dropped: str = ""  # ISO date since which the source no longer sends it (kept in raw, NULL in newer rows)


@dataclass
class DatasetEntry:
    name: str
    kind: str
    title_zh: str
    title_en: str
    description: str  # the catalog's "abstract" (摘要)
    department_code: str
    department_name: str
    sharing_type: str
    classification: str
    columns: list[Column]
    upstream: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    update_cycle: str = ""
    contract: str = ""
    row_count: int | None = None
    sample_rows: list[dict] = field(default_factory=list)
    # Catalog fields the flow may not pass yet; fill_defaults derives a sensible value for each empty one.
    resource_code: str = ""
    resource_class: str = ""
    themes: list[str] = field(default_factory=list)
    sharing_conditions: str = ""
    legal_basis: str = ""
    sharing_modes: list[str] = field(default_factory=list)
    open_attribute: str = ""
    issued: str = ""  # ISO date; defaults to the first registration
    modified: str = ""  # ISO timestamp; defaults to the latest registration or publication
    related: list[str] = field(default_factory=list)
    steward: str = ""
    contact: str = ""
    contract_version: str = ""
    origin: str = ""  # the department system stream a raw dataset comes from, e.g. "户籍管理系统 (sql) / persons"
    # Raw streams: what loads changed in the source's columns, newest first (from lake.meta.schema_changes):
    # {changed_at, load_id, column, change (added/dropped/retyped/widened), old_type, new_type}.
    schema_changes: list[dict] = field(default_factory=list)


def validate(entry: DatasetEntry) -> None:
    """Raise ValueError naming the dataset and the field when a coded value is not one of the allowed ones."""
    single = (("kind", KINDS), ("sharing_type", SHARING_TYPES), ("classification", CLASSIFICATIONS),
              ("resource_class", RESOURCE_CLASSES), ("open_attribute", OPEN_ATTRIBUTES))
    for attr, allowed in single:
        if getattr(entry, attr) not in allowed:
            raise ValueError(f"dataset {entry.name!r}: {attr}={getattr(entry, attr)!r}, expected one of {allowed}")
    for mode in entry.sharing_modes:
        if mode not in SHARING_MODES:
            raise ValueError(f"dataset {entry.name!r}: sharing mode {mode!r}, expected one of {SHARING_MODES}")
    for col in entry.columns:
        if col.classification not in CLASSIFICATIONS:
            raise ValueError(f"dataset {entry.name!r} column {col.name!r}: classification {col.classification!r}")


def derive_resource_code(entry: DatasetEntry) -> str:
    """A stable code shaped like the national catalog's (class-department-sequence); same name, same code."""
    seq = zlib.crc32(entry.name.encode("utf-8")) % 1_000_000
    letter = CLASS_LETTER.get(entry.resource_class, "3") + KIND_LETTER.get(entry.kind, "X")
    return f"{letter}-{entry.department_code.upper()}-{seq:06d}"


def fill_defaults(entry: DatasetEntry, now_iso: str) -> DatasetEntry:
    """Fill the empty optional fields in place; what the flow passes explicitly always wins."""
    if not entry.resource_class:
        # A published cross-department dataset is thematic; anything a single department holds is departmental.
        entry.resource_class = "thematic" if entry.kind == "published" else "departmental"
    if not entry.resource_code:
        entry.resource_code = derive_resource_code(entry)
    if not entry.sharing_modes:
        modes = ["query"]
        if entry.kind == "published":
            modes.append("api")
        if entry.sharing_type == "unconditional" and entry.classification == "public":
            modes.append("download")
        entry.sharing_modes = modes
    if not entry.open_attribute:
        public = entry.sharing_type == "unconditional" and entry.classification == "public"
        entry.open_attribute = "conditional_open" if public else "not_open"
    if not entry.themes:
        entry.themes = []
    entry.issued = entry.issued or now_iso[:10]
    entry.modified = entry.modified or now_iso
    return entry


def coerce_columns(columns: list[Column | dict[str, Any]]) -> list[Column]:
    """Columns given as plain dicts (e.g. read from a contract) are accepted as well as Column objects."""
    return [Column(**c) if isinstance(c, dict) else c for c in columns]
