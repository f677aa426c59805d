"""Mask personal data in sample rows before the catalog stores them, so the catalog never holds raw PII."""

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


def mask_value(value: str) -> str:
    """Keep the first 3 and last 2 characters (the usual Chinese display rule); short values keep 1."""
    if len(value) <= 5:
        return value[:1] + "*" * max(len(value) - 1, 1)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


def mask_text(text: str) -> str:
    """Mask every resident ID number and mobile number that appears anywhere in the text."""
    text = _RESIDENT_ID.sub(lambda m: mask_value(m.group(0)), text)
    return _MOBILE.sub(lambda m: mask_value(m.group(0)), text)


def _mask_cell(column: str, value: Any, classification: str | None) -> Any:
    if value is None:
        return None
    if classification == "secret" or _SECRET_NAME.search(column):
        return REDACTED
    if classification in MASKED_CLASSIFICATIONS:
        return mask_value(str(value))
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
        return mask_value(value) if whole and value else mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        masked = mask_text(str(value))
        return value if masked == str(value) else masked
    return value
