"""Bad-input corpus: one kind of badly typed value per case, in a file as a county office exports it, through the loader.

Each case writes a two-column file (序号 and the column under test) as GBK/GB18030/UTF-8 CSV or as
.xlsx with the cells typed as a person types them, loads it with `load_stream` into a real lake and
checks the exact loaded values and the exact quarantine entries (location, reason). Expected values
are written by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from countyhub.connectors import get_connector
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake
from countyhub.lakehouse.load import load_stream

DEPT = Department(code="mzj", name="民政局", name_en="Civil affairs", owner={"steward": "qa"})
ID_LOST = "身份证号: '5.1172419990101E+17' is a number that lost digits (Excel stores ID numbers as floats)"


@dataclass(frozen=True)
class Case:
    column: str
    declared: str | None  # the column's declared type; None for a resident ID column (checked by its name)
    cells: list[object]  # row 2, 3, ... of the file
    loaded: list[object]  # the column's loaded values, in file order
    quarantined: list[tuple[int, str]]  # (line or sheet row, reason)
    file: str = "utf-8"  # a CSV encoding, or "xlsx"


CASES = {
    "full-width-numbers": Case("月发放金额", "decimal(10,2)", ["３２０", "４８０．５０", "－１２"],
                               [Decimal("320.00"), Decimal("480.50"), Decimal("-12.00")], [], "gbk"),
    "thousands-separators": Case("月发放金额", "decimal(12,2)", ["1,234.50", "1，234", "12,345,678", "12,34"],
                                 [Decimal("1234.50"), Decimal("1234.00"), Decimal("12345678.00")],
                                 [(5, "月发放金额: '12,34' is not a number")]),
    "currency-signs": Case("月发放金额", "decimal(10,2)", ["560元", "￥480", "¥ 12.5元", "12万元"],
                           [Decimal("560.00"), Decimal("480.00"), Decimal("12.50")],
                           [(5, "月发放金额: '12万元' is not a number")], "gb18030"),
    "percentages": Case("比例", "double", ["12.5%", "３％", 0.5, "百分之五"], [0.125, 0.03, 0.5],
                        [(5, "比例: '百分之五' is not a number")], "xlsx"),
    "text-in-number-column": Case("月发放金额", "decimal(10,2)", ["四百元", "待定", "560"], [Decimal("560.00")],
                                  [(2, "月发放金额: '四百元' is not a number"), (3, "月发放金额: '待定' is not a number")],
                                  "gbk"),
    "whole-numbers-with-spaces": Case("人数", "integer", ["　12　", "   ", "1 2", "3.00"], [12, None, 3],
                                      [(4, "人数: '1 2' is not a whole number")]),
    "chinese-dates": Case("出生日期", "date", ["2024年3月5日", "２０２４年１２月３１日", "2024年13月5日"],
                          [date(2024, 3, 5), date(2024, 12, 31)],
                          [(4, "出生日期: '2024年13月5日' is not a date")], "gbk"),
    "dotted-slashed-compact-dates": Case("出生日期", "date", ["2024.3.5", "2024/03/05", "2024-3-5", "20240305",
                                                          "2023.02.29"], [date(2024, 3, 5)] * 4,
                                         [(6, "出生日期: '2023.02.29' is not a date")]),
    "excel-serial-dates": Case("出生日期", "date", [45356, datetime(2024, 3, 5), 36526, 2024],
                               [date(2024, 3, 5), date(2024, 3, 5), date(2000, 1, 1)],
                               [(5, ("出生日期: '2024' is not a date (as an Excel serial number it falls outside "
                                    "1920-2099)"))], "xlsx"),
    "typed-timestamps": Case("登记时间", "timestamp", ["2024年3月5日 14:30", "2024/3/5 9:05:07", "45356.75",
                                                   "2024-03-05 24:61"],
                             [datetime(2024, 3, 5, 14, 30), datetime(2024, 3, 5, 9, 5, 7), datetime(2024, 3, 5, 18, 0)],
                             [(5, "登记时间: '2024-03-05 24:61' is not a date and time")], "gb18030"),
    "yes-no-booleans": Case("是否低保", "boolean", ["是", "否", "有", "无", "√", "×", "Y", "不详"],
                            [True, False, True, False, True, False, True],
                            [(9, "是否低保: '不详' is not yes or no (是/否, 有/无, Y/N, true/false, 1/0, √/×)")], "gbk"),
    "lowercase-x-and-full-width-ids": Case("身份证号", None, ["51172419990101003x", "５１１７２４１９９９０１０１００１３"],
                                           ["51172419990101003X", "511724199901010013"], [], "gbk"),
    "wrong-check-digit": Case("身份证号", None, ["511724199901010013", "511724199901010014"], ["511724199901010013"],
                              [(3, "身份证号: '511724199901010014' has a wrong check digit (GB 11643 gives 3)")]),
    "impossible-birth-date": Case("身份证号", None, ["511724199902300012"], [],
                                  [(2, "身份证号: '511724199902300012' has an impossible birth date (19990230)")], "gbk"),
    "birth-date-in-the-future": Case("身份证号", None, ["511724209912310026"], [],
                                     [(2, "身份证号: '511724209912310026' has a birth date in the future (2099-12-31)")]),
    "unknown-birth-place": Case("身份证号", None, ["999999199901010011"], [],
                                [(2, ("身份证号: '999999199901010011' has an unknown birth place (region 999999 did not "
                                     "exist in 1999)"))]),
    "lost-digit-float-id": Case("身份证号", None, [float(511724199901010013), "511724199901010056"],
                                ["511724199901010056"], [(2, ID_LOST)], "xlsx"),
    "truncated-id": Case("身份证号", None, ["51172419990101001"], [],
                         [(2, ("身份证号: '51172419990101001' has 17 digits: it was cut short (a resident ID number "
                              "has 18)"))], "gb18030"),
}


def _write(folder: Path, case: Case) -> str:
    if case.file == "xlsx":
        book = Workbook()
        sheet = book.active
        sheet.append(["序号", case.column])
        for i, cell in enumerate(case.cells, start=1):
            sheet.append([i, cell])
        book.save(folder / "case_1.xlsx")
        return "case_1.xlsx"
    lines = ["序号," + case.column] + [f'{i},"{cell}"' for i, cell in enumerate(case.cells, start=1)]
    (folder / "case_1.csv").write_bytes("\r\n".join(lines).encode(case.file) + b"\r\n")
    return "case_1.csv"


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_loaded_as_meant_or_quarantined_with_its_reason(settings: Settings, tmp_path: Path,
                                                                     case: Case) -> None:
    name = _write(tmp_path, case)
    types = {"序号": "integer"} | ({case.column: case.declared} if case.declared else {})
    stream = Stream(name="case", pattern=name, types=types)
    result = load_stream(Lake(settings), DEPT, stream, get_connector("files")({"path": str(tmp_path)}))
    assert (result.rows_read, result.rows_loaded) == (len(case.cells), len(case.loaded))
    with Lake(settings).reader() as con:
        loaded = [r[0] for r in con.execute(f'SELECT "{case.column}" FROM raw_mzj.case ORDER BY 序号').fetchall()]
        quarantined = con.execute("SELECT location, reason FROM quarantine.mzj__case ORDER BY location").fetchall() \
            if case.quarantined else []
    assert loaded == case.loaded
    assert quarantined == sorted((f"{name}:{line}", reason) for line, reason in case.quarantined)
