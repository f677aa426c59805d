"""The string table under the saved index: lookups by bisection, and `containing` through the saved character
pairs giving exactly what a scan of every entry gives."""

from __future__ import annotations

import random
from pathlib import Path

from countyhub.catalog.strings import StringTable


def test_containing_through_the_pairs_equals_a_scan(tmp_path: Path) -> None:
    rng = random.Random(5)
    chars = "户籍人口台账明细天城镇欧家乡公安局营业执照1a"
    words = sorted({"".join(rng.choice(chars) for _ in range(rng.randint(1, 6))) for _ in range(3000)}
                   | {"dazhu", "huji", "户籍", "户籍人口", "x户籍"})
    built = StringTable.build(words)
    built.save(tmp_path, "t")
    built.save_pairs(tmp_path, "t")
    opened = StringTable.open(tmp_path, "t")
    assert opened.pairs is not None and built.pairs is None
    parts = {w[i:j] for w in words[:400] for i in range(len(w)) for j in range(i + 2, len(w) + 1)} | {"户籍", "无此"}
    for part in sorted(parts):
        scanned = [i for i, w in enumerate(words) if part in w]
        assert opened.containing(part) == built.containing(part) == scanned, part
    assert {"x户籍", "户籍", "户籍人口"} <= {opened[i] for i in opened.containing("户籍")}
    assert opened.find("户籍人口") == words.index("户籍人口") and opened.find("不在") == -1
    assert opened.prefixed("hu", 5) == ["huji"]
