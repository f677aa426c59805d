"""The demo county generator: deterministic, valid identifiers, consistent cross-department links, the API."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import httpx
import openpyxl
import pytest
from stdnum.cn import ric, uscc

from countyhub.demo import EnterpriseApi, corrupt_duplicate_ids, generate, load_manifest
from countyhub.demo.divisions import TOWNSHIPS, validate_county
from countyhub.demo.identifiers import organization_code_check

PERSONS = 500
ROLL = Path("drops/mzj/subsidy_roll_2026-11.csv")
ELDERLY = Path("drops/mzj/elderly_allowance_2026-11.csv")
# The SQLite tables of every department database, for counts straight from the files.
TABLES = {"gaj_household.db": ("persons", "households", "residence_permits", "person_cancellations"),
          "cgj_urban.db": ("grids", "facilities", "cases"), "rsj_social_insurance.db": ("insured_persons", "talents"),
          "zjj_housing.db": ("property_records", "rental_applications"), "jyj_education.db": ("schools",),
          "wjj_health.db": ("clinics", "vaccinations")}


def _rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(sql).fetchall()
    conn.close()
    return rows


def _roll(demo: Path, name: Path = ROLL) -> list[dict[str, str]]:
    """The roll's data rows: below the title and 填报单位 lines, above the 合计 and signature lines."""
    lines = list(csv.reader(io.StringIO((demo / name).read_bytes().decode("gb18030"), newline="")))
    title = "大竹县民政局社会救助发放名册" if name == ROLL else "大竹县民政局高龄津贴发放名册"
    assert lines[0][0].startswith(title) and lines[1][0].startswith("填报单位：")
    assert [line[0][:4] for line in lines[-3:]] == ["合计", "制表人：", "填报日期"]
    return [dict(zip(lines[2], line, strict=True)) for line in lines[3:-3]]


def _workbook(path: Path) -> list[tuple]:
    """The data rows of an enrollment workbook: below its title row and header."""
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book["新生登记"].iter_rows(values_only=True))
    book.close()
    assert rows[0][0].endswith("2027年秋季一年级新生入学申请表") and rows[1][:2] == ("序号", "学生姓名")
    return rows[2:]


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo_home")
    generate(path, persons=PERSONS)
    return path


@pytest.fixture(scope="module")
def demo(home: Path) -> Path:
    return home / "demo"


def test_same_seed_gives_byte_identical_files(home: Path, tmp_path: Path) -> None:
    generate(tmp_path, persons=PERSONS)
    assert _digests(tmp_path / "demo") == _digests(home / "demo")
    # 6 SQLite databases, 2 mzj CSV exports, the scjgj JSON, the manifest and one workbook per primary school
    workbooks = len(list((home / "demo/drops/jyj").glob("enrollment_*.xlsx")))
    assert workbooks >= len(TOWNSHIPS)
    assert len(_digests(home / "demo")) == 10 + workbooks


def test_other_seed_gives_other_data(home: Path, tmp_path: Path) -> None:
    generate(tmp_path, seed=7, persons=PERSONS)
    assert _digests(tmp_path / "demo")["gaj_household.db"] != _digests(home / "demo")["gaj_household.db"]


def test_rerun_overwrites_without_duplicating(tmp_path: Path) -> None:
    generate(tmp_path, persons=50)
    (tmp_path / "demo/drops/mzj/subsidy_roll_2026-10.csv").write_bytes(b"stale")
    generate(tmp_path, persons=50)
    assert _rows(tmp_path / "demo/gaj_household.db", "SELECT COUNT(*) FROM persons") == [(50,)]
    assert sorted(p.name for p in (tmp_path / "demo/drops/mzj").iterdir()) == [ELDERLY.name, ROLL.name]


def test_county_is_real_and_townships_coded_under_it() -> None:
    validate_county()
    codes = [t.code for t in TOWNSHIPS]
    assert len(set(codes)) == len(codes) >= 12
    assert all(len(c) == 9 and c.startswith("511724") for c in codes)


def test_id_numbers_valid_unique_and_consistent(demo: Path) -> None:
    persons = _rows(demo / "gaj_household.db", "SELECT id_number, gender, birth_date, phone FROM persons")
    assert len(persons) == PERSONS
    assert len({p[0] for p in persons}) == PERSONS
    for id_number, gender, birth_date, phone in persons:
        ric.validate(id_number)
        assert id_number[:6] == ("511724" if birth_date >= "1999" else "513029")  # Dazhu's code before 1999
        assert str(ric.get_birth_date(id_number)) == birth_date
        assert (int(id_number[16]) % 2 == 1) == (gender == "男")
        assert len(phone) == 11 and phone.isdigit() and phone[:2] in {"13", "15", "17", "18", "19"}


def test_households_link_to_persons(demo: Path) -> None:
    db = demo / "gaj_household.db"
    ids = {r[0] for r in _rows(db, "SELECT id_number FROM persons")}
    heads = _rows(db, "SELECT head_id_number, township_code FROM households")
    assert {h[0] for h in heads} <= ids
    assert {h[1] for h in heads} <= {t.code for t in TOWNSHIPS}
    orphans = _rows(db, "SELECT COUNT(*) FROM persons WHERE household_id NOT IN (SELECT household_id FROM households)")
    assert orphans == [(0,)]


