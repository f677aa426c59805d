"""Interface labels in Chinese and English; pages default to Chinese and switch with ?lang=en."""

from __future__ import annotations

from collections.abc import Callable

LABELS: dict[str, tuple[str, str]] = {
    "app": ("大竹县政务数据目录", "Dazhu County Data Catalog"),
    "tagline": ("查找数据集、阅读字段与质量、申请使用", "Find datasets, read schemas and quality, request access"),
    "search": ("搜索", "Search"),
    "search_placeholder": ("输入中文、拼音、英文或表名，如 户籍 / huji / residents",
                           "Chinese, pinyin, English or table name, e.g. 户籍 / huji / residents"),
    "all_datasets": ("全部数据集", "All datasets"),
    "results": ("条结果", "results"),
    "no_results": ("没有找到匹配的数据集", "No dataset matches"),
    "clear": ("清除筛选", "Clear filters"),
    "department": ("责任部门", "Department"),
    "sharing_type": ("共享类型", "Sharing type"),
    "kind": ("数据类型", "Kind"),
    "classification": ("分级", "Classification"),
    "freshness": ("最近成功加载", "Last successful load"),
    "latest_load": ("最近一次加载", "Latest load"),
    "rows": ("行数", "Rows"),
    "update_cycle": ("更新周期", "Update cycle"),
    "contract": ("数据契约", "Contract"),
    "published_version": ("发布版本", "Published version"),
    "not_published": ("尚未发布", "Not published"),
    "never": ("暂无", "never"),
    "overview": ("概况", "Overview"),
    "quality": ("质量门禁", "Quality gate"),
    "gate_history": ("门禁历史", "Gate history"),
    "no_gate_runs": ("尚未执行门禁检查", "No gate run yet"),
    "failing_rules": ("未通过的规则", "Failing rules"),
    "reason": ("原因", "Reason"),
    "rule": ("规则", "Rule"),
    "column": ("字段", "Column"),
    "expectation": ("期望", "Expectation"),
    "observed": ("实际", "Observed"),
    "threshold": ("阈值", "Threshold"),
    "severity": ("级别", "Severity"),
    "schema": ("字段结构", "Schema"),
    "type": ("类型", "Type"),
    "description": ("说明", "Description"),
    "samples": ("样例数据（已脱敏）", "Sample rows (masked)"),
    "no_samples": ("无样例数据", "No sample rows"),
    "lineage": ("数据血缘", "Lineage"),
    "upstream": ("上游（来源）", "Upstream (built from)"),
    "downstream": ("下游（被使用）", "Downstream (used by)"),
    "none": ("无", "none"),
    "how_to_query": ("如何查询", "How to query"),
    "copy": ("复制", "Copy"),
    "copied": ("已复制", "Copied"),
    "datasets": ("数据集", "Datasets"),
    "departments": ("部门", "Departments"),
    "not_found": ("未找到该数据集", "Dataset not found"),
    "back": ("返回目录", "Back to catalog"),
    "passed_rules": ("通过规则", "rules passed"),
    "keywords": ("关键词", "Keywords"),
}

VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "kind": {"raw_stream": ("原始数据", "raw stream"), "model": ("加工模型", "model"),
             "published": ("共享数据", "published")},
    "sharing_type": {"unconditional": ("无条件共享", "unconditional"), "conditional": ("有条件共享", "conditional"),
                     "not_shared": ("不予共享", "not shared")},
    "classification": {"public": ("公开", "public"), "internal": ("内部", "internal"),
                       "sensitive": ("敏感", "sensitive"), "secret": ("涉密", "secret")},
    "gate_status": {"passed": ("门禁通过", "passed"), "failed": ("门禁未通过", "failed"),
                    "not_gated": ("未检查", "not yet gated")},
}


def normalize_lang(lang: str | None) -> str:
    return "en" if (lang or "").lower().startswith("en") else "zh"


def translator(lang: str) -> tuple[Callable[[str], str], Callable[[str, str | None], str]]:
    """Two helpers for templates: t(label key) and v(facet, value) in the chosen language."""
    i = 1 if lang == "en" else 0

    def t(key: str) -> str:
        return LABELS[key][i] if key in LABELS else key

    def v(group: str, value: str | None) -> str:
        pair = VALUES.get(group, {}).get(value or "")
        return pair[i] if pair else (value or "")

    return t, v
