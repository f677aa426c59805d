"""`countyhub query`: a token is required, refusals print as one line, results as a table."""

from __future__ import annotations

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from countyhub.catalog.client import QueryError
from countyhub.cli import query as cli_query
from countyhub.cli.main import app


def test_without_a_token_it_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COUNTYHUB_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["query", "SELECT 1"])
    assert result.exit_code == 1 and "no API token" in result.output


def test_refusal_is_one_line_and_rows_print(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(sql: str, token: str, url: str) -> tuple[pa.Table, bool]:
        raise QueryError(403, "shared.case_files: not shared: data never leaves cgj")

    monkeypatch.setattr(cli_query, "query_arrow", refused)
    result = CliRunner().invoke(app, ["query", "SELECT * FROM shared.case_files", "--token", "t"])
    assert result.exit_code == 1
    assert result.output.strip() == "error: shared.case_files: not shared: data never leaves cgj"
    monkeypatch.setattr(cli_query, "query_arrow", lambda sql, token, url: (pa.table({"n": [100]}), False))
    result = CliRunner().invoke(app, ["query", "SELECT 1", "--token", "t"])
    assert result.exit_code == 0 and "100" in result.output and "1 of 1 rows shown" in result.output
