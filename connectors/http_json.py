"""HTTP JSON APIs: page/offset pagination, bearer-token auth from the environment, retry on 429/5xx."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pyarrow as pa

from connectors.base import Connector, ConnectorConfig, ConnectorError, DiscoveredStream
from countyhub.departments import Stream

RETRY_STATUS = {429, 500, 502, 503, 504}


class HttpJsonConfig(ConnectorConfig):
    base_url: str
    token_env: str | None = None
    timeout_s: float = 30.0
    max_retries: int = 5


def dig(document: Any, path: str) -> Any:
    for part in path.split(".") if path else []:
        document = document.get(part) if isinstance(document, dict) else None
    return document


class HttpJsonConnector(Connector):
    """Each stream is an endpoint `path`, its records at `records` (dotted), paged by `pagination`."""

    kind = "http_json"
    Config = HttpJsonConfig

    def _client(self) -> httpx.Client:
        headers = {"Accept": "application/json"}
        token = self.config.secret("token_env")
        if self.config.token_env and token is None:
            raise ConnectorError(f"{self.where}: environment variable {self.config.token_env} (the API token) is not set")
        if token is not None:
            headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        return httpx.Client(base_url=self.config.base_url, headers=headers, timeout=self.config.timeout_s)

    def _get(self, client: httpx.Client, path: str, params: dict[str, Any]) -> Any:
        for attempt in range(self.config.max_retries + 1):
            try:
                response = client.get(path, params=params)
            except httpx.HTTPError as exc:
                if attempt == self.config.max_retries:
                    raise ConnectorError(f"{self.where}: GET {self.config.base_url}{path}: {exc}") from None
                time.sleep(min(2**attempt * 0.2, 10))
                continue
            if response.status_code in RETRY_STATUS and attempt < self.config.max_retries:
                retry_after = response.headers.get("Retry-After", "")
                time.sleep(float(retry_after) if retry_after.replace(".", "", 1).isdigit() else 2**attempt * 0.2)
                continue
            if response.status_code >= 400:
                raise ConnectorError(
                    f"{self.where}: GET {self.config.base_url}{path} answered {response.status_code}"
                )
            return response.json()
        raise ConnectorError(f"{self.where}: GET {self.config.base_url}{path}: retries exhausted")

    def check(self) -> None:
        with self._client() as client:
            try:
                status = client.get("").status_code
            except httpx.HTTPError as exc:
                raise ConnectorError(f"{self.where}: cannot reach {self.config.base_url}: {exc}") from None
        if status in (401, 403):
            raise ConnectorError(f"{self.where}: {self.config.base_url} refused the credentials ({status})")
        if status >= 500:
            raise ConnectorError(f"{self.where}: {self.config.base_url} answered {status}")

    def _pages(self, stream: Stream) -> Iterator[list[dict[str, Any]]]:
        opts = stream.options
        paging = opts.get("pagination", {"type": "none"})
        path, records = opts.get("path", f"/{stream.name}"), opts.get("records", "")
        with self._client() as client:
            if paging.get("type", "none") == "none":
                yield dig(self._get(client, path, {}), records) or []
                return
            size = int(paging.get("size", 100))
            page = int(paging.get("start", 1))
            while True:
                params = {paging.get("size_param", "page_size"): size}
                if paging["type"] == "offset":
                    params[paging.get("offset_param", "offset")] = (page - 1) * size
                else:
                    params[paging.get("page_param", "page")] = page
                items = dig(self._get(client, path, params), records) or []
                if items:
                    yield items
                if len(items) < size:
                    return
                page += 1

    def discover(self, streams: list[Stream] | None = None) -> list[DiscoveredStream]:
        found = []
        for stream in streams or []:
            first = next(self._pages(stream), [])
            schema = pa.RecordBatch.from_pylist(first[:100]).schema if first else pa.schema([])
            found.append(DiscoveredStream(stream.name, schema, stream.primary_key))
        return found

    def read(self, stream: Stream, state: dict[str, Any] | None = None) -> Iterator[pa.RecordBatch]:
        schema = None
        for items in self._pages(stream):
            # The first page fixes the schema so that later pages cannot silently change column types.
            batch = pa.RecordBatch.from_pylist(items, schema=schema)
            schema = schema or batch.schema
            yield batch
