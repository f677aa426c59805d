"""Malformed department files: each refused with a message naming the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from countyhub.connectors import check_department
from countyhub.core.departments import DepartmentFileError, load_department

GOOD = """\
code: tst
name: 测试局
name_en: Test Bureau
owner:
  steward: 数据管理员
schedule: "@daily"
sources:
  - name: drops
    kind: files
    config:
      path: "{home}/drops"
    streams:
      - name: roll
        pattern: "roll_*.csv"
        primary_key: [身份证号]
"""

# (id, text replaced, replacement, file name, line, field or None, words the message must hold)
CASES = [
    ("yaml-syntax-unclosed-quote", 'pattern: "roll_*.csv"', 'pattern: "roll_*.csv', "tst.yml", 14, None,
     "not valid YAML: while scanning a quoted scalar opened here, never closed"),
    ("tab-indentation", "  steward:", "\tsteward:", "tst.yml", 5, None,
     "YAML indents with spaces, never tabs"),
    ("missing-required-field", "name_en: Test Bureau\n", "", "tst.yml", 1, "name_en", "Field required"),
    ("wrong-type", "primary_key: [身份证号]", "primary_key: 身份证号", "tst.yml", 15,
     "sources.0.streams.0.primary_key", "Input should be a valid list"),
    ("unknown-top-level-key", 'schedule: "@daily"', 'schedule: "@daily"\nsharing: unconditional', "tst.yml", 7,
     "sharing", "unknown field (did you mean 'sharing_type'?)"),
    ("key-given-twice", "name_en: Test Bureau\n", "name_en: Test Bureau\nname_en: Other Bureau\n", "tst.yml", 4,
     "name_en", "given twice (first at line 3)"),
    ("unknown-connector-kind", "kind: files", "kind: ftp", "tst.yml", 9, "sources.0.kind",
     "unknown connector kind 'ftp'; known: files, http_json, sql"),
    ("misspelt-stream-option", "pattern:", "patern:", "tst.yml", 14, "sources.0.streams.0.patern",
     "unknown option for kind 'files' (did you mean 'pattern'?)"),
    ("duplicate-stream-name", "primary_key: [身份证号]\n", ('primary_key: [身份证号]\n      - name: roll\n'
     '        pattern: "roll_b_*.csv"\n'), "tst.yml", 16, "sources.0.streams.1.name",
     "stream 'roll' is declared twice (first as 'sources.0.streams.0.name' at line 13)"),
    ("secret-in-yaml", 'path: "{home}/drops"', 'path: "{home}/drops"\n      api_token: s3cr3t-value', "tst.yml", 12,
     "sources.0.config.api_token", "secrets never go in YAML: use 'api_token_env: ENV_VAR_NAME'"),
    ("bad-schedule-words", '"@daily"', '"every day at 9"', "tst.yml", 6, "schedule",
     "'every day at 9' is neither a preset"),
    ("bad-schedule-cron-range", '"@daily"', '"0 25 * * *"', "tst.yml", 6, "schedule",
     "cron hour '25' in '0 25 * * *' is not valid (allowed 0-23)"),
    ("code-not-matching-file-name", "", "", "other.yml", 1, "code", "'tst' must match the file name 'other'"),
]


@pytest.mark.parametrize(("old", "new", "name", "line", "field", "words"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_malformed_department_file_is_refused_naming_file_line_and_field(
        tmp_path: Path, old: str, new: str, name: str, line: int, field: str | None, words: str) -> None:
    assert old in GOOD
    path = tmp_path / name
    path.write_text(GOOD.replace(old, new, 1) if old else GOOD, encoding="utf-8")
    with pytest.raises(DepartmentFileError) as failure:
        check_department(load_department(path))
    message = str(failure.value)
    prefix = f"{path}:{line}: " + (f"field '{field}': " if field else "")
    assert message.startswith(prefix), message
    assert words in message and "s3cr3t-value" not in message


def test_the_unbroken_file_loads(tmp_path: Path) -> None:
    # The cases above differ from this file by one change each: it must itself be valid.
    path = tmp_path / "tst.yml"
    path.write_text(GOOD, encoding="utf-8")
    department = check_department(load_department(path))
    assert [(s.name, [t.name for t in s.streams]) for s in department.sources] == [("drops", ["roll"])]
