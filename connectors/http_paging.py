"""Walk the pages of a JSON endpoint: none, page number, offset, cursor token, or RFC 8288 Link header."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx

from countyhub.connectors.base import ConnectorError

Get = Callable[[str, dict[str, Any]], httpx.Response]
MAX_PAGES = 1_000_000  # a server that never stops paging must not loop forever


def dig(document: Any, path: str) -> Any:
    for part in path.split(".") if path else []:
        document = document.get(part) if isinstance(document, dict) else None
    return document


def pages(get: Get, options: dict[str, Any], cursor: str | None,
          state: dict[str, Any] | None) -> Iterator[list[dict[str, Any]]]:
    """Yield each page's records; stop on a short/empty page, a missing next token or Link."""
    paging = options.get("pagination", {"type": "none"})
    kind = paging.get("type", "none")
    path, records = options.get("path", ""), options.get("records", "")
    params: dict[str, Any] = dict(options.get("params", {}))
    since = options.get("incremental_param")
    if since and cursor and state and state.get("cursor") is not None:
        params[since] = str(state["cursor"])  # the API filters; the load dedupes by key at the boundary
    size = int(paging.get("size", 100))
    if kind != "none":
        params[paging.get("size_param", "page_size")] = size
    page, url = int(paging.get("start", 1)), path
    for _ in range(MAX_PAGES):
        query = dict(params)
        if kind == "page":
            query[paging.get("page_param", "page")] = page
        elif kind == "offset":
            query[paging.get("offset_param", "offset")] = (page - 1) * size
        response = get(url, query)
        document = response.json()
        items = dig(document, records) or []
        if items:
            yield items
        if kind == "none" or not items:
            return
        if kind == "cursor":
            token = dig(document, paging.get("next_cursor", "next_cursor"))
            if not token:
                return
            params[paging.get("cursor_param", "cursor")] = token
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
