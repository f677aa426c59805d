"""`countyhub users|grants|audit`: tokens printed once, the request-approve loop from a terminal, audit verify."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from countyhub.catalog import Catalog, Column, DatasetEntry
from countyhub.cli.common import console
from countyhub.cli.main import app
from countyhub.core.settings import Settings
from countyhub.sharing import tables as t


@pytest.fixture
def county(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr(console, "width", 200)  # rich would wrap table cells at CliRunner's 80 columns
    monkeypatch.delenv("COUNTYHUB_TOKEN", raising=False)
    Catalog(settings.catalog_url).register_dataset(DatasetEntry(
        name="shared.resident_profile", kind="published", title_zh="居民综合画像", title_en="Resident profile",
        department_code="dsj", department_name="大数据局", description="", sharing_type="conditional",
        classification="sensitive", columns=[Column("person_id", "INTEGER"), Column("receives_subsidy", "BOOLEAN")]))
    return settings


def run(*args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
    out = CliRunner().invoke(app, list(args), env=env)
    assert out.exit_code == code, out.output
    return out.output


def add_user(name: str, department: str, role: str) -> str:
    lines = run("users", "add", name, "--department", department, "--role", role).splitlines()
    assert lines[-1].startswith("chub_") and " " not in lines[-1]  # the token, alone on the last line
    return lines[-1]


def test_users_add_list_revoke(county: Settings) -> None:
    token = add_user("li_mzj", "mzj", "analyst")
    listed = run("users", "list")
    assert "li_mzj" in listed and "mzj" in listed and "analyst" in listed and token not in listed
    assert "no department 'swj'" in run("users", "add", "x", "--department", "swj", "--role", "analyst", code=1)
    assert "unknown role 'boss'" in run("users", "add", "x", "--department", "mzj", "--role", "boss", code=1)
    run("users", "revoke", "li_mzj")
    out = run("grants", "list", "--token", token, code=1)
    assert out.strip() == "error: the API token is unknown or revoked"
    assert "no active user named 'li_mzj'" in run("users", "revoke", "li_mzj", code=1)


def test_request_approve_and_the_audit_from_the_command_line(county: Settings) -> None:
    analyst, steward = add_user("li_mzj", "mzj", "analyst"), add_user("zhou_dsj", "dsj", "steward")
    other = add_user("wu_cgj", "cgj", "steward")
    assert "pass --token T or set COUNTYHUB_TOKEN" in run("grants", "pending", code=1)
    out = run("grants", "request", "shared.resident_profile", "--column", "receives_subsidy", "--purpose", "低保复核",
              "--legal-basis", "社会救助暂行办法", "--days", "30", env={"COUNTYHUB_TOKEN": analyst})
    assert out.startswith("request 1 filed: shared.resident_profile (receives_subsidy) for mzj")
    assert "低保复核" in run("grants", "pending", "--token", steward)
    assert "no requests" in run("grants", "list", "--pending", "--token", other)
    refused = run("grants", "approve", "1", "--token", analyst, code=1)
    assert refused.strip() == "error: the requester cannot decide on their own request"
    assert run("grants", "approve", "1", "--token", steward).startswith(
        "grant 1: mzj may use receives_subsidy of shared.resident_profile until")
    assert "active" in run("grants", "list", "--token", analyst)
    assert "already approved" in run("grants", "deny", "1", "--reason", "迟了", "--token", steward, code=1)
    run("grants", "revoke", "1", "--token", steward)
    assert "revoked" in run("grants", "list", "--token", analyst)

    shown = run("audit", "show", "--department", "dsj", "--token", steward)
    assert all(a in shown for a in ("grant_request", "grant_approve", "grant_revoke"))
    assert "the audit log is for stewards and admins" in run("audit", "show", "--token", analyst, code=1)
    assert run("audit", "verify").strip() == "audit log: 6 entries, chain intact"  # 3 user_add + 3 grant changes


def test_audit_verify_names_the_altered_entry(county: Settings) -> None:
    add_user("a", "mzj", "analyst")
    add_user("b", "mzj", "analyst")
    with Catalog(county.catalog_url).engine.begin() as con:
        con.execute(update(t.audit_log).where(t.audit_log.c.id == 2).values(actor="nobody"))
    out = run("audit", "verify", code=1)
    assert out.strip() == "error: audit log: entry 2: its content was changed (1 entry before it verified)"
