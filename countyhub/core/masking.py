"""The county's masks (by what a column holds) for sample rows, free text and JSON, so the catalog never holds raw PII."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from countyhub.core.vocab import MASKED

# Digit lookarounds instead of \b: Chinese text has no word boundaries between "电话" and the number.
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# A column named like a credential is redacted whatever its declared classification.
_SECRET_NAME = re.compile(r"password|passwd|secret|token|api[_-]?key|credential", re.IGNORECASE)
MASKED_CLASSIFICATIONS = frozenset(MASKED)
REDACTED = "******"
KINDS = ("id_number", "name", "phone", "address", "other")
# Words before `_name` that make it a person's name; township_name, grid_name, enterprise_name... are not.
_PERSON_NAME_PREFIXES = frozenset({
    "person", "full", "real", "resident", "contact", "applicant", "owner", "head", "householder", "legal_rep",
    "legal_representative", "guardian", "recipient", "spouse", "father", "mother", "patient", "citizen", "member",
    "first", "last", "given", "family", "reporter", "complainant", "student", "child", "pupil", "insured",
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
TOWNSHIP_RE = "^.*?(?:" + "|".join(TOWNSHIP_MARKERS) + ")"
_TOWNSHIP = re.compile(TOWNSHIP_RE)


def kind_of(name: str, semantic: str = "") -> str:
    """What a column's values are: the declared semantic, else by the column's name (_EXACT and suffix rules)."""
    if semantic:
        return semantic if semantic in KINDS else "other"
    name = name.lower()
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


def _text(value: Any) -> str:
    """The value as DuckDB's CAST(... AS VARCHAR) writes it, for the kinds whose masks keep characters."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def mask_as(kind: str, value: Any) -> str | None:
    """The county's display masks: 511724********1234, 张*, 138****5678, an address cut to its township,
    `******` for secrets, the first character for anything else. Applying a mask twice changes nothing."""
    if value is None:
        return None
    x = _text(value)
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


def mask_text(text: str) -> str:
    """Mask every resident ID number and mobile number that appears anywhere in the text."""
    text = _RESIDENT_ID.sub(lambda m: mask_as("id_number", m.group(0)) or "", text)
    return _MOBILE.sub(lambda m: mask_as("phone", m.group(0)) or "", text)


def _mask_cell(column: str, value: Any, classification: str | None) -> Any:
    if value is None:
        return None
    if classification == "secret" or _SECRET_NAME.search(column):
        return REDACTED
    if classification in MASKED_CLASSIFICATIONS:
        return mask_as(kind_of(column), value)
    if isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        # An ID or phone stored as an integer column must not slip through as a number.
        masked = mask_text(str(value))
        return value if masked == str(value) else masked
    if isinstance(value, str):
        return mask_text(value)
    return mask_text(str(value))


def mask_rows(rows: Iterable[dict[str, Any]], classifications: dict[str, str]) -> list[dict[str, Any]]:
    """Masked copies of rows; `classifications` maps column name to public/internal/sensitive/secret."""
    return [
        {str(k): _mask_cell(str(k), v, classifications.get(str(k))) for k, v in row.items()} for row in rows
    ]


def mask_json(value: Any, whole: bool = False) -> Any:
    """Mask IDs and phones in every string inside nested lists/dicts; `whole` masks every string leaf."""
    if isinstance(value, dict):
        return {k: mask_json(v, whole) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_json(v, whole) for v in value]
    if isinstance(value, str):
        if whole and value:
            found = mask_text(value)
            return found if found != value else mask_as("other", value)
        return mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        masked = mask_text(str(value))
        return value if masked == str(value) else masked
    return value
