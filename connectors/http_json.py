"""HTTP JSON APIs: page/offset/cursor/Link pagination, bearer or API-key auth, retries and a per-source rate limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx
import pyarrow as pa

from countyhub.connectors.base import Connector, ConnectorConfig, ConnectorError, DiscoveredStream, RejectSink
from countyhub.connectors.http_paging import HttpJsonStreamOptions, pages
from countyhub.core.departments import Stream

RETRY_STATUS = {429, 500, 502, 503, 504}
MAX_BACKOFF_S = 60.0


class HttpJsonConfig(ConnectorConfig):
    base_url: str
    auth: Literal["bearer", "api_key", "none"] = "bearer"
    token_env: str | None = None  # bearer token (auth: bearer) or API key (auth: api_key)
    api_key_header: str = "X-API-Key"
    api_key_param: str | None = None  # send the key as this query parameter instead of a header
    timeout_s: float = 30.0
    max_retries: int = 5
    backoff_s: float = 0.5
    requests_per_second: float | None = None  # the department's published rate limit


def retry_after_seconds(value: str) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class RateLimiter:
    """At most `rate` requests per second across every stream of one source."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            delay = self.next_at - now
            self.next_at = max(now, self.next_at) + self.interval
        if delay > 0:
            time.sleep(delay)


class HttpJsonConnector(Connector):
    """Each stream is an endpoint `path`, its records at `records` (dotted), paged by `pagination`."""

    kind = "http_json"
    Config = HttpJsonConfig
    Options = HttpJsonStreamOptions

    def __init__(self, config: dict[str, Any], where: str = "", **context: Any) -> None:
        super().__init__(config, where, **context)
        self.limiter = RateLimiter(self.config.requests_per_second)
        self.sleep = time.sleep  # tests replace it to observe backoff without waiting

    def _client(self) -> httpx.Client:
        headers, params = {"Accept": "application/json"}, {}
        token = self.secret("token_env")
        if self.config.token_env and token is None:
            raise ConnectorError(f"{self.where}: environment variable {self.config.token_env} (the API token) is not set")
        if token is not None and self.config.auth == "bearer":
            headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        elif token is not None and self.config.auth == "api_key" and self.config.api_key_param:
            params[self.config.api_key_param] = token.get_secret_value()
        elif token is not None and self.config.auth == "api_key":
            headers[self.config.api_key_header] = token.get_secret_value()
        return httpx.Client(base_url=self.config.base_url, headers=headers, params=params,
                            timeout=self.config.timeout_s, follow_redirects=True)

    def get(self, client: httpx.Client, url: str, params: dict[str, Any]) -> httpx.Response:
        """GET with the rate limit, retrying transport errors, 429 and 5xx with backoff (Retry-After wins)."""
        shown = url if "://" in url else f"{self.config.base_url}{url}"
        shown = self.redact(shown.split("?")[0])
        for attempt in range(self.config.max_retries + 1):
            self.limiter.wait()
            try:
                # None, not {}: httpx replaces a URL's own query (a Link's next page) with an empty dict.
                response = client.get(url, params=params or None)
            except httpx.HTTPError as exc:
                if attempt == self.config.max_retries:
                    raise ConnectorError(self.redact(f"{self.where}: GET {shown}: {exc}")) from None
                self.sleep(min(self.config.backoff_s * 2**attempt, MAX_BACKOFF_S))
                continue
            if response.status_code in RETRY_STATUS and attempt < self.config.max_retries:
                wait = retry_after_seconds(response.headers.get("Retry-After", ""))
                self.sleep(min(wait if wait is not None else self.config.backoff_s * 2**attempt, MAX_BACKOFF_S))
                continue
            if response.status_code >= 400:
                raise ConnectorError(f"{self.where}: GET {shown} answered {response.status_code}")
            return response
        raise ConnectorError(f"{self.where}: GET {shown}: retries exhausted")

    def check(self) -> None:
        with self._client() as client:
            try:
                status = client.get("").status_code
            except httpx.HTTPError as exc:
                raise ConnectorError(self.redact(f"{self.where}: cannot reach {self.config.base_url}: {exc}")) from None
        if status in (401, 403):
            raise ConnectorError(f"{self.where}: {self.config.base_url} refused the credentials ({status})")
        if status >= 500:
            raise ConnectorError(f"{self.where}: {self.config.base_url} answered {status}")

    def _pages(self, stream: Stream, state: dict[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
        with self._client() as client:
            options = HttpJsonStreamOptions.of(stream, self.where)
            yield from pages(lambda url, params: self.get(client, url, params), options, stream.cursor, state)

    def discover(self, streams: list[Stream] | None = None) -> list[DiscoveredStream]:
        found = []
        for stream in streams or []:
            first = next(self._pages(stream), [])
            # An endpoint without records cannot show its fields: the department file may declare them.
            schema = pa.RecordBatch.from_pylist(first[:100]).schema if first else (
                HttpJsonStreamOptions.of(stream, self.where).declared_schema() or pa.schema([]))
            found.append(DiscoveredStream(stream.name, schema, stream.primary_key))
        return found

    def read(self, stream: Stream, state: dict[str, Any] | None = None,
             rejects: RejectSink | None = None) -> Iterator[pa.RecordBatch]:
        schema = None
        since = (state or {}).get("cursor") if stream.cursor else None
        strict = since is not None and (state or {}).get("cursor_op") != ">="
        for number, items in enumerate(self._pages(stream, state), 1):
            if strict:  # APIs filter "updated since" inclusively; ">" drops the rows at the cursor itself
                items = [i for i in items if str(i.get(stream.cursor)) != str(since)]
                if not items:
                    continue
            # The first page fixes the schema so that later pages cannot silently change column types.
            try:
                batch = pa.RecordBatch.from_pylist(items, schema=schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise ConnectorError(f"{self.where}: {stream.name}: page {number} does not fit "
                                     f"{'the first page' if schema else 'one schema'}: {misfit(items, schema) or exc}"
                                     ) from None
            schema = schema or batch.schema
            yield batch


def misfit(items: list[dict[str, Any]], schema: pa.Schema | None) -> str | None:
    """Which record and field break the page's schema: the first page's, or the one its first value implies."""
    for name in dict.fromkeys(k for item in items for k in item):
        given = schema.field(name).type if schema is not None and name in schema.names else None
        expected, whose = given, "the first page has"
        for position, item in enumerate(items, 1):
            value = item.get(name)
            if value is None:
                continue
            try:
                typed = pa.array([value], expected)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                return f"record {position}, field {name!r}: {value!r} ({type(value).__name__}) where {whose} {expected}"
            if expected is None:
                expected, whose = typed.type, f"record {position} has"
    return None
