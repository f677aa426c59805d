"""A CKAN Action API subset at /api/3/action/… and /api/action/…, so ckanapi and portal tooling work unchanged."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from countyhub.catalog.access import dataset_info
from countyhub.catalog.auth import ckan_principal
from countyhub.catalog.ckan_package import ckan_name, organization, package
from countyhub.catalog.facets import FACETS
from countyhub.catalog.store import Catalog
from countyhub.catalog.visibility import may_see, refuse, visible
from countyhub.sharing import policy
from countyhub.sharing.model import Principal

CKAN_VERSION = "2.10.4"  # the Action API behaviour mirrored here; ckanapi only checks `success`/`result`/`error`
# CKAN field names (as in fq and facet.field) -> catalog facets.
FIELDS = {"organization": "department", "owner_org": "department", "tags": "tag", "groups": "theme",
          **{f: f for f in FACETS}}
_FQ = re.compile(r'([+-]?)([\w.]+):(?:"([^"]*)"|(\S+))')
MAX_ROWS = 1000
_CKAN_CALLER = Depends(ckan_principal)


class ActionError(Exception):
    def __init__(self, kind: str, message: str, status: int) -> None:
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status


def parse_fq(fq: str) -> dict[str, list[str]]:
    """Solr-style filters as CKAN portals send them: organization:gaj tags:"户籍" +groups:population."""
    facets: dict[str, list[str]] = {}
    rest = _FQ.sub(lambda m: "", fq or "").replace("AND", "").strip()
    if rest:
        raise ActionError("Search Query Error", f"Search Query Error: cannot parse fq {rest!r}", 409)
    for sign, field, quoted, bare in _FQ.findall(fq or ""):
        if sign == "-":
            raise ActionError("Search Query Error", "Search Query Error: negative filters are not supported", 409)
        if field not in FIELDS:
            raise ActionError("Search Query Error", f"Search Query Error: unknown field {field!r}", 409)
        facets.setdefault(FIELDS[field], []).append(quoted or bare)
    return facets


def _list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = json.loads(value) if value.startswith("[") else [value]
    return [str(v) for v in value]


class Actions:
    """Each public method is one action; data_dict arrives as CKAN sends it (query string or JSON body).
    Every answer holds only the entries the caller may see (CKAN's own 403 shape for one it may not)."""

    def __init__(self, catalog: Catalog, base: str, who: Principal) -> None:
        self.catalog, self.base, self.who = catalog, base, who

    def _entry(self, ident: str) -> dict[str, Any]:
        for name in (ident, ident.replace("-", ".", 1)):
            entry = self.catalog.get(name) if name else None
            if entry is not None:
                info = dataset_info(entry)
                if not policy.may_see_entry(self.who, info):
                    raise ActionError("Authorization Error", refuse(self.who, info).message, 403)
                return entry
        raise ActionError("Not Found Error", "Not found: dataset", 404)

    def _departments(self) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        for d in visible(self.who, self.catalog.datasets()):
            counts[d["department"]] = counts.get(d["department"], 0) + 1
        return [d | {"datasets": counts[d["code"]]} for d in self.catalog.departments() if d["code"] in counts]

    def package_show(self, data: dict[str, Any]) -> dict[str, Any]:
        return package(self._entry(str(data.get("id") or data.get("name") or "")), self.base)

    def package_list(self, data: dict[str, Any]) -> list[str]:
        names = [ckan_name(d["name"]) for d in visible(self.who, self.catalog.datasets())]
        offset = int(data.get("offset") or 0)
        limit = int(data["limit"]) if data.get("limit") not in (None, "") else None
        return names[offset: None if limit is None else offset + limit]

    def package_search(self, data: dict[str, Any]) -> dict[str, Any]:
        q = str(data.get("q") or "")
        q = "" if q.strip() in ("*:*", "*") else q
        facets = parse_fq(str(data.get("fq") or ""))
        rows = min(int(data.get("rows") if data.get("rows") not in (None, "") else 10), MAX_ROWS)
        start = int(data.get("start") or 0)
        sort = "freshness" if "metadata_modified" in str(data.get("sort") or "") else "relevance"
        fields = _list(data.get("facet.field"))
        unknown = [f for f in fields if f not in FIELDS]
        if unknown:
            raise ActionError("Search Query Error", f"Search Query Error: unknown facet field {unknown[0]!r}", 409)
        result = self.catalog.query(q, facets, sort=sort, start=start, rows=rows,
                                    facet_fields=tuple(dict.fromkeys(FIELDS[f] for f in fields)), drill_down=False,
                                    may_see=may_see(self.who))
        entries = {e["name"]: e for e in (self.catalog.get(h["name"]) for h in result.hits) if e}
        limit = int(data.get("facet.limit") or 50)
        facet_out = {f: dict(result.facets[FIELDS[f]].most_common(limit if limit >= 0 else None)) for f in fields}
        return {
            "count": result.total, "sort": data.get("sort") or "score desc, metadata_modified desc",
            "results": [package(entries[h["name"]], self.base) for h in result.hits if h["name"] in entries],
            "facets": facet_out,
            "search_facets": {f: {"title": f, "items": [{"name": k, "display_name": k, "count": n}
                                                        for k, n in counts.items()]}
                              for f, counts in facet_out.items()},
        }

    def organization_list(self, data: dict[str, Any]) -> list[Any]:
        departments = self._departments()
        if str(data.get("all_fields", "")).lower() in ("true", "1"):
            return [organization(d["code"], d["name"], d["datasets"]) for d in departments]
        return [d["code"] for d in departments]

    def organization_show(self, data: dict[str, Any]) -> dict[str, Any]:
        code = str(data.get("id") or "")
        found = [d for d in self._departments() if d["code"] == code]
        if not found:
            raise ActionError("Not Found Error", "Not found: organization", 404)
        org = organization(code, found[0]["name"], found[0]["datasets"])
        if str(data.get("include_datasets", "")).lower() in ("true", "1"):
            org["packages"] = [package(e, self.base) for e in visible(self.who, self.catalog.entries())
                               if e["department_code"] == code]
        return org

    def tag_list(self, data: dict[str, Any]) -> list[Any]:
        result = self.catalog.query("", rows=0, facet_fields=("tag",), may_see=may_see(self.who))
        tags = sorted(result.facets["tag"])
        query = str(data.get("query") or "")
        tags = [t for t in tags if query.lower() in t.lower()]
        if str(data.get("all_fields", "")).lower() in ("true", "1"):
            return [{"id": t, "name": t, "vocabulary_id": None} for t in tags]
        return tags

    def status_show(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"site_title": "countyhub catalog", "site_url": self.base.rstrip("/"), "ckan_version": CKAN_VERSION,
                "site_description": "County shared data catalog (countyhub), CKAN Action API subset",
                "locale_default": "zh_Hans_CN", "extensions": []}


ACTIONS = ("package_search", "package_show", "package_list", "organization_list", "organization_show",
           "tag_list", "status_show")


def add_ckan_routes(app: FastAPI, catalog: Catalog) -> None:
    """Both URL forms CKAN serves; GET with a query string or POST with a JSON (or form) body; the API token as
    CKAN clients send it (`Authorization: <token>`, `X-CKAN-API-Key`) or as a bearer token."""

    async def action(request: Request, name: str, who: Principal = _CKAN_CALLER) -> JSONResponse:
        base = str(request.base_url)
        help_url = f"{base}api/3/action/help_show?name={name}"
        data: dict[str, Any] = dict(request.query_params)
        if request.method == "POST":
            body = await request.body()
            if body:
                try:
                    posted = json.loads(body)
                except ValueError:
                    posted = dict((await request.form()).items())
                data |= posted if isinstance(posted, dict) else {}
        try:
            if name not in ACTIONS:
                raise ActionError("Bad Request", f"Bad request - Action name not known: {name}", 400)
            result = getattr(Actions(catalog, base, who), name)(data)
        except ActionError as exc:
            return JSONResponse({"help": help_url, "success": False,
                                 "error": {"__type": exc.kind, "message": exc.message}}, status_code=exc.status)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"help": help_url, "success": False,
                                 "error": {"__type": "Validation Error", "message": str(exc)}}, status_code=409)
        return JSONResponse(jsonable_encoder({"help": help_url, "success": True, "result": result}))

    for prefix in ("/api/3/action", "/api/action"):
        for method in ("GET", "POST"):
            app.add_api_route(prefix + "/{name}", action, methods=[method], tags=["ckan"],
                              operation_id=f"ckan_{method.lower()}_{prefix.strip('/').replace('/', '_')}",
                              summary=f"CKAN Action API: {', '.join(ACTIONS)}")
