"""Files whose lines mix UTF-8 and GB18030: told apart only by lines of Chinese, the foreign ones quarantined."""

from __future__ import annotations

from pathlib import Path

from countyhub.connectors import get_connector
from countyhub.connectors.mixed_encoding import mixed_encoding
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake
from countyhub.lakehouse.load import load_stream

DEPT = Department(code="mzj", name="民政局", name_en="Civil affairs", owner={"steward": "qa"})


def test_a_gbk_file_whose_single_characters_decode_as_utf8_is_not_mixed() -> None:
    # 性别 values of one character: GBK 男 (C4 D0) is not UTF-8, but some single characters are (a 2-byte
    # Latin or Cyrillic letter); only two CJK ideographs in UTF-8 make a line UTF-8 Chinese.
    lines = ["姓名,性别", "张三,男", "李四,女", "王五,一"]
    head = "\r\n".join(lines).encode("gb18030") + b"\r\n"
    assert "一".encode("gb18030").decode("utf-8") == "һ"  # GBK D2 BB is UTF-8 for a Cyrillic letter
    assert mixed_encoding(head) is None
    assert mixed_encoding("\r\n".join(lines).encode("utf-8")) is None


def test_the_encoding_most_lines_of_chinese_are_in_is_the_files() -> None:
    gbk = [f"居民{i},竹阳街道".encode("gb18030") for i in range(3)]
    utf8 = [f"居民{i},庙坝镇".encode() for i in range(2)]
    assert mixed_encoding(b"\r\n".join([*gbk, *utf8]) + b"\r\n") == "gb18030"
    assert mixed_encoding(b"\r\n".join([gbk[0], *utf8, *utf8]) + b"\r\n") == "utf-8"


def test_rows_after_a_foreign_line_are_located_at_their_own_lines(settings: Settings, tmp_path: Path) -> None:
    head = "身份证号,姓名,月发放金额\r\n511724199901010013,张三,560.00\r\n".encode("gb18030")
    foreign = "511724199901010021,李四,480.00\r\n".encode()  # line 3, pasted in UTF-8
    tail = "51172419990101003X,王五,四百\r\n".encode("gb18030")  # line 4: not a number
    (tmp_path / "roll_1.csv").write_bytes(head + foreign + tail)
    stream = Stream(name="roll", pattern="roll_*.csv", types={"月发放金额": "decimal(10,2)"})
    result = load_stream(Lake(settings), DEPT, stream, get_connector("files")({"path": str(tmp_path)}))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 1, 2)
    with Lake(settings).reader() as con:
        entries = con.execute("SELECT location, reason FROM quarantine.mzj__roll ORDER BY location").fetchall()
        names = con.execute("SELECT 姓名 FROM raw_mzj.roll").fetchall()
    assert names == [("张三",)]
    reason = ("this line is written in UTF-8 while the rest of the file is GB18030 (GBK) (pasted from another "
              "program?); re-save the line in the file's encoding")
    assert entries[0] == ("roll_1.csv:3", reason)
    assert entries[1] == ("roll_1.csv:4", "月发放金额: '四百' is not a number")
