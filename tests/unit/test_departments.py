"""Department files: the shipped ones validate, and a broken one is reported by file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from countyhub.core.departments import DepartmentFileError, expand, load_department, load_departments
from countyhub.core.settings import PROJECT_DIR

GOOD = """\
code: tst
name: 测试局
name_en: Test Bureau
owner:
  steward: 数据管理员
sources:
  - name: registry
    kind: sql
    config:
      url: "sqlite:///{home}/x.db"
    streams:
      - name: persons
        primary_key: [person_id]
"""


def test_shipped_department_files_are_valid() -> None:
    departments = load_departments(PROJECT_DIR / "departments")
    assert {d.code for d in departments} >= {"gaj", "cgj", "mzj", "scjgj", "dsj"}
    kinds = {s.kind for d in departments for s in d.sources}
    assert kinds == {"sql", "files", "http_json"}


def _write(tmp_path: Path, text: str, name: str = "tst.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_error_names_file_line_and_field(tmp_path: Path) -> None:
    bad = GOOD.replace("        primary_key: [person_id]", "        classification: topsecret")
    path = _write(tmp_path, bad)
    with pytest.raises(DepartmentFileError) as failure:
        load_department(path)
    message = str(failure.value)
    assert f"{path}:13:" in message
    assert "sources.0.streams.0.classification" in message


def test_secret_in_yaml_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('url: "sqlite:///{home}/x.db"', 'url: "postgresql://u:hunter2@db/x"'))
    with pytest.raises(DepartmentFileError) as failure:
        load_department(path)
    assert ":10: field 'sources.0.config.url'" in str(failure.value) and "hunter2" not in str(failure.value)
    path = _write(tmp_path, GOOD.replace('url: "sqlite:///{home}/x.db"', 'url: "sqlite://"\n      password: x'))
    with pytest.raises(DepartmentFileError, match="secrets never go in YAML"):
        load_department(path)


def test_code_must_match_file_name_and_yaml_errors_have_lines(tmp_path: Path) -> None:
    with pytest.raises(DepartmentFileError, match=r"other\.yml:1: field 'code'"):
        load_department(_write(tmp_path, GOOD, "other.yml"))
    with pytest.raises(DepartmentFileError, match=r"tst\.yml:\d+: not valid YAML"):
        load_department(_write(tmp_path, GOOD + "  - [unclosed\n"))


def test_expand_fills_home_and_env_defaults() -> None:
    assert expand("${CH_TEST_URL:-sqlite:///{home}/a.db}", Path("/h"), {}) == "sqlite:////h/a.db"
    env = {"CH_TEST_URL": "postgresql://db/x"}
    assert expand({"u": ["${CH_TEST_URL:-x}"]}, Path("/h"), env) == {"u": ["postgresql://db/x"]}
