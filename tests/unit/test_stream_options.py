"""Stream options are typed per connector kind: a misspelt option or an unknown kind is refused with file, line
and field by `sources validate` and by a load; the shipped department files pass; a valid option round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from countyhub.cli.common import console
from countyhub.cli.main import app
from countyhub.connectors import StreamOptions, check_departments, get_connector
from countyhub.connectors.files import FilesStreamOptions
from countyhub.connectors.http_paging import HttpJsonStreamOptions
from countyhub.core.departments import load_department, load_departments
from countyhub.core.settings import PROJECT_DIR, Settings

DROP = """\
code: rsj
name: 人社局
name_en: Human resources
owner:
  steward: 王工
sources:
  - name: drops
    kind: {kind}
    config:
      path: "{{home}}/drops"
    streams:
      - name: roll
        pattern: "roll_*.csv"
        encoding: gb18030
      - name: insured
        {option}: "insured_*.csv"
        types: {{月发放金额: "decimal(10,2)"}}
"""


@pytest.fixture
def departments(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "departments"
    folder.mkdir()
    monkeypatch.setenv("COUNTYHUB_DEPARTMENTS_DIR", str(folder))
    monkeypatch.setattr(console, "width", 300)  # one error per line, as a terminal shows it
    return folder


def _write(folder: Path, kind: str = "files", option: str = "pattern") -> Path:
    path = folder / "rsj.yml"
    path.write_text(DROP.format(kind=kind, option=option), encoding="utf-8")
    return path


def _refused(*args: str) -> str:
    out = CliRunner().invoke(app, list(args))
    assert out.exit_code == 1, out.output
    assert "Traceback" not in out.output
    return out.output


def test_validate_refuses_a_misspelt_option_naming_file_line_and_field(departments: Path) -> None:
    path = _write(departments, option="patern")
    output = _refused("sources", "validate")
    assert (f"{path}:16: field 'sources.0.streams.1.patern': unknown option for kind 'files' "
            "(did you mean 'pattern'?)") in output


def test_validate_refuses_an_unknown_kind_listing_the_known_ones(departments: Path) -> None:
    path = _write(departments, kind="fils")
    output = _refused("sources", "validate")
    assert f"{path}:8: field 'sources.0.kind': unknown connector kind 'fils' (did you mean 'files'?); known: " in output
    assert "files, http_json, sql" in output


def test_a_load_refuses_the_file_before_reading_anything(settings: Settings, departments: Path) -> None:
    path = _write(departments, option="patern")
    (settings.home / "drops").mkdir(parents=True)
    (settings.home / "drops" / "roll_1.csv").write_text("身份证号,姓名\n511724198001010011,张三\n", encoding="gb18030")
    output = _refused("load", "rsj")
    assert f"{path}:16: field 'sources.0.streams.1.patern'" in output
    assert "lake.raw_rsj" not in output  # refused before the first stream, not after it loaded


def test_a_nested_option_and_a_bad_declared_type_are_named_too(departments: Path) -> None:
    path = departments / "scj.yml"
    path.write_text("code: scj\nname: 市场局\nname_en: Market\nowner: {steward: 李工}\nsources:\n"
                    "  - name: api\n    kind: http_json\n    config: {base_url: 'http://127.0.0.1:1'}\n"
                    "    streams:\n      - name: firms\n        path: /firms\n"
                    "        pagination: {type: page, sise: 50}\n        types:\n          注册资本: decimel\n",
                    encoding="utf-8")
    output = _refused("sources", "validate")
    assert (f"{path}:12: field 'sources.0.streams.0.pagination.sise': unknown option for kind 'http_json' "
            "(did you mean 'size'?)") in output
    assert f"{path}:14: field 'sources.0.streams.0.types.注册资本': Value error, unknown column type 'decimel'" in output


def test_every_shipped_department_file_validates() -> None:
    departments = check_departments(load_departments(PROJECT_DIR / "departments"))
    assert {s.kind for d in departments for s in d.sources} == {"sql", "files", "http_json"}
    out = CliRunner().invoke(app, ["sources", "validate"])  # the project's own folder, as `make demo` uses it
    assert out.exit_code == 0, out.output
    assert out.output.count("ok ") == len(departments)


def test_valid_options_round_trip(departments: Path) -> None:
    department = load_department(_write(departments))
    check_departments([department])
    roll, insured = department.sources[0].streams
    options = FilesStreamOptions.of(roll)
    assert (options.pattern, options.encoding, options.header, options.sheet) == ("roll_*.csv", "gb18030", "auto", None)
    assert FilesStreamOptions.of(insured).model_dump(exclude_defaults=True) == insured.options
    shared = StreamOptions.shared(insured)  # what the loader reads, whatever the kind
    assert str(shared.arrow_types()["月发放金额"]) == "decimal128(10, 2)"
    # The YAML the options came from is what they give back: the format stays flat keys on the stream.
    assert yaml.safe_load(DROP.format(kind="files", option="pattern"))["sources"][0]["streams"][0] == {
        "name": "roll", **FilesStreamOptions.of(roll).model_dump(exclude_defaults=True)}


def test_each_builtin_kind_declares_its_options() -> None:
    assert get_connector("files").Options is FilesStreamOptions
    assert get_connector("http_json").Options is HttpJsonStreamOptions
    assert "table" in get_connector("sql").Options.model_fields
    for kind in ("files", "http_json", "sql"):
        assert {"types", "columns", "id_number_columns"} <= set(get_connector(kind).Options.model_fields)
