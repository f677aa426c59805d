"""Walk the pages of a JSON endpoint: none, page number, offset, cursor token, or RFC 8288 Link header."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from countyhub.connectors.errors import ConnectorError
from countyhub.connectors.options import StreamOptions

Get = Callable[[str, dict[str, Any]], httpx.Response]
MAX_PAGES = 1_000_000  # a server that never stops paging must not loop forever


class Pagination(BaseModel):
    """How an endpoint pages: the query parameters it takes and where the next token is."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["none", "page", "offset", "cursor", "link"] = "none"
    size: int = Field(default=100, ge=1)
    start: int = 1  # first page number (type: page)
    page_param: str = "page"
    size_param: str = "page_size"
    offset_param: str = "offset"
    cursor_param: str = "cursor"
    next_cursor: str = "next_cursor"  # dotted path to the next token in the answer (type: cursor)


class HttpJsonStreamOptions(StreamOptions):
    """An endpoint: its path under base_url, where its records are, its query and its paging."""

    path: str = ""
    records: str = ""  # dotted path to the list, e.g. data.items
    params: dict[str, Any] = Field(default_factory=dict)
    incremental_param: str | None = None  # query parameter that receives the cursor
    pagination: Pagination = Pagination()


def dig(document: Any, path: str) -> Any:
    for part in path.split(".") if path else []:
        document = document.get(part) if isinstance(document, dict) else None
    return document


def pages(get: Get, options: HttpJsonStreamOptions, cursor: str | None,
          state: dict[str, Any] | None) -> Iterator[list[dict[str, Any]]]:
    """Yield each page's records; stop on a short/empty page, a missing next token or Link."""
    paging = options.pagination
    kind, path, records = paging.type, options.path, options.records
    params: dict[str, Any] = dict(options.params)
    since = options.incremental_param
    if since and cursor and state and state.get("cursor") is not None:
        params[since] = str(state["cursor"])  # the API filters; the load dedupes by key at the boundary
    size = paging.size
    if kind != "none":
        params[paging.size_param] = size
    page, url = paging.start, path
    previous: list[dict[str, Any]] | None = None
    for _ in range(MAX_PAGES):
        query = dict(params)
        if kind == "page":
            query[paging.page_param] = page
        elif kind == "offset":
            query[paging.offset_param] = (page - 1) * size
        response = get(url, query)
        number = page - paging.start + 1  # the page's place in this read, for messages (no query: it may hold a key)
        document = _json(response, f"{path}: page {number}")
        items = dig(document, records) or []
        if items and items == previous:
            # A server that ignores the page parameter, or repeats a page: loading it again would duplicate
            # its rows, and what the page should have held is unknown, so the load stops.
            raise ConnectorError(f"{path}: page {number} holds the same {len(items)} records as page {number - 1}: "
                                 "the server's paging does not advance, so the load stops before duplicating them")
        previous = items
        if items:
            yield items
        # A cursor or Link API may answer an empty page that still points to the next one (filtered server-side).
        if kind == "none" or (not items and kind not in ("cursor", "link")):
            return
        if kind == "cursor":
            token = dig(document, paging.next_cursor)
            if not token:
                return
            if token == params.get(paging.cursor_param):
                raise ConnectorError(f"{path}: page {number} points to the cursor just read ({paging.next_cursor})")
            params[paging.cursor_param] = token
        elif kind == "link":
            following = response.links.get("next", {}).get("url")
            if not following:
                return
            # Resolve against the answering URL (a relative Link would otherwise stack on base_url).
            following = str(response.url.join(following))
            if following == str(response.url):
                raise ConnectorError(f"{path}: the Link header's next page is the page just read")
            url, params = following, {}  # the next URL carries its own query
        elif len(items) < size:
            return
        page += 1


def _json(response: httpx.Response, where: str) -> Any:
    """The answer's JSON; a body that is not JSON (cut off, an HTML error page) is a ConnectorError naming the page."""
    try:
        return response.json()
    except ValueError as exc:  # json.JSONDecodeError, and UnicodeDecodeError for a body that is not text
        raise ConnectorError(f"{where}: the answer ({response.status_code}) is not JSON: {exc}") from None
