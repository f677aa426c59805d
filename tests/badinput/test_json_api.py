"""A department JSON API misbehaving (wrong types, a 404 or 500 mid-way, repeated and empty pages, broken JSON)."""

from __future__ import annotations

from typing import Any

import pytest

from countyhub.connectors import get_connector
from countyhub.connectors.base import Connector, ConnectorError
from countyhub.core.departments import Stream
from countyhub.core.settings import Settings
from tests.badinput.gen_api import ScriptedApi, firm, serve
from tests.badinput.lake_probe import lake_state, load, load_log

PAGED = {"type": "page", "size": 2}
CURSOR = {"type": "cursor", "size": 2, "next_cursor": "next"}


def _connector(url: str, slept: list[float] | None = None) -> Connector:
    connector = get_connector("http_json")({"base_url": url, "auth": "none", "max_retries": 2, "backoff_s": 0.25})
    connector.sleep = (slept if slept is not None else []).append  # backoff observed, not waited
    return connector


def _stream(pagination: dict[str, Any] = PAGED, **extra: Any) -> Stream:
    return Stream(name="firms", path="/firms", records="data", pagination=pagination, **extra)


def _row(n: int) -> tuple:
    return (f"91511724MA6{n:06d}X", f"大竹县企业{n}", n * 10)


def _fails_and_commits_nothing(settings: Settings, script: dict, message: str, stream: Stream | None = None) -> None:
    with serve(ScriptedApi(script)) as url, pytest.raises(ConnectorError) as failure:
        load(settings, stream or _stream(), _connector(url))
    assert message in str(failure.value)
    assert lake_state(settings, "firms") == ([], [])
    [(status, logged)] = load_log(settings)
    assert status == "failed" and message in logged


def test_a_string_where_the_first_page_had_numbers_fails_naming_record_and_field(settings: Settings) -> None:
    script = {"page=1": [(200, {"data": [firm(1), firm(2)]})],
              "page=2": [(200, {"data": [firm(3), firm(4, capital="四十")]})], "page=3": [(200, {"data": [firm(5)]})]}
    _fails_and_commits_nothing(settings, script, "firms: page 2 does not fit the first page: record 2, field "
                                                 "'capital': '四十' (str) where the first page has int64")


def test_an_object_where_a_scalar_was_fails_naming_record_and_field(settings: Settings) -> None:
    script = {"page=1": [(200, {"data": [firm(1), firm(2)]})],
              "page=2": [(200, {"data": [firm(3, name={"zh": "企业3"}), firm(4)]})]}
    _fails_and_commits_nothing(settings, script, "firms: page 2 does not fit the first page: record 1, field "
                                                 "'name': {'zh': '企业3'} (dict) where the first page has string")


def test_a_404_in_the_middle_of_paging_commits_no_partial_data(settings: Settings) -> None:
    script = {"page=1": [(200, {"data": [firm(1), firm(2)]})], "page=2": [(404, {"error": "not found"})],
              "page=3": [(200, {"data": [firm(5)]})]}
    _fails_and_commits_nothing(settings, script, "/firms answered 404")


def test_a_repeated_page_is_refused_instead_of_loaded_twice(settings: Settings) -> None:
    # It loaded U1, U2 twice (even with a primary key), and a server ignoring `page` would have looped a million times.
    script = {"page=1": [(200, {"data": [firm(1), firm(2)]})], "page=2": [(200, {"data": [firm(1), firm(2)]})],
              "page=3": [(200, {"data": [firm(5)]})]}
    _fails_and_commits_nothing(settings, script, "/firms: page 2 holds the same 2 records as page 1",
                               _stream(primary_key=["uscc"]))


def test_an_empty_cursor_page_that_points_on_does_not_end_the_read(settings: Settings) -> None:
    # The API filters server-side: a page can come back empty and still carry the next cursor.
    script = {"page=1": [(200, {"data": [firm(1), firm(2)], "next": "a"})],
              "cursor=a": [(200, {"data": [], "next": "b"})],
              "cursor=b": [(200, {"data": [firm(3)], "next": None})]}
    with serve(ScriptedApi(script)) as url:
        result = load(settings, _stream(CURSOR, primary_key=["uscc"]), _connector(url))
    assert (result.rows_read, result.rows_loaded) == (3, 3)
    assert lake_state(settings, "firms") == ([_row(1), _row(2), _row(3)], [])


def test_a_500_is_retried_and_the_load_completes_once(settings: Settings) -> None:
    api = ScriptedApi({"page=1": [(200, {"data": [firm(1), firm(2)]})],
                       "page=2": [(500, {"error": "busy"}), (200, {"data": [firm(3), firm(4)]})],
                       "page=3": [(200, {"data": [firm(5)]})]})
    slept: list[float] = []
    with serve(api) as url:
        result = load(settings, _stream(primary_key=["uscc"]), _connector(url, slept))
    assert (result.rows_read, result.rows_loaded, slept) == (5, 5, [0.25])
    assert api.calls == ["page=1", "page=2", "page=2", "page=3"]
    assert lake_state(settings, "firms") == ([_row(n) for n in range(1, 6)], [])


def test_a_body_that_is_not_json_fails_naming_the_page(settings: Settings) -> None:
    # A proxy cut the answer mid-record; it was a bare JSONDecodeError that named neither the API nor the page.
    script = {"page=1": [(200, {"data": [firm(1), firm(2)]})], "page=2": [(200, b'{"data": [{"uscc": "9151')]}
    _fails_and_commits_nothing(settings, script, "/firms: page 2: the answer (200) is not JSON")


def test_a_record_missing_its_key_field_is_quarantined(settings: Settings) -> None:
    keyless = {"name": "大竹县企业3", "capital": 30}
    script = {"page=1": [(200, {"data": [firm(1), firm(2)]})], "page=2": [(200, {"data": [keyless, firm(4)]})]}
    with serve(ScriptedApi(script)) as url:
        result = load(settings, _stream(primary_key=["uscc"]), _connector(url))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 3, 1)
    rows, entries = lake_state(settings, "firms")
    assert rows == [_row(1), _row(2), _row(4)]
    [(where, reason, raw)] = entries
    # Quarantine keeps raw values as text, as every quarantined row does.
    assert (where, "uscc" in reason, raw) == ("key uscc=None", True, {"uscc": None, "name": "大竹县企业3", "capital": "30"})
