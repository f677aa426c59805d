"""Seed the office-export benchmark: a GB18030 roll with a title block and footer, a two-level-header workbook,
and the cleaned copies DuckDB's own readers get."""

from __future__ import annotations

import codecs
import re
import zipfile
from datetime import date
from pathlib import Path

import duckdb

# GB 11643 weights; the check character is CHECK[sum % 11]. Valid numbers, so the load's ID rule passes them.
WEIGHTS = "[7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]"
CHECK = "10X98765432"
# Born 2000 or later: stdnum checks the birth place as of the birth year, and 511724 is valid from 1999.
ROLL = f"""WITH people AS (
    SELECT i, '511724' || strftime(DATE '2000-01-01' + INTERVAL (i % 8000) DAY, '%Y%m%d')
              || lpad((i % 1000)::VARCHAR, 3, '0') AS body,
           DATE '2023-01-01' + INTERVAL (i % 700) DAY AS since, 100 + (i * 37) % 4900 AS amount
    FROM range({{rows}}) t(i))
SELECT body || substr('{CHECK}', list_sum(list_transform(range(1, 18),
           k -> substr(body, k, 1)::INT * {WEIGHTS}[k]))::BIGINT % 11 + 1, 1) AS 身份证号,
       '居民' || i AS 姓名, ['最低生活保障', '特困人员供养', '临时救助'][i % 3 + 1] AS 救助类型,
       {{amount}} AS 月发放金额, {{since}} AS 起始日期, '511724' || lpad((i % 30)::VARCHAR, 3, '0') AS 乡镇代码,
       '竹阳街道' AS 乡镇名称, {{flag}} AS 是否残疾, '大竹县社会救助发放名册' AS 备注
FROM people"""
# As the roll's values are typed in the office (thousands separators and 元, 2023年7月1日, 是/否) and as a
# system would write them; the load declares these types, so both files load to the same typed rows.
TYPED_BY_PEOPLE = {"amount": "format('{:,}', amount) || '.00元'",
                   "since": "strftime(since, '%Y') || '年' || month(since) || '月' || day(since) || '日'",
                   "flag": "CASE WHEN i % 17 = 0 THEN '是' ELSE '否' END"}
WRITTEN_BY_SYSTEM = {"amount": "amount || '.00'", "since": "strftime(since, '%Y-%m-%d')",
                     "flag": "CASE WHEN i % 17 = 0 THEN 'true' ELSE 'false' END"}
ROLL_TYPES = {"月发放金额": "decimal(12,2)", "起始日期": "date", "是否残疾": "boolean"}
TITLE = ["大竹县民政局最低生活保障对象名册（2024年度）", "填报单位：大竹县民政局,,,,,,,,", "单位：元,,,,,,,,"]
FOOTER = ["合计,,,,,,,,", "制表人：王五,,,审核人：赵六,,,,,", "填报日期：2024年1月5日,,,,,,,,"]
BYTES_PER_ROW = 112  # measured for the office roll in GB18030


def _transcode(utf8: Path, target: Path, before: list[str] = (), after: list[str] = ()) -> None:
    """Write `utf8` to `target` in GB18030, with lines above and below (a title block, a footer), CRLF as offices do."""
    encoder, decoder = codecs.getincrementalencoder("gb18030")(), codecs.getincrementaldecoder("utf-8")()
    with utf8.open("rb") as src, target.open("wb") as dst:
        dst.write("".join(f"{line}\r\n" for line in before).encode("gb18030"))
        while chunk := src.read(1 << 24):
            dst.write(encoder.encode(decoder.decode(chunk).replace("\n", "\r\n")))
        dst.write(encoder.encode(decoder.decode(b"", final=True), final=True))
        dst.write("".join(f"{line}\r\n" for line in after).encode("gb18030"))


