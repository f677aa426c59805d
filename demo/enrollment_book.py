"""jyj enrollment workbooks: one .xlsx per primary school, laid out and dated the way that school writes it.

A title row above the header, and dates as each school's clerk types them: '2020-03-05', '2020/3/5',
'2020年3月5日' or a real Excel date; about 1 in 10 cells of a school uses another of those forms.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

from countyhub.demo.education import ENTRY_YEAR, Application

SHEET = "新生登记"
HEADERS = ("序号", "学生姓名", "性别", "出生日期", "学生身份证号", "监护人姓名", "监护人身份证号", "与学生关系",
           "户籍地址", "现居住地址", "联系电话", "申请日期")
DATE_FORMS = ("iso", "slash", "chinese", "excel")
OTHER_FORM_SHARE = 0.1
# Zip entries and document properties carry this time, so the same county gives byte-identical workbooks.
FIXED_TIME = datetime(2026, 11, 20, 18, 0, 0)
MODIFIED = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")


def file_name(school_code: str) -> str:
    return f"enrollment_{school_code}_{ENTRY_YEAR}.xlsx"


def written_date(day: date, form: str) -> str | date:
    if form == "slash":
        return f"{day.year}/{day.month}/{day.day}"
    if form == "chinese":
        return f"{day.year}年{day.month}月{day.day}日"
    if form == "excel":
        return day
    return day.isoformat()


def title(school_name: str) -> str:
    return f"{school_name}{ENTRY_YEAR}年秋季一年级新生入学申请表"


def write_workbook(path: Path, rng: random.Random, school_name: str, applications: list[Application]) -> None:
    """The school's workbook: title row, header, one row per application in the school's date form."""
    form = rng.choice(DATE_FORMS)
    book = Workbook(write_only=True)
    book.properties.created = book.properties.modified = FIXED_TIME
    sheet = book.create_sheet(SHEET)
    sheet.append([title(school_name)])
    sheet.append(list(HEADERS))
    for n, a in enumerate(applications, start=1):
        forms = [form if rng.random() >= OTHER_FORM_SHARE else rng.choice(DATE_FORMS) for _ in range(2)]
        sheet.append([n, a.student_name, a.gender, written_date(a.birth_date, forms[0]), a.student_id,
                      a.guardian_name, a.guardian_id, a.relationship, a.registered_address, a.current_address,
                      a.phone, written_date(a.applied_on, forms[1])])
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(_fixed_times(buffer.getvalue()))


def _fixed_times(data: bytes) -> bytes:
    """The archive rewritten with every entry dated FIXED_TIME (openpyxl stamps them with the wall clock)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets `modified` to the wall clock on save
                data = MODIFIED.sub(f"<dcterms:modified\\1>{FIXED_TIME:%Y-%m-%dT%H:%M:%SZ}</dcterms:modified>".encode(),
                                    data)
            target.writestr(fixed, data)
    return out.getvalue()
