"""Catalog entries shaped as CKAN package and organization dicts (the fields portal tooling reads)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from countyhub.catalog.dcat import MODE_FORMAT

EXTRAS = ("resource_code", "resource_class", "sharing_type", "sharing_conditions", "legal_basis", "classification",
          "open_attribute", "kind", "gate_status", "contract", "contract_version", "title_en", "update_cycle")


def ckan_name(name: str) -> str:
    """CKAN names allow [a-z0-9_-] only: shared.resident_profile -> shared-resident_profile (reversible)."""
    return name.replace(".", "-", 1)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    return str(value or "").replace("+00:00", "")


def organization(code: str, name: str, count: int) -> dict[str, Any]:
    return {"id": code, "name": code, "title": name, "display_name": name, "type": "organization",
            "is_organization": True, "state": "active", "approval_status": "approved", "package_count": count,
            "description": "", "image_url": ""}


def package(e: dict[str, Any], base: str) -> dict[str, Any]:
    """One CKAN package: resources are the sharing modes, tags the keywords, groups the themes."""
    page = f"{base}datasets/{quote(e['name'])}"
    resources = [{"id": f"{e['name']}#{mode}", "package_id": e["name"], "name": mode, "format": MODE_FORMAT[mode],
                  "url": f"{base}api/datasets/{quote(e['name'])}" if mode == "api" else page, "state": "active",
                  "description": f"{mode} access to {e['name']}", "position": i}
                 for i, mode in enumerate(e.get("sharing_modes", []))]
    version = e.get("published_version") or e.get("contract_version") or ""
    return {
        "id": e["name"], "name": ckan_name(e["name"]), "title": e.get("title_zh") or e["name"],
        "notes": e.get("description", ""), "type": "dataset", "state": "active", "private": False,
        "owner_org": e["department_code"],
        "organization": organization(e["department_code"], e.get("department_name", ""), 0),
        "tags": [{"name": k, "display_name": k, "state": "active"} for k in e.get("keywords", [])],
        "num_tags": len(e.get("keywords", [])),
        "groups": [{"name": t, "title": t, "display_name": t} for t in e.get("themes", [])],
        "resources": resources, "num_resources": len(resources),
        "metadata_created": _iso(e.get("registered_at") or e.get("issued")),
        "metadata_modified": _iso(e.get("modified") or e.get("updated_at")),
        "maintainer": e.get("steward", ""), "maintainer_email": e.get("contact", ""),
        "author": e.get("department_name", ""), "version": str(version), "url": page,
        "frequency": e.get("update_cycle", ""), "license_id": "", "isopen": e.get("open_attribute") == "open",
        "extras": [{"key": k, "value": str(e[k])} for k in EXTRAS if e.get(k) not in (None, "")],
    }
