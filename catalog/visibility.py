"""What a caller may see of the catalog: which entries (search, lists, exports), and of one entry which samples."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import Request

from countyhub.catalog.access import dataset_info
from countyhub.catalog.auth import grant_for, record
from countyhub.core.vocab import MASKED
from countyhub.sharing import policy
from countyhub.sharing.masks import mask_row
from countyhub.sharing.model import Access, DatasetInfo, Forbidden, NotFound, Principal

MaySee = Callable[[str, str, str], bool]


def may_see(who: Principal) -> MaySee:
    """`(zone, department, sharing_type) -> bool` for the search index, asking the policy once per group."""
    seen: dict[tuple[str, str, str], bool] = {}

    def check(zone: str, department: str, sharing_type: str) -> bool:
        key = (zone, department, sharing_type)
        if key not in seen:
            probe = DatasetInfo(f"{zone}.*", department, sharing_type)  # type: ignore[arg-type]
            seen[key] = policy.may_see_entry(who, probe)
        return seen[key]

    return check


def visible(who: Principal, rows: Iterable[dict[str, Any]], name: str = "name",
            department: str = "department") -> list[dict[str, Any]]:
    """The rows (entries, summaries, quality rows) naming datasets the caller may see."""
    check = may_see(who)
    out = []
    for row in rows:
        zone = row[name].split(".", 1)[0] if "." in row[name] else "shared"
        if check(zone, row.get(department) or row.get("department_code", ""), row.get("sharing_type", "")):
            out.append(row)
    return out


def visible_names(who: Principal, catalog: Any) -> set[str]:
    return {d["name"] for d in visible(who, catalog.datasets())}


def refuse(who: Principal, info: DatasetInfo) -> Forbidden:
    """The 403 for an entry the caller may not see, with the policy's reason when it gives one."""
    reason = ""
    try:
        reason = policy.decide(who, info, None).reason
    except Exception:  # noqa: BLE001 - the reason is a courtesy; the refusal stands whatever decide does
        reason = ""
    return Forbidden(reason or f"the {info.zone} zone is for engineers and admins; not visible to role {who.role}")


def entry_access(request: Request, who: Principal, entry: dict[str, Any]) -> tuple[DatasetInfo, Access]:
    """The entry's DatasetInfo and the caller's Access to it, or Forbidden when the entry is not visible."""
    info = dataset_info(entry)
    if not policy.may_see_entry(who, info):
        raise refuse(who, info)
    return info, policy.decide(who, info, grant_for(request, who, entry["name"]))


def samples(entry: dict[str, Any], access: Access) -> list[dict[str, Any]]:
    """Sample rows as the caller may see them: none without row access; only the access's columns; the columns
    the policy masks masked with the rows API's masks (stored samples are already masked by classification at
    registration, with the same masks: masking twice changes nothing)."""
    if not access.rows:
        return []
    keep = set(access.columns) if access.columns else None
    info = dataset_info(entry)
    rows = [{c: v for c, v in row.items() if keep is None or c in keep} for row in entry.get("sample_rows") or []]
    return [mask_row(row, info.columns, access.masked) for row in rows]


def access_json(access: Access) -> dict[str, Any]:
    return {"rows": access.rows, "reason": access.reason, "columns": list(access.columns),
            "masked": sorted(access.masked), "grant_id": access.grant_id}


def shown_entry(request: Request, who: Principal, catalog: Any, name: str) -> tuple[dict[str, Any], Access]:
    """One visible entry as the caller may see it (samples per the policy); NotFound or Forbidden otherwise.
    Showing samples of a sensitive dataset is a read, so it goes on the audit record."""
    entry = catalog.get(name)
    if entry is None:
        raise NotFound(f"no dataset named {name!r} (try /api/search)")
    _, access = entry_access(request, who, entry)
    rows = samples(entry, access)
    sensitive = entry.get("classification") in MASKED or any(
        c.get("classification") in MASKED for c in entry.get("columns", []))
    if rows and sensitive:
        record(request, who, "sample_view", name, columns=list(rows[0]), grant_id=access.grant_id, rows=len(rows))
    return entry | {"sample_rows": rows, "access": access_json(access)}, access
