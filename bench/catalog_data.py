"""Synthetic county catalogs (1k–100k entries) and the fixed, labelled query sets of the catalog benchmark: one
derived from the titles (labelled_queries), one in the words county staff use instead (staff_queries)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pypinyin import Style, lazy_pinyin

from bench.catalog_words import BROADER_WORDS, COLUMN_WORD, DEPT_SHORT, ENGLISH, SYNONYM_WORDS, TOPIC_COLUMNS, TOPIC_CUE

SEED = 2016
MAX_N = 100_000
# (code, zh, en, theme, [(topic zh, topic en)])
DEPARTMENTS = [
    ("gaj", "大竹县公安局", "Public Security Bureau", "人口", [
        ("户籍人口", "registered residents"), ("流动人口", "floating population"), ("出入境记录", "exit entry records"),
        ("机动车登记", "vehicle registrations"), ("驾驶证", "driving licences"), ("户籍迁移", "household transfers")]),
    ("mzj", "大竹县民政局", "Civil Affairs Bureau", "社会保障", [
        ("低保救助", "minimum subsistence assistance"), ("特困供养", "extreme poverty support"),
        ("婚姻登记", "marriage registrations"), ("养老机构", "elderly care homes"), ("殡葬服务", "funeral services")]),
    ("rsj", "大竹县人力资源和社会保障局", "Human Resources and Social Security Bureau", "社会保障", [
        ("养老保险参保", "pension insurance enrolment"), ("就业登记", "employment registrations"),
        ("失业保险", "unemployment insurance"), ("职业培训", "vocational training")]),
    ("zjj", "大竹县住房和城乡建设局", "Housing and Urban Rural Development Bureau", "城市建设", [
        ("商品房预售", "housing presales"), ("建筑工地", "construction sites"), ("公租房", "public rental housing"),
        ("物业企业", "property management firms")]),
    ("cgj", "大竹县综合行政执法局", "Urban Management Bureau", "城市管理", [
        ("城管网格", "urban grid cells"), ("市政设施", "municipal facilities"), ("执法案件", "enforcement cases"),
        ("占道经营", "street vending")]),
    ("jyj", "大竹县教育局", "Education Bureau", "教育", [
        ("在校学生", "enrolled students"), ("学校名录", "school directory"), ("教师队伍", "teaching staff"),
        ("学生资助", "student grants")]),
    ("wjj", "大竹县卫生健康局", "Health Commission", "卫生健康", [
        ("出生医学证明", "birth certificates"), ("医疗机构", "medical institutions"), ("预防接种", "vaccinations"),
        ("家庭医生签约", "family doctor contracts")]),
    ("scjgj", "大竹县市场监督管理局", "Market Regulation Bureau", "法人", [
        ("市场主体", "market entities"), ("食品经营许可", "food business licences"), ("企业年报", "enterprise annual filings"),
        ("行政处罚", "administrative penalties")]),
    ("zrzyj", "大竹县自然资源局", "Natural Resources Bureau", "自然资源", [
        ("不动产登记", "real estate registrations"), ("土地利用", "land use"), ("地质灾害隐患", "geological hazards")]),
    ("nyncj", "大竹县农业农村局", "Agriculture and Rural Affairs Bureau", "农业农村", [
        ("耕地保护", "farmland protection"), ("农业补贴", "agricultural subsidies"), ("家庭农场", "family farms")]),
    ("sthjj", "大竹县生态环境局", "Ecology and Environment Bureau", "生态环境", [
        ("排污许可", "discharge permits"), ("空气质量", "air quality"), ("环境投诉", "environmental complaints")]),
    ("jtysj", "大竹县交通运输局", "Transport Bureau", "交通", [
        ("公交线路", "bus routes"), ("道路运输许可", "road transport permits"), ("农村公路", "rural roads")]),
    ("ybj", "大竹县医疗保障局", "Healthcare Security Bureau", "社会保障", [
        ("医保参保", "medical insurance enrolment"), ("医保结算", "medical insurance settlements")]),
    ("yjglj", "大竹县应急管理局", "Emergency Management Bureau", "安全生产", [
        ("安全生产检查", "work safety inspections"), ("应急物资", "emergency supplies")]),
    ("tjj", "大竹县统计局", "Statistics Bureau", "经济", [
        ("规上工业", "industrial enterprises above scale"), ("人口抽样调查", "population sample survey")]),
]
ASPECTS = [("明细", "details"), ("台账", "ledger"), ("统计", "statistics"), ("月报", "monthly report"),
           ("年报", "annual report"), ("名册", "roll"), ("汇总", "summary"), ("变更记录", "change log"),
           ("核查结果", "verification results"), ("档案", "archive")]
TOWNSHIPS = ["竹阳街道", "东柳街道", "白塔街道", "东湖街道", "庙坝镇", "石河镇", "清河镇", "杨家镇", "观音镇", "月华镇",
             "周家镇", "石桥铺镇", "川主乡", "高明镇", "团坝镇", "文星镇", "妈妈镇", "高穴镇", "欧家镇", "柏林镇",
             "中华镇", "朝阳乡", "四合镇", "天城镇", "神合镇", "乌木镇", "石子镇", "童家镇", "八渡乡", "张家镇"]
YEARS = list(range(2016, 2025))
CYCLES = ["@daily", "@weekly", "@monthly", "@yearly"]
LEVELS = ["public", "internal", "sensitive", "secret"]


@lru_cache(maxsize=4096)  # a few hundred distinct words, asked for twice per entry
def _py(text: str) -> str:
    return "".join(lazy_pinyin(text))


@lru_cache(maxsize=4096)
def _initials(text: str) -> str:
    return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER))


def _place(township: str) -> str:
    return township.removesuffix("街道").removesuffix("镇").removesuffix("乡")


def _slug(text: str) -> str:
    return "_".join(w for w in text.lower().replace("-", " ").split()[:3])


@dataclass
class Labelled:
    q: str
    expected: str
    kind: str
    facets: dict[str, Any] = field(default_factory=dict)
    term: str = ""  # staff queries: the staff word the query turns on (a synonym, department short form, ...)


def generate(n: int, seed: int = SEED) -> list[dict[str, Any]]:
    """n distinct entries (dicts with the DatasetEntry fields), the same for the same n and seed."""
    topics = [(d, t) for d in DEPARTMENTS for t in d[4]]
    space = len(topics) * len(ASPECTS) * len(TOWNSHIPS) * len(YEARS)
    rng = random.Random(seed)
    # A fixed 100k permutation, cut to n: every smaller catalog is a prefix of the larger ones, so the labelled
    # targets (drawn from the first 1k) exist at every size.
    picks = rng.sample(range(space), MAX_N)[:n]
    out = []
    for i in picks:
        i, y = divmod(i, len(YEARS))
        i, w = divmod(i, len(TOWNSHIPS))
        i, a = divmod(i, len(ASPECTS))
        (code, dept, dept_en, theme, _), (topic, topic_en) = topics[i]
        aspect, aspect_en = ASPECTS[a]
        town, year = TOWNSHIPS[w], YEARS[y]
        kind = rng.choices(["raw_stream", "model", "published"], [60, 25, 15])[0]
        table = f"{_slug(topic_en)}_{_slug(aspect_en)}_{_py(_place(town))}_{year}"
        name = {"raw_stream": f"raw_{code}.{table}", "model": f"staging.stg_{code}__{table}",
                "published": f"shared.{table}"}[kind]
        sensitive = theme in ("人口", "社会保障") and rng.random() < 0.7
        # The random draws stay in their original order (sharing, classification, columns, cycle, code), so every
        # field but the columns is what it was and the title-derived query set is unchanged.
        sharing = rng.choices(["unconditional", "conditional", "not_shared"], [30, 60, 10])[0]
        classification = "sensitive" if sensitive else rng.choice(["public", "internal"])
        # A dataset is as restricted as its most restricted column: a column says no more than its dataset.
        cap = LEVELS.index(classification)
        columns = [{"name": c, "type": t, "description": d, "classification": LEVELS[min(LEVELS.index(k), cap)]}
                   for c, t, d, k in TOPIC_COLUMNS[topic]]
        taken = {c["name"] for c in columns}
        generic = rng.sample(["id", "township_code", "name", "status", "amount", "category", "address", "updated_at",
                              "created_at", "owner", "count"], 6)
        columns += [{"name": c, "type": "VARCHAR", "description": "", "classification": LEVELS[min(1, cap)]}
                    for c in generic if c not in taken]
        out.append({
            "name": name, "kind": kind, "title_zh": f"{town}{year}年{topic}{aspect}",
            "title_en": f"{_py(_place(town)).title()} {year} {topic_en} {aspect_en}",
            "description": f"{dept}提供的{town}{topic}{aspect}数据（{year}年度）。{dept_en}: {topic_en}, {aspect_en}.",
            "department_code": code, "department_name": dept,
            "sharing_type": sharing, "classification": classification,
            "columns": columns,
            "upstream": [], "keywords": [topic, theme, topic_en.split()[-1]], "themes": [theme],
            "update_cycle": rng.choice(CYCLES), "resource_class": "thematic" if kind == "published" else "departmental",
            "resource_code": f"{rng.randint(1, 3)}{kind[0].upper()}-{code.upper()}-{len(out):06d}",
            "_meta": {"town": town, "year": year, "topic": topic, "topic_en": topic_en, "aspect": aspect,
                      "aspect_en": aspect_en, "code": code},
        })
    return out


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1:]


def labelled_queries(entries: list[dict[str, Any]], seed: int = SEED) -> list[Labelled]:
    """200 fixed queries, each labelled with the dataset it is meant to find; pass the 1k entries."""
    rng = random.Random(seed + 1)
    targets = rng.sample(entries, 200)
    plan = [("zh_title", 30), ("zh_words", 30), ("pinyin", 25), ("initials", 20), ("english", 30),
            ("typo", 15), ("exact_name", 20), ("short_name", 10), ("facets", 20)]
    out: list[Labelled] = []
    for kind, count in plan:
        for e in targets[len(out): len(out) + count]:
            m = e["_meta"]
            place = _place(m["town"])
            q, facets = "", {}
            if kind == "zh_title":
                q = e["title_zh"]
            elif kind == "zh_words":
                q = f"{place} {m['topic']} {m['aspect']} {m['year']}"
            elif kind == "pinyin":
                q = f"{_py(place)} {_py(m['topic'])} {_py(m['aspect'])} {m['year']}"
            elif kind == "initials":
                q = f"{_initials(place)} {_initials(m['topic'])} {_initials(m['aspect'])} {m['year']}"
            elif kind == "english":
                q = f"{_py(place)} {m['topic_en']} {m['aspect_en']} {m['year']}"
            elif kind == "typo":
                words = m["topic_en"].split()
                longest = max(range(len(words)), key=lambda i: len(words[i]))
                words[longest] = _typo(words[longest], rng)
                q = f"{_py(place)} {' '.join(words)} {m['aspect_en']} {m['year']}"
            elif kind == "exact_name":
                q = e["name"]
            elif kind == "short_name":
                q = e["name"].rsplit(".", 1)[-1]
            else:
                q = f"{place}{m['topic']}{m['aspect']} {m['year']}"
                facets = {"department": m["code"], "classification": e["classification"]}
            out.append(Labelled(q, e["name"], kind, facets))
    return out


STAFF_PLAN = [("synonym", 40), ("broader", 15), ("dept_short", 20), ("column_pinyin", 20), ("english", 25)]
# Departments of at most three topics, named without a topic word in dept_short queries.
_SMALL_DEPTS = {code for code, _, _, _, topics in DEPARTMENTS if len(topics) <= 3}
_STAFF_TABLES: dict[str, Any] = {
    "synonym": SYNONYM_WORDS, "broader": BROADER_WORDS, "column_pinyin": COLUMN_WORD, "english": ENGLISH,
    "dept_short": set(TOPIC_CUE) | {t for code, _, _, _, topics in DEPARTMENTS if code in _SMALL_DEPTS for t, _ in topics},
}


def _zh(rng: random.Random, place: str, word: str, aspect: str, year: int) -> str:
    """The orders staff type a place, their word, the kind of table and a year in (with and without spaces)."""
    return rng.choice([f"{place} {word} {aspect} {year}", f"{year} {place} {word} {aspect}",
                       f"{place}{word}{aspect} {year}", f"{word} {place} {year} {aspect}"])


def staff_queries(entries: list[dict[str, Any]], seed: int = SEED) -> list[Labelled]:
    """120 fixed queries in the words county staff search with, not the words of the target's title: a synonym of
    its topic (营业执照 for 市场主体), a broader word, the department's short form, the pinyin of one of its columns,
    an English paraphrase; pass the 1k entries. Each also names the target's place, year and kind of table, as staff
    do ("天城 营业执照 台账 2019"), so the target is the one dataset that fits at every catalog size. The staff word
    is what tells the target from the other tables of that place, year and kind: about 4 of them in 10k entries,
    27 in 100k (in 1k the place, year and kind alone mostly single the target out)."""
    rng = random.Random(seed + 2)
    used: set[str] = set()
    out: list[Labelled] = []
    for kind, count in STAFF_PLAN:
        table = _STAFF_TABLES[kind]
        pool = [e for e in entries if e["_meta"]["topic"] in table and e["name"] not in used]
        for e in rng.sample(pool, count):
            used.add(e["name"])
            m = e["_meta"]
            topic, year, aspect = m["topic"], m["year"], m["aspect"]
            place = m["town"] if rng.random() < 0.25 else _place(m["town"])
            if kind == "synonym":
                phrase = rng.choice(SYNONYM_WORDS[topic])
                term, q = phrase.split()[0], _zh(rng, place, phrase, aspect, year)
            elif kind == "broader":
                term = rng.choice(BROADER_WORDS[topic])
                q = _zh(rng, place, term, aspect, year)
            elif kind == "dept_short":
                term = rng.choice(DEPT_SHORT[m["code"]])
                q = _zh(rng, place, f"{term} {TOPIC_CUE[topic]}" if topic in TOPIC_CUE else term, aspect, year)
            elif kind == "column_pinyin":
                term = COLUMN_WORD[topic]
                q = f"{_py(_place(m['town']))} {_py(term)} {_py(aspect)} {year}"
            else:
                term = ENGLISH[topic]
                q = f"{term} {_py(_place(m['town']))} {year} {m['aspect_en']}"
            out.append(Labelled(q, e["name"], kind, term=term))
    return out
