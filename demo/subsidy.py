"""mzj subsidy roll (社会救助发放名册): the monthly export the Civil Affairs Bureau drops as GB18030 CSV."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from countyhub.demo.divisions import TOWNSHIP_BY_CODE
from countyhub.demo.household import Person
from countyhub.demo.timeline import ROLL_MONTH

HEADERS = ("身份证号", "姓名", "救助类型", "月发放金额", "起始年月", "乡镇代码", "乡镇名称")
ENCODING = "gb18030"
# (救助类型, weight as a recipient's main type, monthly amounts in CNY)
ASSISTANCE = (
    ("最低生活保障", 60, (480, 520, 560, 610, 650)),
    ("特困人员供养", 15, (860, 920, 1010, 1080)),
    ("临时救助", 25, tuple(range(100, 1550, 50))),
)
RECIPIENT_SHARE = 0.08
SECOND_TYPE_SHARE = 0.12


def roll_file_name(month: str = ROLL_MONTH) -> str:
    return f"subsidy_roll_{month}.csv"


def build_roll(rng: random.Random, persons: list[Person], month: str = ROLL_MONTH) -> list[tuple[str, ...]]:
    """About 8% of persons, some with a second, different 救助类型; ordered by township as exported."""
    count = max(1, round(len(persons) * RECIPIENT_SHARE))
    return roll_rows(rng, rng.sample(persons, min(count, len(persons))), month)


def roll_rows(rng: random.Random, recipients: list[Person], month: str = ROLL_MONTH) -> list[tuple[str, ...]]:
    """The roll's rows of the chosen recipients, some with a second type; ordered by township as exported."""
    kinds = [a[0] for a in ASSISTANCE]
    amounts = {a[0]: a[2] for a in ASSISTANCE}
    rows: list[tuple[str, ...]] = []
    for person in recipients:
        main = rng.choices(kinds, weights=[a[1] for a in ASSISTANCE])[0]
        types = [main]
        if rng.random() < SECOND_TYPE_SHARE:
            types.append(rng.choice([k for k in kinds if k != main]))
        for kind in types:
            start = f"{rng.randint(2016, 2026)}-{rng.randint(1, 12):02d}"
            township = TOWNSHIP_BY_CODE[person.township_code]
            rows.append((person.id_number, person.name, kind, f"{rng.choice(amounts[kind]):.2f}",
                         min(start, month), township.code, township.name))
    rows.sort(key=lambda r: (r[5], r[0], kinds.index(r[2])))
    return rows


def write_roll(path: Path, rows: list[tuple[str, ...]], month: str = ROLL_MONTH) -> None:
    """The roll laid out as the bureau prints it (see write_printed_csv), the total under 月发放金额."""
    year, mon = month.split("-")
    write_printed_csv(path, f"大竹县民政局社会救助发放名册（{year}年{int(mon)}月）", "填报单位：大竹县民政局社会救助股",
                      HEADERS, rows, HEADERS.index("月发放金额"), month)


def write_printed_csv(path: Path, title: str, unit: str, headers: tuple[str, ...], rows: list[tuple[str, ...]],
                      total_column: int, month: str = ROLL_MONTH) -> None:
    """CSV with CRLF line ends and Chinese headers, encoded GB18030 like the bureau's Excel export, laid out as
    it is printed: a title and the reporting unit above the header, the total and signatures below the rows."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    blank = [""] * (len(headers) - 1)
    year, month = month.split("-")
    writer.writerow([title, *blank])
    writer.writerow([unit, *blank])
    writer.writerow(headers)
    writer.writerows(rows)
    total = sum(float(r[total_column]) for r in rows)
    footer = ["合计", *blank]
    footer[total_column] = f"{total:.2f}"
    writer.writerow(footer)
    writer.writerow(["制表人：李明", "", "审核人：王芳", *blank[2:]])
    writer.writerow([f"填报日期：{year}年{int(month)}月30日", *blank])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode(ENCODING))
