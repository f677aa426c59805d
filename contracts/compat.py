"""Breaking changes between a published contract and its edited version: allowed only with a new major version."""

from __future__ import annotations

import re
from dataclasses import dataclass

from countyhub.contracts.odcs import Contract

_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
_FLOATS = ("FLOAT", "DOUBLE")
_DECIMAL = re.compile(r"^DECIMAL\((\d+),(\d+)\)$")
_VARCHAR = re.compile(r"^VARCHAR(?:\((\d+)\))?$")


@dataclass(frozen=True)
class Change:
    column: str
    what: str  # removed, type narrowed, required added, unique added

    def __str__(self) -> str:
        return f"{self.column}: {self.what}"


def _norm(type_: str) -> str:
    return type_.upper().replace(" ", "")


def widens(old: str, new: str) -> bool:
    """True when every value of type old fits type new unchanged (so readers of old keep working)."""
    old, new = _norm(old), _norm(new)
    if old == new:
        return True
    if old in _INTEGERS and new in _INTEGERS:
        return _INTEGERS.index(new) >= _INTEGERS.index(old)
    if old in _INTEGERS[:3] and new == "DOUBLE" or old == "FLOAT" and new == "DOUBLE":
        return True
    if (a := _DECIMAL.match(old)) and (b := _DECIMAL.match(new)):
        (p1, s1), (p2, s2) = map(int, a.groups()), map(int, b.groups())
        return s2 >= s1 and p2 - s2 >= p1 - s1
    if (a := _VARCHAR.match(old)) and (b := _VARCHAR.match(new)):
        return b.group(1) is None or (a.group(1) is not None and int(b.group(1)) >= int(a.group(1)))
    if old == "DATE" and new in ("TIMESTAMP", "TIMESTAMPTZ"):
        return False  # readers comparing dates would break
    return False


def major(version: str) -> int:
    head = version.split(".")[0].lstrip("v")
    return int(head) if head.isdigit() else 0


def breaking_changes(published: Contract, edited: Contract) -> list[Change]:
    """Columns removed, types narrowed (or changed to an unrelated type), required or unique added."""
    new = {c.name: c for c in edited.columns}
    changes = []
    for old in published.columns:
        col = new.get(old.name)
        if col is None:
            changes.append(Change(old.name, "removed"))
            continue
        if not widens(old.physical_type, col.physical_type):
            changes.append(Change(old.name, f"type narrowed {old.physical_type} -> {col.physical_type}"))
        if col.required and not old.required:
            changes.append(Change(old.name, "required added"))
        if col.unique and not old.unique:
            changes.append(Change(old.name, "unique added"))
    return changes


def check(published: Contract, edited: Contract) -> tuple[bool, list[Change]]:
    """(ok, changes): breaking changes are ok only when the major version went up."""
    changes = breaking_changes(published, edited)
    return (not changes or major(edited.version) > major(published.version)), changes
