"""Footer and bad lines at the end of a large export are found from the file's tail, at the same lines as a full pass."""

from __future__ import annotations

from pathlib import Path

from countyhub.connectors.base import RejectList
from countyhub.connectors.csv_layout import read_layout
from countyhub.connectors.csv_lines import TAIL_BYTES, trace, trace_tail
from countyhub.connectors.files import FilesConnector
from countyhub.core.departments import Stream

TITLE = ["大竹县民政局最低生活保障对象名册（2024年度）", "填报单位：大竹县民政局,,,"]
HEADER = "身份证号,姓名,住址,月发放金额"


def _roll(path: Path, rows: int, tail: list[str], middle: list[str] = ()) -> int:
    """A GB18030 CRLF export with a title block, a quoted two-line address early on, `middle` lines halfway, and
    `tail` lines after the data; returns the physical line of the first `tail` line."""
    lines = [*TITLE, HEADER, '511724200001010005,张三,"竹阳街道\r\n东湖路1号",560.00']
    data = [f"51172420000101{i:04d},居民{i},庙坝镇{i}号,480.00" for i in range(rows)]
    lines += data[:rows // 2] + list(middle) + data[rows // 2:]
    first_tail = len(lines) + 2  # the quoted address spans two lines
    path.write_bytes(("\r\n".join(lines + tail) + "\r\n").encode("gb18030"))
    return first_tail


def test_footer_lines_at_the_end_are_found_from_the_tail_at_their_physical_lines(tmp_path: Path) -> None:
    path = tmp_path / "roll_1.csv"
    first = _roll(path, 20_000, ["合计,,,9600000.00", "制表人：王五,,审核人：赵六", "填报日期：2024年1月5日"])
    assert path.stat().st_size > 2 * TAIL_BYTES
    layout = read_layout(path, None, None, "auto", None)
    found = trace_tail(path, layout, bad=2, kept_out=1)
    # 合计 fills the whole width (kept out of a batch); the other two are shorter than the header (bad records).
    assert found is not None and (found.kept_out, found.bad) == ([first], [first + 1, first + 2])
    full = trace(path, layout, set(), 2, 1)
    assert (full.kept_out, full.bad) == (found.kept_out, found.bad)


def test_a_bad_line_far_from_the_end_falls_back_to_the_full_pass(tmp_path: Path) -> None:
    path = tmp_path / "roll_1.csv"
    first = _roll(path, 20_000, ["合计,,,9600000.00"], middle=["断行,只有两列"])
    layout = read_layout(path, None, None, "auto", None)
    assert trace_tail(path, layout, bad=1, kept_out=1) is None
    rejects = RejectList()
    # Lines 1-2 title, 3 header, 4-5 the quoted address, 6-10005 the first 10,000 rows, then the bad line.
    rows = sum(b.num_rows for b in FilesConnector({"path": str(tmp_path)}).read(Stream(name="roll"), rejects=rejects))
    assert rows == 20_001
    assert [(s.where, s.reason) for s in rejects.skipped] == [
        ("roll_1.csv:1", "title above the header"), ("roll_1.csv:2", "note above the header"),
        (f"roll_1.csv:{first}", "footer: 合计")]
    assert [(r.where, r.reason) for r in rejects.rows] == [(f"roll_1.csv:{6 + 10_000}",
                                                             "line has 2 fields, the header has 4")]
