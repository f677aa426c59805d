"""The shipped search vocabulary (catalog/synonyms.yml) keeps to the format and rules its header states."""

from __future__ import annotations

import copy
import re
import tomllib
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from pypinyin import Style, lazy_pinyin

from countyhub.catalog.text import stem

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "catalog" / "synonyms.yml"
HAN = re.compile(r"[\u4e00-\u9fff]")
# Romanised words English-language writing uses as words of their own (the header names them).
LOANWORDS = {"dibao", "hukou", "chengguan"}


@lru_cache(maxsize=1)
def _parsed() -> dict[str, Any]:
    return yaml.safe_load(FILE.read_text(encoding="utf-8"))


def _load() -> dict[str, Any]:
    return copy.deepcopy(_parsed())


def _word_problems(word: Any, where: str) -> list[str]:
    if not isinstance(word, str) or not word.strip():
        return [f"{where}: {word!r} is not a non-empty string"]
    if word != word.strip():
        return [f"{where}: {word!r} has surrounding whitespace"]
    if HAN.search(word):
        return [f"{where}: Chinese {word!r} contains whitespace"] if re.search(r"\s", word) else []
    return [f"{where}: English {word!r} is not lowercase"] if word != word.lower() else []


def _key(word: str) -> str:
    """What two members must not share: the text, English lowercased and stemmed word by word."""
    return word if HAN.search(word) else " ".join(stem(w) for w in word.lower().split())


@cache
def _pinyin(word: str) -> tuple[str, str]:
    return "".join(lazy_pinyin(word)).lower(), "".join(lazy_pinyin(word, style=Style.FIRST_LETTER)).lower()


def problems(data: Any) -> list[str]:
    """Every way data breaks the file's rules; [] when it keeps them all."""
    if not isinstance(data, dict) or set(data) - {"same", "broader"}:
        return [f"top level must be a mapping with `same` and `broader` only, got {data!r:.80}"]
    same, broader = data.get("same") or [], data.get("broader") or {}
    if not isinstance(same, list):
        return ["`same` must be a list of groups"]
    if not isinstance(broader, dict):
        return ["`broader` must be a mapping of word -> list of words"]
    out: list[str] = []
    group_of: dict[str, int] = {}
    full_pinyin: dict[str, str] = {}
    for i, group in enumerate(same):
        if not isinstance(group, list) or len(group) < 2:
            out.append(f"same[{i}]: a group is a list of at least two words, got {group!r}")
            continue
        for word in group:
            out += _word_problems(word, f"same[{i}]")
        words = [w for w in group if isinstance(w, str) and w.strip()]
        initials = set()
        for w in words:
            if HAN.search(w):
                full, first = _pinyin(w)
                full_pinyin.setdefault(full, w)
                initials.add(first)
        for w in words:
            k = _key(w)
            if k in group_of and group_of[k] != i:
                out.append(f"{w!r} is in same[{group_of[k]}] and same[{i}]: merge the groups")
            elif k in group_of:
                out.append(f"same[{i}]: {w!r} twice")
            group_of[k] = i
            if not HAN.search(w) and w not in LOANWORDS and w.replace(" ", "") in initials:
                out.append(f"same[{i}]: {w!r} is the pinyin initials of a member (derived in code, not listed)")
    for word, i in group_of.items():
        if not HAN.search(word) and word not in LOANWORDS and word.replace(" ", "") in full_pinyin:
            out.append(f"same[{i}]: {word!r} is the pinyin of {full_pinyin[word.replace(' ', '')]!r}")
    for key, wider in broader.items():
        out += _word_problems(key, "broader key")
        if not isinstance(key, str) or not key.strip():
            continue
        if _key(key) not in group_of:
            out.append(f"broader: {key!r} is in no `same` group")
        if not isinstance(wider, list) or not wider:
            out.append(f"broader[{key!r}]: expected a non-empty list of words, got {wider!r}")
            continue
        for w in wider:
            out += _word_problems(w, f"broader[{key!r}]")
        words = [w for w in wider if isinstance(w, str) and w.strip()]
        if len(set(words)) != len(words):
            out.append(f"broader[{key!r}]: a word twice in {words}")
        for w in words:
            if w == key:
                out.append(f"broader[{key!r}]: lists itself")
            elif _key(key) in group_of and group_of.get(_key(w)) == group_of[_key(key)]:
                out.append(f"broader[{key!r}]: {w!r} is in the same group, so it is not wider")
    return out


def test_the_shipped_vocabulary_keeps_every_rule() -> None:
    assert problems(_load()) == []


def test_it_is_big_enough_to_matter() -> None:
    data = _load()
    assert len(data["same"]) >= 150
    assert len(data["broader"]) >= 40


@pytest.mark.parametrize("pair", [
    ("营业执照", "市场主体登记"), ("低保", "最低生活保障"), ("社保", "社会保险"), ("公租房", "公共租赁住房"),
    ("身份证", "公民身份号码"), ("户口本", "居民户口簿"), ("人社", "人力资源和社会保障局"), ("卫健委", "卫生健康局"),
    ("城管", "综合行政执法局"), ("市监局", "市场监督管理局"), ("大数据局", "政务服务和大数据管理局"),
    ("统一社会信用代码", "uscc"), ("医保", "基本医疗保险"), ("网格", "grid"), ("法人", "法定代表人"),
])
def test_the_words_staff_search_with_find_the_formal_names(pair: tuple[str, str]) -> None:
    groups = [set(g) for g in _load()["same"]]
    assert any(set(pair) <= g for g in groups), pair


def test_hierarchies_are_in_broader_not_same() -> None:
    broader = _load()["broader"]
    assert "社会救助" in broader["低保"]
    assert "医疗机构" in broader["医院"]
    assert "行政许可" in broader["食品经营许可"]


@pytest.mark.parametrize("breakage, expected", [
    (lambda d: d["same"].append(["营业执照", "执照"]), "merge the groups"),
    (lambda d: d["same"].append(["business licences", "执照"]), "merge the groups"),
    (lambda d: d["same"][0].append(d["same"][0][0]), "twice"),
    (lambda d: d["same"].append(["执照", "Licence"]), "not lowercase"),
    (lambda d: d["same"].append(["营业 执照", "licence"]), "contains whitespace"),
    (lambda d: d["same"].append(["执照证", ""]), "non-empty string"),
    (lambda d: d["same"].append(["执照证"]), "at least two words"),
    (lambda d: d["same"].append(["执照证", "zhizhaozheng"]), "is the pinyin of"),
    (lambda d: d["same"].append(["执照证", "zzz"]), "pinyin initials"),
    (lambda d: d["broader"].update({"执照证": ["证照"]}), "in no `same` group"),
    (lambda d: d["broader"].update({"低保": "社会救助"}), "non-empty list"),
    (lambda d: d["broader"].update({"低保": ["最低生活保障"]}), "not wider"),
    (lambda d: d["broader"].update({"低保": [3]}), "non-empty string"),
    (lambda d: d.update({"synonyms": []}), "top level"),
])
def test_the_checks_catch_each_kind_of_mistake(breakage: Any, expected: str) -> None:
    data = _load()
    breakage(data)
    found = problems(data)
    assert any(expected in p for p in found), found


def test_the_file_ships_in_the_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "synonyms.yml" in config["tool"]["setuptools"]["package-data"]["countyhub.catalog"]
    shipped = resources.files("countyhub.catalog") / "synonyms.yml"
    assert yaml.safe_load(shipped.read_text(encoding="utf-8")) == _load()
