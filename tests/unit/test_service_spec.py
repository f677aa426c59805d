"""Service declarations: the demo's files against the real contracts, errors naming file:line:field, parameter checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from countyhub.contracts.odcs import load_contracts
from countyhub.core.settings import PROJECT_DIR
from countyhub.sharing.model import BadRequest
from countyhub.sharing.service_spec import Param, Service, ServiceFileError, check_page, check_params, load_services

CONTRACTS = PROJECT_DIR / "contracts"
VERIFY = Service("shared.resident_profile", "household_verify", "verify", "户籍核验", "verify",
                 (Param("id_number", "id_number", "id_number"), Param("name", "string", "name", "claim", max_length=8)))


def _columns() -> dict[str, set[str]]:
    return {f"shared.{c.dataset}": {col.name for col in c.columns} for c in load_contracts(CONTRACTS)}


def test_the_demo_declares_the_issues_four_services_on_real_columns() -> None:
    declared = {(s.dataset, s.name, s.kind) for s in load_services(CONTRACTS, _columns())}
    assert {("shared.resident_profile", "household_verify", "verify"),
            ("shared.resident_profile", "subsidy_verify", "verify"),
            ("shared.enterprise_registry", "enterprise_lookup", "lookup"),
            ("shared.urban_grids", "grid_lookup", "lookup")} <= declared


BAD_FILES = [
    ("services:\n  - name: x\n    kind: fetch\n", ":2: x.kind 'fetch': one of verify, lookup, list"),
    ("services:\n  - name: Bad-Name\n    kind: verify\n", ":2: name 'Bad-Name'"),
    ("services:\n  - name: v\n    kind: verify\n    params:\n      - {name: id_number, type: passport}\n",
     ":5: params.id_number.type 'passport'"),
    ("services:\n  - name: v\n    kind: verify\n    params: []\n", ":2: v: a verify service has exactly one parameter"),
    (("services:\n  - name: v\n    kind: verify\n    params:\n      - {name: id_number, type: id_number}\n"
     "    returns: [name]\n"), ":2: v.returns: a verify service answers match / no_match / not_found only"),
    ("services:\n  - name: l\n    kind: lookup\n    params:\n      - {name: id_number, type: id_number}\n",
     ":2: l.returns: name the columns a lookup answers"),
    (("services:\n  - name: l\n    kind: lookup\n    params:\n      - {name: id_number, type: id_number}\n"
     "    returns: [salary]\n"), ":2: l: 'salary' is not a column of the dataset"),
    (("services:\n  - name: l\n    kind: lookup\n    params:\n      - {name: code, column: nope}\n"
     "    returns: [name]\n"), ":5: params.code.column 'nope' is not a column of the dataset"),
    (("services:\n  - name: v\n    kind: verify\n    params:\n      - {name: id_number, type: id_number}\n"
     "  - name: v\n    kind: verify\n    params:\n      - {name: id_number, type: id_number}\n"),
     ":6: service 'v' is declared twice"),
    ("services:\n  - name: v\n   kind: [\n", ": not valid YAML"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_bad_services_file_names_file_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    folder = tmp_path / "dsj"
    folder.mkdir()
    (folder / "resident_profile.services.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ServiceFileError) as caught:
        load_services(tmp_path, {"shared.resident_profile": {"id_number", "name"}})
    assert str(caught.value).startswith(str(folder / "resident_profile.services.yaml"))
    assert message in str(caught.value)


GOOD_ID = "511724200208068247"  # a real-shaped number: Dazhu county code, 2002-08-06, check digit 7


@pytest.mark.parametrize(("query", "message"), [
    ({"id_number": "511724200208068246", "name": "张三"}, "id_number: the check digit is wrong"),
    ({"id_number": "51172420020806824", "name": "张三"}, "id_number: wrong length"),
    ({"id_number": "5117242002080682X7", "name": "张三"}, "id_number: not a valid id number"),
    ({"id_number": "511724200213068241", "name": "张三"}, "id_number: not a valid id number"),  # month 13
    ({"id_number": "000000200208068247", "name": "张三"}, "id_number: not a valid id number"),  # no such region
    ({"name": "张三"}, "missing parameter id_number"),
    ({"id_number": GOOD_ID, "name": "张三", "phone": "1"}, "unknown parameter 'phone'"),
    ({"id_number": GOOD_ID, "name": "张三李四王五赵六钱"}, "name: longer than 8 characters"),
    ({"id_number": GOOD_ID, "name": "张\x00"}, "name: empty or holds control characters"),
])
def test_bad_parameters_are_refused_without_echoing_them(query: dict[str, str], message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        check_params(VERIFY, query)
    assert message in caught.value.message
    for value in query.values():
        if len(value) > 3:
            assert value not in caught.value.message


def test_good_parameters_are_normalised() -> None:
    assert check_params(VERIFY, {"id_number": " 513029198501010023 ", "name": " 王芳 "}) == {
        "id_number": "513029198501010023", "name": "王芳"}
    credit = Service("shared.enterprise_registry", "e", "lookup", "e", "e", (Param("code", "credit_code", "uscc"),),
                     ("name",))
    assert check_params(credit, {"code": "91511724992381976H"}) == {"code": "91511724992381976H"}
    with pytest.raises(BadRequest, match="code: the check digit is wrong"):
        check_params(credit, {"code": "91511724992381976J"})


def test_a_list_page_is_capped() -> None:
    listing = Service("shared.urban_grids", "g", "list", "g", "g", (Param("t", "string", "township_code", "filter"),),
                      ("grid_code",), page_cap=5)
    assert check_page(listing, {}) == (5, 0)
    assert check_page(listing, {"limit": "2", "offset": "4"}) == (2, 4)
    for query, message in (({"limit": "6"}, "limit: from 1 to 5"), ({"offset": "10001"}, "offset: from 0 to 10000"),
                           ({"limit": "x"}, "limit: a whole number")):
        with pytest.raises(BadRequest, match=message):
            check_page(listing, query)
