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
    "tag": ("关键词", "Keywords"),
    "resource_code": ("资源代码", "Resource code"),
    "resource_class": ("资源分类", "Resource class"),
    "theme": ("主题", "Theme"),
    "gate_status": ("质量状态", "Quality status"),
    "sort": ("排序", "Sort"),
    "relevance": ("相关度", "Relevance"),
    "by_freshness": ("最近更新", "Freshness"),
    "updated": ("更新于", "Updated"),
    "sharing_modes": ("共享方式", "Sharing mode"),
    "open_attribute": ("开放属性", "Open attribute"),
    "sharing_conditions": ("共享条件", "Sharing conditions"),
    "legal_basis": ("不予共享依据/法律依据", "Legal basis"),
    "issued": ("发布日期", "Issued"),
    "modified": ("更新日期", "Modified"),
    "related": ("关联资源", "Related resources"),
    "steward": ("数据管理员", "Steward"),
    "contact": ("联系方式", "Contact"),
    "contract_version": ("契约版本", "Contract version"),
    "usage": ("使用情况（近7天）", "Usage (last 7 days)"),
    "usage_note": ("页面浏览、API 读取、复制查询代码与客户端上报的查询次数；不含直接访问数据湖的查询。",
                   ("Page views, API reads, copied query snippets and queries clients report; queries run straight "
                   "against the lake are not counted.")),
    "queries_per_week": ("查询/周", "queries/week"),
    "page_views": ("页面浏览", "page views"),
    "api_views": ("API 读取", "API reads"),
    "origin": ("来源系统", "Source system"),
    "column_lineage": ("字段级血缘", "Column lineage"),
    "from_columns": ("来源字段", "Computed from"),
    "no_column_lineage": ("暂无字段级血缘", "No column lineage recorded"),
    "impact": ("变更影响分析", "What breaks if this column changes"),
    "impact_help": ("选择一个字段，查看哪些下游字段和数据集依赖它。", "Pick a column to see the downstream columns and datasets built from it."),
    "affected_columns": ("受影响的下游字段", "Affected downstream columns"),
    "table_level_only": ("可能受影响（仅有表级血缘）", "Possibly affected (table-level lineage only)"),
    "nothing_affected": ("没有下游依赖", "Nothing downstream depends on it"),
    "quality_overview": ("质量总览", "Quality overview"),
    "last_run": ("最近检查", "Last run"),
    "pass_rate": ("通过率", "Pass rate"),
    "runs": ("次检查", "runs"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "metadata": ("目录信息", "Catalog metadata"),
    "pass_rate_history": ("通过率历史（每次检查通过规则的比例）", "Pass-rate history (share of rules passed per run)"),
    "runs_passed": ("次通过", "runs passed"),
    "data_docs": ("GE 数据文档", "Data Docs"),
    "open_data_docs": ("查看本次检查的 Great Expectations 数据文档", "Open this run's Great Expectations Data Docs"),
    "quarantined_rows": ("行已隔离，未发布", "rows held back in quarantine"),
    "warn_note": ("已发布，但有告警级规则未通过", "Published, but a warning rule failed"),
    "warnings": ("条告警", "warnings"),
    "failing_samples": ("未通过样例（已脱敏）", "Failing samples (masked)"),
    "message": ("说明", "Message"),
    "quarantined": ("隔离行数", "Quarantined rows"),
    "quality_by_dataset": ("各数据集质量", "Quality by dataset"),
    "schema_changes": ("字段结构变更", "Schema changes"),
    "schema_changes_note": ("来源系统的字段变化，由每次加载记录（新增字段自动加入，删除或改类型需部门文件允许）。",
                            ("Changes in the source's columns, as loads recorded them (added columns join "
                             "automatically; a drop or retype needs the department file's allow_schema_evolution).")),
    "changed_at": ("时间", "When"),
    "load_id": ("加载批次", "Load"),
    "change": ("变更", "Change"),
    "type_change": ("类型（原 → 新）", "Type (old → new)"),
    "new_since": ("新增于", "new since"),
    "dropped_since": ("来源已不再提供，自", "no longer sent since"),
}

VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "kind": {"raw_stream": ("原始数据", "raw stream"), "model": ("加工模型", "model"),
             "published": ("共享数据", "published")},
    "sharing_type": {"unconditional": ("无条件共享", "unconditional"), "conditional": ("有条件共享", "conditional"),
                     "not_shared": ("不予共享", "not shared")},
    "classification": {"public": ("公开", "public"), "internal": ("内部", "internal"),
                       "sensitive": ("敏感", "sensitive"), "secret": ("涉密", "secret")},
    "resource_class": {"basic": ("基础信息资源", "basic"), "thematic": ("主题信息资源", "thematic"),
                       "departmental": ("部门信息资源", "departmental")},
    "open_attribute": {"open": ("无条件开放", "open"), "conditional_open": ("有条件开放", "conditionally open"),
                       "not_open": ("不予开放", "not open")},
    "sharing_mode": {"query": ("查询", "query"), "api": ("接口", "API"), "download": ("下载", "download")},
    "schema_change": {"added": ("新增", "added"), "dropped": ("删除", "dropped"), "retyped": ("改类型", "retyped"),
                      "widened": ("类型放宽", "widened")},
    "gate_status": {"passed": ("门禁通过", "passed"), "failed": ("门禁未通过", "failed"),
                    "warn": ("通过（有告警）", "warn"), "quarantined": ("部分隔离", "quarantined"),
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
