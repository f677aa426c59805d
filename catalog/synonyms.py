"""The search vocabulary: words county staff use for the same thing (营业执照 ↔ 市场主体登记), applied at query time."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from countyhub.catalog.text import HAN, stem

SHIPPED = Path(__file__).with_name("synonyms.yml")
SAME_WEIGHT = 0.9  # a synonym finds what the typed word finds, a little below the word itself
BROADER_WEIGHT = 0.5  # 低保 also finds 社会救助 datasets, ranked below ones that say 低保 or 最低生活保障
MIN_PINYIN = 4  # "huji", "dibao": shorter pinyin keys (ga, mz) would hijack ordinary words
PINYIN_CACHE = "vocabulary-pinyin.json"
MAX_WORDS = 4  # longest Latin phrase matched ("minimum living allowance recipients")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")


class VocabularyError(ValueError):
    """A vocabulary file that cannot be used; the message names the file, line and entry."""


@dataclass
class Synonyms:
    """Phrase -> the phrases that may stand in for it, with weights; Chinese members also answer to their pinyin."""

    alternatives: dict[str, dict[str, float]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    longest: int = 0  # characters of the longest Chinese phrase, to bound the scan

    @classmethod
    def load(cls, county_file: Path | None = None, cache_dir: Path | None = None) -> Synonyms:
        """The shipped vocabulary plus the county's own file (same format) when it is given and exists.
        `cache_dir` keeps the pinyin of its phrases, so a process that only searches never loads pypinyin."""
        files = [SHIPPED] + ([county_file] if county_file is not None and Path(county_file).exists() else [])
        return _load(tuple(str(f) for f in files), tuple(_mtime(f) for f in files),
                     str(cache_dir) if cache_dir is not None else None)

    def _add(self, phrase: str, other: str, weight: float) -> None:
        key = _key(phrase)
        # One Chinese character (镇, 村, 县) is inside too many words and names (天城镇) to stand for anything.
        if key != _key(other) and not _one_character(phrase) and not _one_character(other):
            current = self.alternatives.setdefault(key, {})
            current[other] = max(current.get(other, 0.0), weight)

    def lookup(self, phrase: str) -> dict[str, float]:
        """The phrases standing in for `phrase` (not itself), with weights; {} when it is not in the vocabulary.
        English matches in any number: 'business licences' is 'business licence'."""
        return self.alternatives.get(_key(phrase), {})

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Non-overlapping vocabulary phrases in a lowercased query, leftmost-longest: Chinese anywhere in a run of
        characters (天城营业执照 -> 营业执照), Latin phrases on word boundaries (business licence, dibao)."""
        found: list[tuple[int, int]] = []
        for run in _HAN_RUN.finditer(text):
            i = run.start()
            while i < run.end():
                for j in range(min(run.end(), i + self.longest), i + 1, -1):
                    if text[i:j] in self.alternatives:
                        found.append((i, j))
                        i = j
                        break
                else:
                    i += 1
        words = list(_LATIN_WORD.finditer(text))
        k = 0
        while k < len(words):
            for n in range(min(MAX_WORDS, len(words) - k), 0, -1):
                start, end = words[k].start(), words[k + n - 1].end()
                if " ".join(stem(w.group()) for w in words[k: k + n]) in self.alternatives:
                    found.append((start, end))
                    k += n
                    break
            else:
                k += 1
        return sorted(found)

    def _done(self) -> Synonyms:
        self.longest = max((len(p) for p in self.alternatives if HAN.match(p)), default=0)
        return self


def _one_character(phrase: str) -> bool:
    return len(phrase) == 1 and HAN.match(phrase) is not None


def _key(phrase: str) -> str:
    """Chinese as written; English words lowercased and stemmed as the index stems them."""
    phrase = phrase.lower()
    return phrase if HAN.search(phrase) else " ".join(stem(w) for w in phrase.split())


def _mtime(path: Path) -> float:
    return Path(path).stat().st_mtime if Path(path).exists() else 0.0


