"""Every `countyhub` command ends an error in one `error: …` line naming the problem, never a traceback unless
--debug asks for it; an unexpected exception says it is a bug; secrets and ID numbers never reach that line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import sqlalchemy.exc
from typer.testing import CliRunner

from countyhub.cli.common import console
from countyhub.cli.errors import INTERRUPTED, describe, scrub
from countyhub.cli.main import app
from countyhub.core.settings import Settings
from tests.unit.test_departments import GOOD

SECRET = "hunter2-registry-pw"
RESIDENT_ID = "511724199001011234"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 300)  # one error line stays one line of output


def _invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, args, env=env)
    return result.exit_code, result.output


def _departments(tmp_path: Path, text: str, code: str = "tst") -> Path:
    folder = tmp_path / "departments"
    folder.mkdir(exist_ok=True)
    (folder / f"{code}.yml").write_text(text, encoding="utf-8")
    return folder


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _bad_toml(tmp_path: Path) -> Path:
    path = tmp_path / "countyhub.toml"
    path.write_text("[countyhub]\nhome = \"/tmp/x\"\ncatalog_port = \n", encoding="utf-8")
    return path


def test_a_missing_departments_folder_is_named(settings: Settings, tmp_path: Path) -> None:
    code, out = _invoke(["run"], {"COUNTYHUB_DEPARTMENTS_DIR": str(tmp_path / "nowhere")})
    assert code == 1 and "Traceback" not in out
    assert f"error: {tmp_path / 'nowhere'}: no such departments folder" in out


def test_a_malformed_department_file_is_named_with_its_line(settings: Settings, tmp_path: Path) -> None:
    folder = _departments(tmp_path, GOOD.replace("name_en: Test Bureau", "name_en: [Test Bureau"))
    code, out = _invoke(["run"], {"COUNTYHUB_DEPARTMENTS_DIR": str(folder)})
    assert code == 1 and "Traceback" not in out
    assert f"error: {folder / 'tst.yml'}:" in out and "not valid YAML" in out


def test_an_unknown_dataset_is_named(settings: Settings) -> None:
    code, out = _invoke(["publish", "rollback", "no_such_dataset", "--to", "1"])
    assert code == 1 and "Traceback" not in out
    assert "error: no_such_dataset has no published version 1" in out


def test_an_unreachable_source_is_named_without_its_password(settings: Settings, tmp_path: Path) -> None:
    url = f"postgresql+psycopg://registry@127.0.0.1:{_closed_port()}/x"
    text = GOOD.replace('"sqlite:///{home}/x.db"', f'"{url}"\n      password_env: TST_PASSWORD')
    folder = _departments(tmp_path, text)
    code, out = _invoke(["load", "tst"], {"COUNTYHUB_DEPARTMENTS_DIR": str(folder), "TST_PASSWORD": SECRET})
    assert code == 1 and "Traceback" not in out
    assert f"error: {folder / 'tst.yml'}: source registry:" in out and "Connection refused" in out
    assert SECRET not in out


@pytest.mark.parametrize("how", ["file", "variable", "missing file"])
def test_a_bad_setting_is_named_with_where_it_was_written(settings: Settings, tmp_path: Path, how: str) -> None:
    if how == "file":
        code, out = _invoke(["search", "x", "--config", str(_bad_toml(tmp_path))])
        expected = f"error: {tmp_path / 'countyhub.toml'}:3: not valid TOML"
    elif how == "variable":
        code, out = _invoke(["search", "x"], {"COUNTYHUB_CATALOG_PORT": "eighty"})
        expected = "error: COUNTYHUB_CATALOG_PORT: 'eighty' is not a whole number"
    else:
        code, out = _invoke(["search", "x", "--config", str(tmp_path / "nope.toml")])
        expected = f"error: {tmp_path / 'nope.toml'}: no such config file"
    assert code == 1 and "Traceback" not in out
    assert expected in out


def _flow_raises(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    def run_flow(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr("countyhub.flow.run.run_flow", run_flow)


def test_an_unexpected_exception_is_one_line_calling_it_a_bug(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    _flow_raises(monkeypatch, RuntimeError(f"boom at postgresql://u:{SECRET}@db/x for {RESIDENT_ID}"))
    code, out = _invoke(["run"])
    assert code == 1 and "Traceback" not in out
    lines = [line for line in out.splitlines() if line.startswith("error:")]
    assert lines == [("error: this is a bug in countyhub: RuntimeError: boom at postgresql://u:***@db/x for "
                      "511724********1234 (run again with --debug for the traceback)")]


@pytest.mark.parametrize("switch", [["--debug"], "COUNTYHUB_DEBUG"])
def test_debug_shows_the_traceback(settings: Settings, monkeypatch: pytest.MonkeyPatch, switch: object) -> None:
    _flow_raises(monkeypatch, RuntimeError("boom"))
    if switch == "COUNTYHUB_DEBUG":
        code, out = _invoke(["run"], {"COUNTYHUB_DEBUG": "1"})
    else:
        code, out = _invoke(["--debug", "run"])
    assert code == 1
    assert "Traceback (most recent call last)" in out and 'raise exc' in out and "RuntimeError: boom" in out


def test_an_interrupt_is_one_word_and_exit_130(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    _flow_raises(monkeypatch, KeyboardInterrupt())
    code, out = _invoke(["run"])
    assert (code, out.strip().splitlines()[-1]) == (INTERRUPTED, "error: interrupted")


def test_usage_errors_keep_their_own_message() -> None:
    code, out = _invoke(["publish", "rollback", "x"])
    assert code == 2 and "Missing option '--to'" in out and "bug" not in out


def test_help_mentions_debug() -> None:
    code, out = _invoke(["--help"])
    assert code == 0 and "--debug" in out and "COUNTYHUB_DEBUG" in out


@pytest.mark.parametrize("exc,expected", [
    (FileNotFoundError(2, "No such file or directory", "/srv/drops/mzj"), "No such file or directory: /srv/drops/mzj"),
    (PermissionError(13, "Permission denied", "/srv/countyhub/lake"), "Permission denied: /srv/countyhub/lake"),
    (ConnectionRefusedError(111, "Connection refused"), "cannot reach a server: Connection refused"),
    # SQLAlchemy's own text adds the statement and its parameters (here a resident's ID number): only the driver's
    (sqlalchemy.exc.OperationalError("SELECT * FROM persons WHERE id_number = ?", (RESIDENT_ID,),
                                     Exception('connection to server at "db" (10.0.0.5), port 5432 failed: timeout')),
     'cannot reach a server: connection to server at "db" (10.0.0.5), port 5432 failed: timeout'),
    (httpx.ConnectError("[Errno 111] Connection refused"), "cannot reach a server: [Errno 111] Connection refused"),
])
def test_system_errors_name_the_file_or_the_server(exc: BaseException, expected: str) -> None:
    assert describe(exc) == ([expected], 1)


def test_the_installed_command_prints_no_traceback_unless_asked(tmp_path: Path) -> None:
    command = [str(Path(sys.executable).with_name("countyhub")), "run", "--config", str(_bad_toml(tmp_path))]
    env = {**os.environ, "COLUMNS": "300"}
    plain = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert plain.returncode == 1 and "Traceback" not in plain.stdout + plain.stderr
    assert f"error: {tmp_path / 'countyhub.toml'}:3: not valid TOML" in plain.stdout
    debug = subprocess.run([command[0], "--debug", *command[1:]], capture_output=True, text=True, env=env, check=False)
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    assert "SettingsError" in debug.stderr


def test_scrub_keeps_secrets_and_numbers_out_of_an_error_line() -> None:
    text = (f"login {SECRET} refused\n for dbname=x password=pw1234 host=db, Authorization: Bearer tok-123, "
            f"resident {RESIDENT_ID} phone 13812345678")
    assert scrub(text, {"GAJ_HOUSEHOLD_PASSWORD": SECRET, "HOME": "/root"}) == (
        "login *** refused for dbname=x password=*** host=db, Authorization: Bearer ***, "
        "resident 511724********1234 phone 138****5678")
