"""Data service pages: every declared service with today's usage, one service's page, and its search entries."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from countyhub.catalog.access import dataset_info
from countyhub.catalog.api_services import service_json, visible_usage
from countyhub.catalog.auth import PagePrincipal, sharing_of
from countyhub.catalog.i18n import normalize_lang
from countyhub.catalog.store import Catalog
from countyhub.catalog.text import name_terms, tokenize
from countyhub.catalog.views import TEMPLATES, render
from countyhub.sharing import policy
from countyhub.sharing.model import Forbidden, NotFound, Principal
from countyhub.sharing.service_spec import Service

LABELS: dict[str, tuple[str, str]] = {
    "services": ("数据服务", "Data services"),
    "dataset_services": ("数据服务接口", "Data services"),
    "no_services": ("暂无数据服务", "No data service declared"),
    "service_kind": ("接口类型", "Kind"),
    "answers": ("回答什么", "What it answers"),
    "params": ("参数", "Parameters"),
    "param": ("参数名", "Parameter"),
    "role": ("作用", "Role"),
    "required": ("必填", "Required"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "returns": ("返回字段", "Returned columns"),
    "owner": ("责任部门", "Owner"),
    "needs": ("调用条件", "What a caller needs"),
    "your_call": ("您所在部门", "Your department"),
    "example": ("调用示例", "Example call"),
    "usage_today": ("今日调用情况", "Usage today"),
    "no_usage": ("今日暂无调用记录", "No calls today"),
    "caller": ("调用方", "Caller"),
    "calls": ("调用次数", "Calls"),
    "errors": ("错误", "Errors"),
    "p95": ("P95 耗时（毫秒）", "p95 (ms)"),
    "day": ("日期", "Day"),
    "source": ("声明位置", "Declared at"),
    "token_note": ("$TOKEN：管理员用 `countyhub users add` 为您创建的 API 令牌；每次调用都记入审计日志。",
                   "$TOKEN: the API token `countyhub users add` printed for you; every call is on the audit record."),
    "not_published": ("数据集尚未发布：发布后接口才会应答", "Dataset not published yet: the service answers once it is"),
    "verify_answers": ("只回答 match（一致）/ no_match（不一致）/ not_found（未找到），不返回任何个人信息。",
                       "Answers match / no_match / not_found only; it returns no personal data."),
    "lookup_answers": ("按参数查找一条记录，返回下列字段（按您的权限脱敏）。",
                       "Finds one row by its key and returns the columns below (masked as your access says)."),
    "list_answers": ("返回符合条件的记录列表，分页，每页至多 {cap} 条（字段按您的权限脱敏）。",
                     ("Returns the rows matching the filters, paginated, at most {cap} a page (masked as your access "
                      "says).")),
    "needs_unconditional": ("无条件共享：任何已登录部门均可调用；敏感字段脱敏返回，除非授权列明该字段。",
                            ("Unconditional: any signed-in department may call; sensitive columns come masked unless "
                             "a grant names them.")),
    "needs_conditional": ("有条件共享：调用方部门需持有列明本接口的已批准授权（在数据集页面申请使用）。",
                          ("Conditional: needs an approved grant naming this service (request access on the dataset "
                           "page).")),
    "needs_not_shared": ("不予共享：仅责任部门自身可调用。", "Not shared: only the owner department may call."),
    "may_call": ("可以调用", "may call"),
    "may_not_call": ("不能调用", "may not call"),
    "role_key": ("定位记录", "key"),
    "role_claim": ("待核验的值", "claim (compared)"),
    "role_filter": ("筛选条件", "filter"),
}


def service_label(key: str, lang: str = "zh", **fill: Any) -> str:
    """One label of these pages in the page's language (`fill` completes a {placeholder})."""
    pair = LABELS.get(key)
    text = pair[1 if normalize_lang(lang) == "en" else 0] if pair else key
    return text.format(**fill) if fill else text