@lru_cache(maxsize=8)
def _load(files: tuple[str, ...], _mtimes: tuple[float, ...], cache_dir: str | None) -> Synonyms:
    """Cached per file set and modification times: an edited county file is read again, nothing is re-indexed."""
    out = Synonyms(sources=files)
    groups: list[list[str]] = []
    broader: list[tuple[str, list[str]]] = []
    for name in files:
        same, wider = _read(Path(name))
        groups += same
        broader += wider
    for group in groups:
        for word in group:
            for other in group:
                out._add(word, other, SAME_WEIGHT)
    for word, wider_words in broader:
        for narrow in [word, *out.lookup(word)]:
            for wide in wider_words:
                out._add(narrow, wide, BROADER_WEIGHT)
                for same_as_wide in list(out.lookup(wide)):
                    if out.lookup(wide)[same_as_wide] == SAME_WEIGHT:
                        out._add(narrow, same_as_wide, BROADER_WEIGHT)
    # Pinyin keys: "yingyezhizhao" stands for 营业执照 and everything 营业执照 stands for.
    phrases = [p for p in out.alternatives if HAN.search(p)]
    spelled = _pinyin_of(phrases, Path(cache_dir) / PINYIN_CACHE if cache_dir else None)
    for phrase in phrases:
        key = spelled[phrase]
        if len(key) >= MIN_PINYIN and key.isascii() and key.isalpha() and key not in out.alternatives:
            out._add(key, phrase, 1.0)
            for other, weight in out.alternatives[phrase].items():
                out._add(key, other, weight)
    return out._done()


def _pinyin_of(phrases: list[str], cache: Path | None) -> dict[str, str]:
    """Full pinyin of each phrase, from the cache file where it has them; pypinyin (56 MB of dictionaries) is
    loaded only for phrases it lacks, and the cache is rewritten with them."""
    known: dict[str, str] = {}
    if cache is not None:
        try:
            known = json.loads(cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
    missing = [p for p in phrases if p not in known]
    if missing:
        from pypinyin import lazy_pinyin

        known |= {p: "".join(lazy_pinyin(p)).lower() for p in missing}
        if cache is not None:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(known, ensure_ascii=False), encoding="utf-8")
                os.replace(tmp, cache)
            except OSError:
                pass  # a cache that cannot be written costs the next process a second, never an answer
    return known


def _read(path: Path) -> tuple[list[list[str]], list[tuple[str, list[str]]]]:
    """Parse one vocabulary file; every problem is a VocabularyError naming the file, line and entry."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise VocabularyError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    except UnicodeDecodeError:
        raise VocabularyError(f"{path}: not UTF-8 text") from None
    if node is None:
        return [], []
    if not isinstance(node, yaml.MappingNode):
        raise VocabularyError(f"{path}:{node.start_mark.line + 1}: expected the keys 'same' and 'broader'")
    same: list[list[str]] = []
    broader: list[tuple[str, list[str]]] = []
    for key, value in node.value:
        where = f"{path}:{key.start_mark.line + 1}"
        if key.value == "same":
            if not isinstance(value, yaml.SequenceNode):
                raise VocabularyError(f"{where}: 'same' must be a list of groups, e.g. - [低保, 最低生活保障]")
            same += [_words(item, path, "a 'same' group") for item in value.value]
        elif key.value == "broader":
            if not isinstance(value, yaml.MappingNode):
                raise VocabularyError(f"{where}: 'broader' must map a word to wider words, e.g. 低保: [社会救助]")
            for word, wider in value.value:
                broader.append((_word(word, path), _words(wider, path, f"broader words of {word.value!r}")))
        else:
            raise VocabularyError(f"{where}: unknown key {key.value!r}; expected 'same' or 'broader'")
    return same, broader


def _words(node: yaml.Node, path: Path, what: str) -> list[str]:
    if not isinstance(node, yaml.SequenceNode) or len(node.value) < 1:
        raise VocabularyError(f"{path}:{node.start_mark.line + 1}: {what} must be a list of words")
    return [_word(item, path) for item in node.value]


def _word(node: yaml.Node, path: Path) -> str:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise VocabularyError(f"{path}:{node.start_mark.line + 1}: expected a word, got {_shown(node)}")
    return " ".join(str(node.value).lower().split())


def _shown(node: yaml.Node) -> str:
    return "an empty value" if isinstance(node, yaml.ScalarNode) else f"a {type(node).__name__[:-4].lower()}"