def write_office_roll(folder: Path, target_bytes: int) -> tuple[Path, Path, Path, int]:
    """(the office export, the same rows as a system writes them in GB18030, that in UTF-8, rows)."""
    rows = target_bytes // BYTES_PER_ROW
    paths = {name: folder / name / "roll_1.csv" for name in ("office", "system", "utf8")}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    office_utf8 = folder / "office-utf8.csv"
    duckdb.execute(f"COPY ({ROLL.format(rows=rows, **TYPED_BY_PEOPLE)}) TO '{office_utf8}' (HEADER, DELIMITER ',')")
    duckdb.execute(f"COPY ({ROLL.format(rows=rows, **WRITTEN_BY_SYSTEM)}) TO '{paths['utf8']}' (HEADER, DELIMITER ',')")
    _transcode(office_utf8, paths["office"], TITLE, FOOTER)
    office_utf8.unlink()
    _transcode(paths["utf8"], paths["system"])
    return paths["office"], paths["system"], paths["utf8"], rows


# The enrollment sheet schools send: a merged title, 序号 and 户籍所在地 merged down both header rows, and
# groups 儿童信息 / 监护人信息 over their columns; a blank row, then who made and checked it.
GROUPS = [("序号", None), ("儿童信息", "姓名"), ("儿童信息", "身份证号"), ("儿童信息", "出生日期"),
          ("监护人信息", "姓名"), ("监护人信息", "联系电话"), ("户籍所在地", None), ("是否接种", None)]
MERGES = ["A1:H1", "A2:A3", "B2:D2", "E2:F2", "G2:G3", "H2:H3"]
FLAT_NAMES = ["序号", "儿童信息_姓名", "儿童信息_身份证号", "儿童信息_出生日期", "监护人信息_姓名", "监护人信息_联系电话",
              "户籍所在地", "是否接种"]
ENROLLMENT_TYPES = {"儿童信息_出生日期": "date", "是否接种": "boolean"}


def _children(rows: int) -> list[tuple]:
    query = ROLL.format(rows=rows, **WRITTEN_BY_SYSTEM)
    return duckdb.execute(f"SELECT 身份证号, 姓名, 起始日期 FROM ({query})").fetchall()


def write_enrollment_books(folder: Path, rows: int) -> tuple[Path, Path, int]:
    """(the school's two-level-header workbook, the same rows under one header row), each with `rows` children."""
    from openpyxl import Workbook

    office, plain = folder / "office" / "enroll_1.xlsx", folder / "plain" / "enroll_1.xlsx"
    for path, drawn in ((office, True), (plain, False)):
        path.parent.mkdir(parents=True, exist_ok=True)
        book = Workbook(write_only=True)  # streams rows: 200k rows in the normal mode take gigabytes
        sheet = book.create_sheet("入学登记")
        if drawn:
            sheet.append(["大竹县2024年秋季小学一年级入学登记表"])
            sheet.append([upper for upper, _ in GROUPS])
            sheet.append([lower for _, lower in GROUPS])
        else:
            sheet.append(FLAT_NAMES)
        for n, (id_number, name, born) in enumerate(_children(rows), start=1):
            sheet.append([n, name, id_number, date.fromisoformat(born), f"家长{n}", f"138{n % 100_000_000:08d}",
                          "四川省达州市大竹县竹阳街道", "是" if drawn else "true"])
        if drawn:
            sheet.append([])
            sheet.append(["制表人：王五", None, None, "审核人：赵六"])
        book.save(path)
        if drawn:
            _add_merges(path, MERGES)
    return office, plain, rows


def _add_merges(path: Path, refs: list[str]) -> None:
    """Write `<mergeCells>` into the workbook's only sheet: openpyxl's streaming writer cannot merge cells."""
    patched = path.with_suffix(".tmp")
    merges = f'<mergeCells count="{len(refs)}">' + "".join(f'<mergeCell ref="{r}"/>' for r in refs) + "</mergeCells>"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", item.filename):
                data = data.replace(b"</sheetData>", b"</sheetData>" + merges.encode(), 1)
            dst.writestr(item, data)
    patched.replace(path)
