"""The catalog benchmark's synthetic entries and its two labelled query sets (title-derived and staff words)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.catalog_data import (
    DEPARTMENTS,
    STAFF_PLAN,
    _place,
    _py,
    generate,
    labelled_queries,
    staff_queries,
)
from bench.catalog_words import BROADER_WORDS, COLUMN_WORD, DEPT_SHORT, ENGLISH, SYNONYM_WORDS, TOPIC_COLUMNS, TOPIC_CUE
from countyhub.catalog.text import stem

VOCAB = yaml.safe_load((Path(__file__).resolve().parents[2] / "catalog" / "synonyms.yml").read_text(encoding="utf-8"))
# The title-derived set as generated before the entries had topic columns (commit f8725a0): old benchmark figures
# stay comparable only while this holds.
LABELLED_DIGEST = "bf93181baf78eccc570249b3e684f0aca94fe277d18fc08d03bfbf0a5a4c2a9a"


@pytest.fixture(scope="module")
def entries() -> list[dict[str, Any]]:
    return generate(1000)


@pytest.fixture(scope="module")
def staff(entries: list[dict[str, Any]]) -> list[Any]:
    return staff_queries(entries)


def _digest(queries: list[Any]) -> str:
    rows = [[q.q, q.expected, q.kind, q.facets] for q in queries]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def test_generate_is_deterministic_and_a_prefix_of_larger_catalogs(entries: list[dict[str, Any]]) -> None:
    assert generate(1000) == entries
    assert generate(1500)[:1000] == entries
    assert len({e["name"] for e in entries}) == 1000


def test_every_entry_has_its_topic_columns_with_descriptions(entries: list[dict[str, Any]]) -> None:
    levels = ["public", "internal", "sensitive", "secret"]
    for e in entries:
        topic = e["_meta"]["topic"]
        names = [c["name"] for c in e["columns"]]
        assert names[: len(TOPIC_COLUMNS[topic])] == [c[0] for c in TOPIC_COLUMNS[topic]]
        assert len(names) == len(set(names)), e["name"]
        for c in e["columns"]:
            assert set(c) == {"name", "type", "description", "classification"}
            assert re.fullmatch(r"[a-z][a-z0-9_]*", c["name"])
            assert levels.index(c["classification"]) <= levels.index(e["classification"])
    for topic, cols in TOPIC_COLUMNS.items():
        assert 5 <= len(cols) <= 8, topic
        assert all(re.search(r"[\u4e00-\u9fff]", c[2]) for c in cols), topic


def test_the_title_derived_set_is_unchanged(entries: list[dict[str, Any]]) -> None:
    queries = labelled_queries(entries)
    assert len(queries) == 200
    assert Counter(q.kind for q in queries)["zh_title"] == 30
    assert _digest(queries) == LABELLED_DIGEST


def test_staff_queries_are_120_of_the_planned_kinds(staff: list[Any]) -> None:
    assert len(staff) == 120
    assert Counter(q.kind for q in staff) == dict(STAFF_PLAN)
    assert len({q.expected for q in staff}) == 120
    assert all(not q.facets and q.term for q in staff)


def test_each_staff_query_names_its_targets_place_year_and_kind_of_table(entries: list[dict[str, Any]],
                                                                         staff: list[Any]) -> None:
    """With those, the staff word's topic fits the target alone at every catalog size (they are distinct)."""
    by_name = {e["name"]: e for e in entries}
    for q in staff:
        assert q.expected in by_name, q
        m = by_name[q.expected]["_meta"]
        place = _place(m["town"])
        assert place in q.q or _py(place) in q.q, q
        assert str(m["year"]) in q.q, q
        assert any(a in q.q for a in (m["aspect"], _py(m["aspect"]), m["aspect_en"])), q
        assert m["topic"] not in q.q, q  # staff words, not the title's topic word


def test_no_staff_word_contains_its_topic_word() -> None:
    for table in (SYNONYM_WORDS, BROADER_WORDS):
        for topic, words in table.items():
            assert not [w for w in words if topic in w], topic
    assert not [t for t, cue in TOPIC_CUE.items() if t in cue]


def _groups_with(word: str) -> list[set[str]]:
    return [set(g) for g in VOCAB["same"] if word in g]


def test_synonym_and_broader_words_come_from_the_shipped_vocabulary(entries: list[dict[str, Any]],
                                                                   staff: list[Any]) -> None:
    by_name = {e["name"]: e for e in entries}
    for q in staff:
        topic = by_name[q.expected]["_meta"]["topic"]
        if q.kind == "synonym":
            # The word is in a same-group one of whose Chinese members is (part of) the topic word, or contains it.
            groups = _groups_with(q.term)
            assert groups, q
            assert any(m in topic or topic in m for m in groups[0] if re.search(r"[\u4e00-\u9fff]", m)), q
        elif q.kind == "broader":
            related = {k for k, wider in VOCAB["broader"].items() if q.term in wider}
            related |= {m for k in related for g in _groups_with(k) for m in g}
            assert any(k in topic or topic in k for k in related), q


def test_department_short_forms_are_in_the_department_group(entries: list[dict[str, Any]], staff: list[Any]) -> None:
    dept_names = {e["department_code"]: e["department_name"].removeprefix("大竹县") for e in entries}
    for code, shorts in DEPT_SHORT.items():
        for short in shorts:
            assert any(dept_names[code] in g for g in _groups_with(short)), (code, short)
    assert {q.term for q in staff if q.kind == "dept_short"} <= {s for v in DEPT_SHORT.values() for s in v}
    by_name = {e["name"]: e for e in entries}
    sizes = {code: len(topics) for code, _, _, _, topics in DEPARTMENTS}
    for q in staff:
        if q.kind == "dept_short" and not any(cue in q.q for cue in TOPIC_CUE.values()):
            assert sizes[by_name[q.expected]["department_code"]] <= 3, q  # named alone: at most 3 datasets fit


def test_a_department_cue_needs_the_department_to_pick_the_topic() -> None:
    for code, _, _, _, topics in DEPARTMENTS:
        for topic, _ in topics:
            if topic in TOPIC_CUE:
                cue = TOPIC_CUE[topic]
                assert [t for t, _ in topics if cue in t] == [topic], (code, topic, cue)
                assert [t for d in DEPARTMENTS if d[0] != code for t, _ in d[4] if cue in t], (topic, cue)


def test_column_words_belong_to_their_topic_only(entries: list[dict[str, Any]], staff: list[Any]) -> None:
    for topic, word in COLUMN_WORD.items():
        owners = [t for t, cols in TOPIC_COLUMNS.items() if word in [c[2] for c in cols]]
        assert owners == [topic], (word, owners)
    by_name = {e["name"]: e for e in entries}
    for q in staff:
        if q.kind == "column_pinyin":
            assert q.term in [c["description"] for c in by_name[q.expected]["columns"]]
            assert _py(q.term) in q.q


def test_english_paraphrases_share_no_word_with_the_generators_topic_words(entries: list[dict[str, Any]]) -> None:
    topic_en = {e["_meta"]["topic"]: e["_meta"]["topic_en"] for e in entries}
    for topic, phrase in ENGLISH.items():
        ours = {stem(w) for w in phrase.lower().split()}
        theirs = {stem(w) for w in topic_en[topic].lower().split()}
        assert not ours & theirs, (topic, phrase, topic_en[topic])
