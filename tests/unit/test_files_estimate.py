"""A drop folder estimates the rows its next read takes (the progress bar's ETA), hashing each file once."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

import countyhub.connectors.files as files_module
from countyhub.connectors import get_connector
from countyhub.core.departments import Stream

STREAM = Stream(name="roll", pattern="roll_*.*")


def _csv(path: Path, rows: range) -> None:
    lines = ["身份证号,姓名,住址"] + [f"5117241980{i:08d},居民{i},四川省达州市大竹县竹阳街道{i}号" for i in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))


def test_estimate_is_close_for_new_files_and_zero_for_loaded_ones(tmp_path: Path) -> None:
    _csv(tmp_path / "roll_1.csv", range(20_000))  # ~1 MB: well past the 64 KB the estimate samples
    book = Workbook()
    sheet = book.active
    sheet.append(["大竹县社会救助名册"])  # a title row above the header, as government sheets have
    sheet.append(["身份证号", "姓名"])
    for i in range(300):
        sheet.append([f"5117241980{i:08d}", f"居民{i}"])
    book.save(tmp_path / "roll_2.xlsx")

    connector = get_connector("files")({"path": str(tmp_path)})
    estimate = connector.estimate(STREAM, None)
    actual = sum(b.num_rows for b in connector.read(STREAM, None))
    assert actual == 20_300
    assert abs(estimate - actual) / actual < 0.05, estimate

    state = connector.checkpoint(STREAM)
    assert connector.estimate(STREAM, state) == 0  # nothing new: the next read takes nothing
    _csv(tmp_path / "roll_1.csv", range(20_010))  # re-exported under the same name with 10 more rows
    assert abs(connector.estimate(STREAM, state) - 20_010) < 1_000


def test_each_file_is_hashed_once_for_estimate_and_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _csv(tmp_path / "roll_1.csv", range(100))
    hashed: list[Path] = []
    real = files_module.file_checksum
    monkeypatch.setattr(files_module, "file_checksum", lambda path: hashed.append(path) or real(path))
    connector = get_connector("files")({"path": str(tmp_path)})
    connector.estimate(STREAM, None)
    list(connector.read(STREAM, None))
    assert hashed == [tmp_path / "roll_1.csv"]
