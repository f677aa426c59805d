"""Column masks as DuckDB SQL (for rows and queries) with Python twins (for catalog samples), and the keyed pseudonym."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from countyhub.sharing.model import ColumnInfo

REDACTED = "******"
KINDS = ("id_number", "name", "phone", "address", "other")
# Words before `_name` that make it a person's name; township_name, grid_name, enterprise_name... are not.
_PERSON_NAME_PREFIXES = frozenset({
    "person", "full", "real", "resident", "contact", "applicant", "owner", "head", "householder", "legal_rep",
    "legal_representative", "guardian", "recipient", "spouse", "father", "mother", "patient", "citizen", "member",
    "first", "last", "given", "family", "reporter", "complainant",
})
_EXACT = {
    "id_number": "id_number", "id_card": "id_number", "id_card_number": "id_number", "身份证号": "id_number",
    "身份证号码": "id_number", "证件号码": "id_number",
    "name": "name", "legal_representative": "name", "姓名": "name",
    "phone": "phone", "mobile": "phone", "telephone": "phone", "tel": "phone", "电话": "phone", "手机": "phone",
    "手机号": "phone", "联系电话": "phone",
    "address": "address", "addr": "address", "地址": "address", "住址": "address", "家庭住址": "address",
}
# Where an address stops being the township: the first of these markers (镇 town, 乡 township, 街道/街办 subdistrict).
TOWNSHIP_MARKERS = ("镇", "乡", "街道", "街办")
_TOWNSHIP_RE = "^.*?(?:" + "|".join(TOWNSHIP_MARKERS) + ")"
_TOWNSHIP = re.compile(_TOWNSHIP_RE)


def column_kind(column: ColumnInfo) -> str:
    """What the value is: the declared semantic, else by the column's name (see _EXACT and the suffix rules)."""
    if column.semantic:
        return column.semantic if column.semantic in KINDS else "other"
    name = column.name.lower()
    if name in _EXACT:
        return _EXACT[name]
    if name.endswith("_id_number"):
        return "id_number"
    if name.endswith(("_phone", "_mobile", "_tel", "_telephone")):
        return "phone"
    if name.endswith(("_address", "_addr")):
        return "address"
    if name.endswith("_name") and name.removesuffix("_name") in _PERSON_NAME_PREFIXES:
        return "name"
    return "other"


def masked_kind(column: ColumnInfo) -> str:
    """The mask a masked column gets: `secret` columns are redacted whatever their kind."""
    return "secret" if column.classification == "secret" else column_kind(column)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def mask_sql(column: ColumnInfo, ref: str | None = None) -> str:
    """A DuckDB expression (VARCHAR, NULL stays NULL) that masks the column; `ref` is the column as SQL."""
    col = ref or _q(column.name)
    x = f"CAST({col} AS VARCHAR)"
    kind = masked_kind(column)
    if kind == "secret":
        body = f"'{REDACTED}'"
    elif kind == "id_number":
        body = (f"CASE WHEN length({x}) > 10 THEN left({x}, 6) || repeat('*', length({x}) - 10) || right({x}, 4) "
                f"ELSE left({x}, 1) || '***' END")
    elif kind == "name":
        body = f"left({x}, 1) || repeat('*', greatest(length({x}) - 1, 1))"
    elif kind == "phone":
        body = (f"CASE WHEN length({x}) >= 8 THEN left({x}, 3) || repeat('*', length({x}) - 7) || right({x}, 4) "
                f"ELSE left({x}, 1) || '***' END")
    elif kind == "address":
        # A short address without a township marker would be shown whole by "first 6 + …": keep 1 instead.
        town = f"regexp_extract({x}, '{_TOWNSHIP_RE}', 0)"
        body = (f"CASE WHEN {town} <> '' THEN {town} WHEN length({x}) > 6 THEN left({x}, 6) || '…' "
                f"ELSE left({x}, 1) || '…' END")
    else:
        body = f"left({x}, 1) || '***'"
    return f"CASE WHEN {col} IS NULL THEN NULL ELSE {body} END"


def _text(value: Any) -> str:
    """The value as DuckDB's CAST(... AS VARCHAR) writes it, for the kinds whose masks keep characters."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def mask_value(column: ColumnInfo, value: Any) -> str | None:
    """The Python twin of mask_sql: the same output for the same value (tests compare them)."""
    if value is None:
        return None
    kind, x = masked_kind(column), _text(value)
    if kind == "secret":
        return REDACTED
    if kind == "id_number":
        return x[:6] + "*" * (len(x) - 10) + x[-4:] if len(x) > 10 else x[:1] + "***"
    if kind == "name":
        return x[:1] + "*" * max(len(x) - 1, 1)
    if kind == "phone":
        return x[:3] + "*" * (len(x) - 7) + x[-4:] if len(x) >= 8 else x[:1] + "***"
    if kind == "address":
        town = _TOWNSHIP.match(x)
        if town:
            return town.group(0)
        return x[:6] + "…" if len(x) > 6 else x[:1] + "…"
    return x[:1] + "***"


def mask_row(row: dict[str, Any], columns: tuple[ColumnInfo, ...], masked: frozenset[str]) -> dict[str, Any]:
    """One sample row as a caller may see it: masked columns masked, the rest as they are."""
    info = {c.name: c for c in columns}
    return {k: mask_value(info.get(k, ColumnInfo(k)), v) if k in masked else v for k, v in row.items()}


def pseudonym_column(column: str) -> str:
    """The pseudonym's column name: id_number -> person_key, legal_rep_id_number -> legal_rep_person_key."""
    if column.lower() == "id_number":
        return "person_key"
    if column.lower().endswith("_id_number"):
        return column[: -len("id_number")] + "person_key"
    return f"{column}_person_key"


def pseudonym(key: bytes, value: Any) -> str | None:
    """hex HMAC-SHA256(key, the ID number trimmed and upper-cased), so 'x' and 'X' check digits join alike."""
    if value is None:
        return None
    return hmac.new(key, str(value).strip().upper().encode(), hashlib.sha256).hexdigest()
