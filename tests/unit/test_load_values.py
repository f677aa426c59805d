"""Values as people type them, loaded through the real loader: what is accepted per declared type, what is not."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from countyhub.connectors import get_connector
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake
from countyhub.lakehouse.load import LoadResult, load_stream

DEPT = Department(code="mzj", name="民政局", name_en="Civil affairs", owner={"steward": "qa"})


def _load(settings: Settings, folder: Path, lines: list[str], types: dict[str, str], encoding: str = "gb18030",
          **options: object) -> LoadResult:
    (folder / "roll_1.csv").write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    stream = Stream(name="roll", pattern="roll_*.csv", types=types, **options)
    return load_stream(Lake(settings), DEPT, stream, get_connector("files")({"path": str(folder)}))


def _rows(settings: Settings, sql: str) -> list[tuple]:
    with Lake(settings).reader() as con:
        return con.execute(sql).fetchall()


def _quarantine(settings: Settings) -> list[tuple[str, str]]:
    return _rows(settings, "SELECT location, reason FROM quarantine.mzj__roll ORDER BY reason")


def test_numbers_as_typed_in_county_offices(settings: Settings, tmp_path: Path) -> None:
    lines = ["序号,月发放金额,人数,比例",
             "1,560.00,3,0.5",  # 2: plain
             "2,３２０,４,12.5%",  # 3: full-width digits, a percentage
             "3,\"1,234.50\",\"1,200\",50%",  # 4: thousands separators
             "4,\"1，234.50\",12.00,１２．５％",  # 5: full-width comma; a whole number written 12.00
             "5,　480元　,  7  ,\"1,000.5\"",  # 6: full-width spaces, a 元 suffix
             "6,￥12.5,-2,-3%",  # 7: a ￥ prefix
             "7,¥ 8元,,",  # 8: ¥ with a space; empty stays NULL
             "8,   ,　,0.2",  # 9: whitespace only stays NULL (a line of one filled cell would be a footer note)
             "9,四百元,3,0.1",  # 10: words
             "10,12.345.6,3,0.1",  # 11: two points
             "11,1.234,3,0.1",  # 12: a number, more decimals than declared
             "12,12%,2,0.1",  # 13: 12% in a decimal(10,2) is 0.12
             "13,5,10%,0.1",  # 14: a percentage of people
             "14,5,3,百分之十"]  # 15
    result = _load(settings, tmp_path, lines, {"序号": "integer", "月发放金额": "decimal(10,2)", "人数": "integer",
                                               "比例": "double"})
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (14, 9, 5)
    assert _rows(settings, "SELECT 序号, 月发放金额, 人数, 比例 FROM raw_mzj.roll ORDER BY 序号") == [
        (1, Decimal("560.00"), 3, 0.5), (2, Decimal("320.00"), 4, 0.125), (3, Decimal("1234.50"), 1200, 0.5),
        (4, Decimal("1234.50"), 12, 0.125), (5, Decimal("480.00"), 7, 1000.5), (6, Decimal("12.50"), -2, -0.03),
        (7, Decimal("8.00"), None, None), (8, None, None, 0.2), (12, Decimal("0.12"), 2, 0.1)]
    assert _quarantine(settings) == [
        ("roll_1.csv:14", "人数: '10%' is a percentage, not a whole number"),
        ("roll_1.csv:12", "月发放金额: '1.234' does not fit decimal(10,2)"),
        ("roll_1.csv:11", "月发放金额: '12.345.6' is not a number"),
        ("roll_1.csv:10", "月发放金额: '四百元' is not a number"),
        ("roll_1.csv:15", "比例: '百分之十' is not a number"),
    ]


def test_a_percentage_that_needs_more_decimals_and_a_fraction_of_a_person(settings: Settings,
                                                                         tmp_path: Path) -> None:
    result = _load(settings, tmp_path, ["月发放金额,人数", "12%,2.5", "12.5%,3"],
                   {"月发放金额": "decimal(10,2)", "人数": "integer"})
    assert (result.rows_loaded, result.rows_quarantined) == (0, 2)
    assert _quarantine(settings) == [
        ("roll_1.csv:2", "人数: '2.5' is not a whole number"),
        ("roll_1.csv:3", "月发放金额: '12.5%' does not fit decimal(10,2) (12.5% is 0.125)"),
    ]


def test_dates_and_times_as_typed_in_county_offices(settings: Settings, tmp_path: Path) -> None:
    lines = ["序号,出生日期,登记时间",
             "1,2024-03-05,2024-03-05 14:30:00",  # 2: plain
             "2,2024年3月5日,2024年3月5日 14:30",  # 3
             "3,２０２４年３月５日,2024年3月5日14时30分05秒",  # 4: full-width digits
             "4,2024.3.5,2024.3.5 9:05",  # 5
             "5,2024/03/05,2024/03/05 09:05:07",  # 6
             "6,2024-3-5,2024-3-5T14:30:00.25",  # 7
             "7,20240305,20240305143000",  # 8
             "8,45356,45356.5",  # 9: Excel serial numbers (1900 date system)
             "9, 2024-03-05 ,2024-03-05",  # 10: spaces; a date alone is midnight
             "10,2024年13月5日,2024-03-05",  # 11
             "11,2024-02-30,2024-03-05",  # 12
             "12,2024,2024-03-05",  # 13: a year alone is not a date (nor an Excel serial of 1905)
             "13,2024-03-05,2024-03-05 25:00",  # 14
             "14,2024-02-29,去年"]  # 15
    result = _load(settings, tmp_path, lines, {"序号": "integer", "出生日期": "date", "登记时间": "timestamp"})
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (14, 9, 5)
    day = date(2024, 3, 5)
    assert _rows(settings, "SELECT 序号, 出生日期, 登记时间 FROM raw_mzj.roll ORDER BY 序号") == [
        (1, day, datetime(2024, 3, 5, 14, 30)), (2, day, datetime(2024, 3, 5, 14, 30)),
        (3, day, datetime(2024, 3, 5, 14, 30, 5)), (4, day, datetime(2024, 3, 5, 9, 5)),
        (5, day, datetime(2024, 3, 5, 9, 5, 7)), (6, day, datetime(2024, 3, 5, 14, 30, 0, 250000)),
        (7, day, datetime(2024, 3, 5, 14, 30)), (8, day, datetime(2024, 3, 5, 12, 0)),
        (9, day, datetime(2024, 3, 5, 0, 0))]
    assert _quarantine(settings) == [
        ("roll_1.csv:13", "出生日期: '2024' is not a date (as an Excel serial number it falls outside 1920-2099)"),
        ("roll_1.csv:12", "出生日期: '2024-02-30' is not a date"),
        ("roll_1.csv:11", "出生日期: '2024年13月5日' is not a date"),
        ("roll_1.csv:14", "登记时间: '2024-03-05 25:00' is not a date and time"),
        ("roll_1.csv:15", "登记时间: '去年' is not a date and time"),
    ]


def test_yes_and_no_as_typed_in_county_offices(settings: Settings, tmp_path: Path) -> None:
    words = ["是", "否", "有", "无", "Y", "n", "true", "FALSE", "1", "0", "√", "×", " 是 ", "", "不确定"]
    lines = ["序号,是否低保"] + [f"{i},{w}" for i, w in enumerate(words, start=1)]
    result = _load(settings, tmp_path, lines, {"序号": "integer", "是否低保": "boolean"}, encoding="utf-8")
    assert (result.rows_loaded, result.rows_quarantined) == (14, 1)
    assert [r[0] for r in _rows(settings, "SELECT 是否低保 FROM raw_mzj.roll ORDER BY 序号")] == [
        True, False, True, False, True, False, True, False, True, False, True, False, True, None]
    assert _quarantine(settings) == [
        ("roll_1.csv:16", "是否低保: '不确定' is not yes or no (是/否, 有/无, Y/N, true/false, 1/0, √/×)")]


def test_resident_id_numbers_are_normalised_or_quarantined_with_their_reason(settings: Settings,
                                                                            tmp_path: Path) -> None:
    lines = ["身份证号,姓名",
             "511724199901010013,张三",  # 2: valid
             "51172419990101003x,李四",  # 3: lowercase x
             "５１１７２４１９９９０１０１００２１,王五",  # 4: full-width digits
             " 511724199901010048 ,赵六",  # 5: spaces around
             "511724199901010014,钱七",  # 6: wrong check digit
             "511724199913010010,孙八",  # 7: month 13, check digit right
             "51172420990101001X,周九",  # 8: born in 2099
             "000000199901010013,吴十",  # 9: no such region
             "5.11724E+17,郑一",  # 10: Excel's float
             "51172419990101001,冯二",  # 11: one digit short
             ",陈三"]  # 12: empty stays empty
    result = _load(settings, tmp_path, lines, {})
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (11, 5, 6)
    assert _rows(settings, "SELECT 身份证号, 姓名 FROM raw_mzj.roll ORDER BY 姓名") == [
        ("511724199901010013", "张三"), ("51172419990101003X", "李四"), ("511724199901010021", "王五"),
        ("511724199901010048", "赵六"), ("", "陈三")]
    assert _rows(settings, "SELECT location, reason FROM quarantine.mzj__roll ORDER BY location") == [
        ("roll_1.csv:10", "身份证号: '5.11724E+17' is a number that lost digits (Excel stores ID numbers as floats)"),
        ("roll_1.csv:11", "身份证号: '51172419990101001' has 17 digits: it was cut short (a resident ID number has 18)"),
        ("roll_1.csv:6", "身份证号: '511724199901010014' has a wrong check digit (GB 11643 gives 3)"),
        ("roll_1.csv:7", "身份证号: '511724199913010010' has an impossible birth date (19991301)"),
        ("roll_1.csv:8", "身份证号: '51172420990101001X' has a birth date in the future (2099-01-01)"),
        ("roll_1.csv:9", "身份证号: '000000199901010013' has an unknown birth place (region 000000 did not exist in 1999)"),
    ]


def test_excel_cells_typed_as_dates_numbers_and_text(settings: Settings, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["2026年救助名册"])
    sheet.append(["序号", "出生日期", "月发放金额"])
    sheet.append([1, datetime(2024, 3, 5), 560])  # a real date cell, a number cell
    sheet.append([2, 45356, "５６０元"])  # a date column typed as a number: Excel's serial
    sheet.append([3, "2024年3月5日", "1,234.5"])
    sheet.append([4, "2024年3月", 560])  # 6: a month is not a date
    book.save(tmp_path / "roll_1.xlsx")
    stream = Stream(name="roll", pattern="roll_*.xlsx", types={"序号": "integer", "出生日期": "date",
                                                               "月发放金额": "decimal(10,2)"})
    result = load_stream(Lake(settings), DEPT, stream, get_connector("files")({"path": str(tmp_path)}))
    assert (result.rows_loaded, result.rows_quarantined) == (3, 1)
    assert _rows(settings, "SELECT 序号, 出生日期, 月发放金额 FROM raw_mzj.roll ORDER BY 序号") == [
        (1, date(2024, 3, 5), Decimal("560.00")), (2, date(2024, 3, 5), Decimal("560.00")),
        (3, date(2024, 3, 5), Decimal("1234.50"))]
    assert _quarantine(settings) == [("roll_1.xlsx:6", "出生日期: '2024年3月' is not a date")]
