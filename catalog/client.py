"""The analysts' read-only client: SQL through the query API (same rules, masks and audit), results as pandas."""

from __future__ import annotations

import httpx
import pandas as pd
import pyarrow as pa

DEFAULT_URL = "http://127.0.0.1:8080"


class QueryError(RuntimeError):
    """The API refused or failed the query; the message is the API's one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


def query_arrow(sql: str, token: str, url: str = DEFAULT_URL, http: httpx.Client | None = None,
                timeout: float = 60.0) -> tuple[pa.Table, bool]:
    """The result as Arrow and whether the API cut it at its row limit."""
    client = http or httpx.Client(timeout=timeout)
    try:
        response = client.post(f"{url.rstrip('/')}/api/query", params={"format": "arrow"}, json={"sql": sql},
                               headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise QueryError(0, f"cannot reach {url} ({type(exc).__name__})") from None
    finally:
        if http is None:
            client.close()
    if response.status_code != 200:
        try:
            message = str(response.json().get("detail", response.text))
        except ValueError:
            message = response.text[:200]
        raise QueryError(response.status_code, message)
    table = pa.ipc.open_stream(response.content).read_all()
    return table, response.headers.get("x-countyhub-truncated") == "true"


def query(sql: str, token: str, url: str = DEFAULT_URL, http: httpx.Client | None = None) -> pd.DataFrame:
    """`SELECT ... FROM shared.<dataset>` as a DataFrame; `df.attrs["truncated"]` says the row limit cut it."""
    table, truncated = query_arrow(sql, token, url, http)
    frame = table.to_pandas()
    frame.attrs["truncated"] = truncated
    return frame
