"""Deliberate defects of the demo county: one person's name spelled differently, stale addresses, duplicates."""

from __future__ import annotations

import random

# ~1.5% of the rows another department keeps about a gaj person spell the name differently from the registry.
NAME_VARIANT_RATE = 0.015
# ~5% of rsj and zjj rows still carry an address the person had before (the bureau was never told of the move).
STALE_ADDRESS_RATE = 0.05
# ~0.5% of rsj insured rows are entered twice, under two insured_ids (a clerk re-registered the person).
DUPLICATE_RATE = 0.005
# Homophones and variant characters clerks type for one another (伟/玮, 丽/莉, 云/芸 …).
HOMOPHONES = {
    "伟": "玮", "丽": "莉", "明": "鸣", "华": "桦", "军": "君", "杰": "洁", "静": "靖", "敏": "闵", "芳": "方",
    "娟": "鹃", "霞": "峡", "英": "瑛", "勇": "永", "涛": "韬", "强": "蔷", "平": "萍", "红": "虹", "玲": "琳",
    "云": "芸", "刚": "钢", "林": "琳", "文": "雯", "辉": "晖", "燕": "艳", "建": "健", "秀": "绣", "兰": "岚",
}
_FULL_WIDTH_SPACE = "\u3000"


def variant_name(rng: random.Random, name: str) -> str:
    """The name as another clerk typed it: a homophone, a half-width space or a full-width (全角) space inserted."""
    chars = list(name)
    swappable = [i for i, c in enumerate(chars) if i > 0 and c in HOMOPHONES]
    kind = rng.random()
    if swappable and kind < 0.6:
        i = rng.choice(swappable)
        chars[i] = HOMOPHONES[chars[i]]
        return "".join(chars)
    return name[:1] + (" " if kind < 0.8 else _FULL_WIDTH_SPACE) + name[1:]


def spelled(rng: random.Random, name: str) -> str:
    """The registry's name, or at NAME_VARIANT_RATE a variant of it."""
    return variant_name(rng, name) if rng.random() < NAME_VARIANT_RATE else name


def older_address(rng: random.Random, address: str) -> str:
    """An address the person lived at before: the same township, another house number (or 组)."""
    head, _, tail = address.rpartition("号")
    digits = len(head) - len(head.rstrip("0123456789"))
    number = int(head[len(head) - digits:]) if digits else 0
    return f"{head[:len(head) - digits]}{(number + rng.randint(1, 60)) % 300 + 1}号{tail}"


def maybe_stale(rng: random.Random, address: str) -> str:
    """The gaj address, or at STALE_ADDRESS_RATE an older one."""
    return older_address(rng, address) if rng.random() < STALE_ADDRESS_RATE else address
