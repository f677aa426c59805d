"""From a catalog entry to what sharing decides on: the dataset's owner, sharing type and classified columns."""

from __future__ import annotations

from typing import Any

from countyhub.sharing.model import ColumnInfo, DatasetInfo, NotFound


def dataset_info(entry: dict[str, Any]) -> DatasetInfo:
    """The policy's view of one stored catalog entry (its zone is the schema part of the name)."""
    columns = tuple(ColumnInfo(c["name"], c.get("classification") or "internal") for c in entry.get("columns", []))
    return DatasetInfo(name=entry["name"], department=entry["department_code"], sharing_type=entry["sharing_type"],
                       columns=columns, sharing_conditions=entry.get("sharing_conditions", ""),
                       legal_basis=entry.get("legal_basis", ""))


def known_dataset(catalog: Any, name: str) -> tuple[dict[str, Any], DatasetInfo]:
    """The stored entry and its DatasetInfo, or NotFound naming the dataset."""
    entry = catalog.get(name)
    if entry is None:
        raise NotFound(f"no dataset named {name!r} (try /api/search)")
    return entry, dataset_info(entry)