def test_enterprises_valid_and_led_by_residents(demo: Path) -> None:
    records = json.loads((demo / "scjgj_enterprises.json").read_text(encoding="utf-8"))
    persons = dict(_rows(demo / "gaj_household.db", "SELECT id_number, name FROM persons"))
    assert len({r["uscc"] for r in records}) == len(records) == PERSONS // 12
    for record in records:
        uscc.validate(record["uscc"])
        assert organization_code_check(record["uscc"][8:16]) == record["uscc"][16]
        assert persons[record["legal_rep_id_number"]] == record["legal_representative"]
        assert record["status"] in {"存续", "注销", "吊销"}
        assert isinstance(record["registered_capital"], float)


def test_subsidy_roll_is_gb18030_and_names_residents(demo: Path) -> None:
    raw = (demo / ROLL).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    rows = _roll(demo)
    assert list(rows[0]) == ["身份证号", "姓名", "救助类型", "月发放金额", "起始年月", "乡镇代码", "乡镇名称"]
    persons = dict(_rows(demo / "gaj_household.db", "SELECT id_number, township_code FROM persons"))
    assert {r["身份证号"] for r in rows} <= set(persons)
    assert len({(r["身份证号"], r["救助类型"]) for r in rows}) == len(rows)
    recipients = {r["身份证号"] for r in rows}
    assert 0.05 * PERSONS <= len(recipients) <= 0.11 * PERSONS
    assert len(rows) > len(recipients)  # some residents receive two kinds of assistance
    for row in rows:
        assert row["救助类型"] in {"最低生活保障", "特困人员供养", "临时救助"}
        assert row["月发放金额"].endswith(tuple(f".{d:02d}" for d in range(100))) and float(row["月发放金额"]) > 0
        assert row["起始年月"] <= "2026-11" and len(row["起始年月"]) == 7
        assert persons[row["身份证号"]] == row["乡镇代码"]


def test_urban_grid_shape(demo: Path) -> None:
    db = demo / "cgj_urban.db"
    per_township = _rows(db, "SELECT township_code, COUNT(*) FROM grids GROUP BY township_code")
    assert len(per_township) == len(TOWNSHIPS) and all(3 <= n <= 6 for _, n in per_township)
    grids = {r[0] for r in _rows(db, "SELECT grid_code FROM grids")}
    assert {r[0] for r in _rows(db, "SELECT grid_code FROM facilities")} <= grids
    cases = _rows(db, "SELECT status, closed_at FROM cases")
    assert all((status == "open") == (closed is None) for status, closed in cases)


def test_manifest_counts_match_files(home: Path, demo: Path) -> None:
    manifest = load_manifest(home)
    gaj = demo / "gaj_household.db"
    actual = {f"{db[:db.index('_')]}.{t}": _rows(demo / db, f"SELECT COUNT(*) FROM {t}")[0][0]
              for db, tables in TABLES.items() for t in tables}
    actual["mzj.subsidy_roll"] = len(_roll(demo))
    actual["mzj.elderly_allowances"] = len(_roll(demo, ELDERLY))
    actual["jyj.enrollment_applications"] = sum(len(_workbook(p)) for p in (demo / "drops/jyj").glob("*.xlsx"))
    actual["scjgj.enterprises"] = len(json.loads((demo / "scjgj_enterprises.json").read_text(encoding="utf-8")))
    assert manifest.counts == actual
    codes = sorted({r[0] for r in _rows(gaj, "SELECT township_code FROM households")})
    assert set(codes) <= set(manifest.township_codes)
    assert manifest.townships == len(manifest.township_codes) == len(TOWNSHIPS)


def test_corrupt_duplicate_ids_makes_duplicates(tmp_path: Path) -> None:
    generate(tmp_path, persons=100)
    corrupt_duplicate_ids(tmp_path, n=5)
    dupes = _rows(tmp_path / "demo/gaj_household.db",
                  "SELECT id_number FROM persons GROUP BY id_number HAVING COUNT(*) > 1")
    assert len(dupes) == 5


def test_api_pages_every_record_once(demo: Path) -> None:
    records = json.loads((demo / "scjgj_enterprises.json").read_text(encoding="utf-8"))
    with EnterpriseApi(demo / "scjgj_enterprises.json", port=0, token="s3cret") as api:
        assert not api.url.endswith(":0/api/v1")
        headers = {"Authorization": "Bearer s3cret"}
        seen, page = [], 1
        while True:
            body = httpx.get(f"{api.url}/enterprises", params={"page": page, "page_size": 7}, headers=headers).json()
            assert body["data"]["total"] == len(records) and body["data"]["page"] == page
            if not body["data"]["items"]:
                break
            seen += body["data"]["items"]
            page += 1
        assert [r["uscc"] for r in seen] == [r["uscc"] for r in records]
        assert httpx.get(f"{api.url}/health").json() == {"status": "ok"}


def test_api_rejects_missing_or_wrong_token(demo: Path) -> None:
    with EnterpriseApi(demo / "scjgj_enterprises.json", port=0, token="s3cret") as api:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            response = httpx.get(f"{api.url}/enterprises", headers=headers)
            assert response.status_code == 401
            assert "error" in response.json()
