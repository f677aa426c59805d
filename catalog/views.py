"""What every catalog page and API answer shares: templates, time format, links, query snippets."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from countyhub.catalog.i18n import normalize_lang, translator

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
DATA_DOCS_PREFIX = "/data-docs"


def fmt_time(ts: datetime | str | None) -> str:
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts) if ts else None
    return ts.strftime("%Y-%m-%d %H:%M UTC") if ts else ""


TEMPLATES.env.filters["dt"] = fmt_time


def query_snippets(name: str) -> dict[str, str]:
    """Copy-paste ways to read a dataset, all through the query API (your token, your grant, masked, audited)."""
    sql = f"SELECT * FROM {name} LIMIT 10;"
    python = (
        "import os\n"
        "from countyhub.catalog.client import query\n\n"
        "# COUNTYHUB_TOKEN: the API token `countyhub users add` printed for you\n"
        f'df = query("SELECT * FROM {name} LIMIT 10", token=os.environ["COUNTYHUB_TOKEN"])\n'
        "print(df)"
    )
    cli = f'countyhub query "SELECT * FROM {name} LIMIT 10" --token "$COUNTYHUB_TOKEN"'
    return {"sql": sql, "python": python, "cli": cli}


def page_url(request: Request, path: str | None = None, **changes: str | None) -> str:
    """The current URL (or `path`) with some query parameters changed; None removes one."""
    params = dict(request.query_params) if path is None else {"lang": request.query_params.get("lang")}
    params.update(changes)
    query = urlencode({k: v for k, v in params.items() if v})
    return (path or request.url.path) + (f"?{query}" if query else "")


def data_docs_url(request: Request, page: str | None) -> str | None:
    """The served URL of a run's Data Docs page (path relative to <home>/data_docs), if it is served and exists."""
    root: Path | None = getattr(request.app.state, "data_docs", None)
    if root is None or not page:
        return None
    path = (root / page).resolve()
    return f"{DATA_DOCS_PREFIX}/{quote(page)}" if path.is_relative_to(root) and path.is_file() else None


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = normalize_lang(request.query_params.get("lang"))
    t, v = translator(lang)

    def link(path: str, **params: str | None) -> str:
        return page_url(request, path, **params)

    session = getattr(request.state, "session", None)
    # The signed-in user for the header, and the session's CSRF token every state-changing form carries.
    context.setdefault("me", getattr(request.state, "principal", None))
    context.setdefault("csrf", session.csrf if session is not None else "")
    context |= {"lang": lang, "t": t, "v": v, "link": link,
                "lang_url": {k: page_url(request, lang=k if k == "en" else None) for k in ("zh", "en")}}
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)
