"""Column masks as DuckDB SQL (for rows and queries) with Python twins (for catalog samples), and the keyed pseudonym."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from countyhub.core.masking import REDACTED, TOWNSHIP_RE, kind_of, mask_as
from countyhub.sharing.model import ColumnInfo


def column_kind(column: ColumnInfo) -> str:
    """What the column holds: its declared semantic, else by its name (core/masking.py has the rules)."""
    return kind_of(column.name, column.semantic)


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
        town = f"regexp_extract({x}, '{TOWNSHIP_RE}', 0)"
        body = (f"CASE WHEN {town} <> '' THEN {town} WHEN length({x}) > 6 THEN left({x}, 6) || '…' "
                f"ELSE left({x}, 1) || '…' END")
    else:
        body = f"left({x}, 1) || '***'"
    return f"CASE WHEN {col} IS NULL THEN NULL ELSE {body} END"


def mask_value(column: ColumnInfo, value: Any) -> str | None:
    """The Python twin of mask_sql: the same output for the same value (tests compare them)."""
    return mask_as(masked_kind(column), value)


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