TEMPLATES.env.globals["sl"] = service_label  # also used by index.html, dataset.html and base.html


def shown_services(catalog: Catalog, who: Principal, services: list[Service]) -> list[dict[str, Any]]:
    """The services as their API describes them (service_json), of the datasets the caller may see, with the page
    link and owner's name; a service whose dataset is not published yet is listed without an owner."""
    out = []
    for service in services:
        entry = catalog.get_entry(service.dataset)
        info = dataset_info(entry) if entry else None
        if info is not None and not policy.may_see_entry(who, info):
            continue
        out.append(service_json(service, info) | {
            "table": service.table, "page": f"/services/{service.table}/{service.name}",
            "department_name": entry.get("department_name", "") if entry else "", "published": entry is not None})
    return out


def _terms(service: Service) -> set[str]:
    titles = tokenize(f"{service.title_zh} {service.title_en}")  # with pinyin: people type it for titles
    text = tokenize(f"{service.description} {service.name.replace('_', ' ')}", pinyin=False)
    return set(titles) | set(text) | set(name_terms(service.dataset)) | {service.name}


def matching_services(services: list[Service], q: str) -> list[Service]:
    """The services whose title, description or name holds every word of `q` (declared text only: no data)."""
    q_norm = (q or "").strip().lower()
    if not q_norm:
        return []
    words = set(tokenize(q_norm, pinyin=False)) or {q_norm}
    found = []
    for service in services:
        text = f"{service.title_zh} {service.title_en} {service.description}".lower()
        if (len(q_norm) > 1 and q_norm in text) or words <= _terms(service):
            found.append(service)
    return found


def found_services(request: Request, catalog: Catalog, who: Principal, q: str) -> list[dict[str, Any]]:
    """The search page's "data services" block: the visible services matching the query."""
    return shown_services(catalog, who, matching_services(sharing_of(request).services.all(), q))


def _caller_access(sharing: Any, who: Principal, entry: dict[str, Any] | None, service: Service) -> dict[str, Any]:
    """Whether the caller's department may call the service now, by the rule the call itself applies."""
    if entry is None:
        return {"may": False, "reason": ""}
    try:
        access, grant = sharing.services.access(who, dataset_info(entry), service)
    except Forbidden as exc:
        return {"may": False, "reason": exc.message}
    masked = sorted(set(service.returns) & access.masked)
    return {"may": True, "reason": access.reason, "masked": masked, "grant_id": grant.id if grant else None}


def add_service_pages(app: FastAPI, catalog: Catalog) -> None:
    """GET /services (every declared service, today's usage) and GET /services/{dataset}/{name}."""

    @app.get("/services", response_class=HTMLResponse, include_in_schema=False)
    def services_page(request: Request, who: Principal = PagePrincipal) -> HTMLResponse:
        sharing = sharing_of(request)
        shown = shown_services(catalog, who, sharing.services.all())
        return render(request, "services.html", services=shown, usage=visible_usage(sharing, catalog, who, None))

    @app.get("/services/{dataset}/{name}", response_class=HTMLResponse, include_in_schema=False)
    def service_page(request: Request, dataset: str, name: str, who: Principal = PagePrincipal) -> HTMLResponse:
        sharing = sharing_of(request)
        try:
            service = sharing.services.get(dataset, name)
        except NotFound:  # the error page, with a reason that does not echo the path back
            raise NotFound("no such data service: /services lists the declared ones") from None
        shown = shown_services(catalog, who, [service])
        if not shown:  # not a dataset the caller may see: as for its entry, refused
            raise Forbidden("this service's dataset is not visible to you")
        entry = catalog.get_entry(service.dataset)
        usage = [r for r in visible_usage(sharing, catalog, who, None)
                 if r["dataset"] == service.dataset and r["service"] == service.name]
        return render(request, "service.html", s=shown[0], service=service, usage=usage,
                      mine=_caller_access(sharing, who, entry, service))
