"""Great Expectations custom expectations for county domain rules, each one SQL query run inside DuckDB.

Importing this module registers them with GE under their snake_case names (e.g.
`expect_column_values_to_be_valid_cn_resident_id`), so an ODCS contract names them as a
`type: custom, engine: great-expectations` rule and any GE suite can use them. They extend
`UnexpectedRowsExpectation`: the check is the predicate in `countyhub.contracts.rules.predicates`, so the
gate, the quarantine split and the failing samples all use the same definition.
"""

from __future__ import annotations

from typing import Any, ClassVar

import great_expectations.expectations as gxe
from great_expectations.compatibility import pydantic

from countyhub.contracts.rules.predicates import duplicates_sql, violation_sql


def rows_query(predicate: str) -> str:
    """An unexpected-rows query for GE; GE fills {batch} with str.format, so the SQL's own braces are doubled.

    GE substitutes {batch} with `(subquery) AS subselect`, so the alias the predicate uses goes one level up.
    """
    return "SELECT * FROM (SELECT * FROM {batch}) AS _b WHERE " + predicate.replace("{", "{{").replace("}", "}}")


class ExpectQueryToReturnNoRows(gxe.UnexpectedRowsExpectation):
    """UnexpectedRowsExpectation that only counts: GE's own also fetches every offending row into Python
    (its `.table` metric, used only for result_format COMPLETE), which took seconds when many rows fail.
    Failing samples are fetched separately, a few rows and masked (contracts.samples)."""

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.row_count",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None,
                  execution_engine: Any = None) -> dict[str, Any]:
        count = metrics["unexpected_rows_query.row_count"]
        return {"success": count == 0, "result": {"observed_value": count}}


class _ColumnRuleExpectation(ExpectQueryToReturnNoRows):
    """Base: the query is derived from `column`, never written by hand."""

    kind: ClassVar[str] = ""
    column: str
    unexpected_rows_query: str = ""

    @pydantic.root_validator(pre=True)
    def _derive_query(cls, values: dict[str, Any]) -> dict[str, Any]:
        if cls.kind and values.get("column"):
            values["unexpected_rows_query"] = cls._query(values)
        return values

    @classmethod
    def _query(cls, values: dict[str, Any]) -> str:
        return rows_query(violation_sql(cls.kind, values["column"], cls._params(values)))

    @classmethod
    def _params(cls, values: dict[str, Any]) -> dict[str, Any]:
        return {}


class ExpectColumnValuesToBeValidCnResidentId(_ColumnRuleExpectation):
    """Resident identity number valid per GB 11643 (format, birth date, birth place, check digit), as stdnum.cn.ric."""

    kind: ClassVar[str] = "resident_id"
    description: str | None = "公民身份号码有效 (GB 11643)"


class ExpectColumnValuesToBeValidCnCreditCode(_ColumnRuleExpectation):
    """Unified social credit code valid per GB 32100 (alphabet and check character), as stdnum.cn.uscc."""

    kind: ClassVar[str] = "credit_code"
    description: str | None = "统一社会信用代码有效 (GB 32100)"


class ExpectColumnValuesToBeValidCnDivisionCode(_ColumnRuleExpectation):
    """Administrative division code exists (GB/T 2260 county level from cpca, townships from the county seed)."""

    kind: ClassVar[str] = "division_code"
    description: str | None = "行政区划代码存在 (GB/T 2260)"


class ExpectColumnValuesToBeValidCnMobile(_ColumnRuleExpectation):
    """Mainland mobile number format: 11 digits starting 13-19."""

    kind: ClassVar[str] = "mobile"
    description: str | None = "手机号码格式正确"


class ExpectColumnValuesToNotBeInTheFuture(_ColumnRuleExpectation):
    """A date or timestamp not after the moment the gate runs."""

    kind: ClassVar[str] = "not_future"
    description: str | None = "日期不晚于今天"


class ExpectColumnValuesToExistInDataset(_ColumnRuleExpectation):
    """Referential integrity: every value exists in a column of another (published) dataset."""

    kind: ClassVar[str] = "foreign_key"
    dataset: str
    reference_column: str
    schema_name: str = "shared"
    description: str | None = "引用完整性"

    @classmethod
    def _params(cls, values: dict[str, Any]) -> dict[str, Any]:
        return {"dataset": values["dataset"], "column": values["reference_column"],
                "schema": values.get("schema_name", "shared")}


class ExpectColumnValuesToBeUniqueInDatabase(_ColumnRuleExpectation):
    """No value repeats; counts every row whose value repeats, as GE's expect_column_values_to_be_unique does.

    GE's own computes count(*) OVER (PARTITION BY column) in two queries; a window over 10M distinct
    keys held ~1 GB and failed under a memory cap. Here the duplicates come from one GROUP BY, which
    DuckDB spills to its temp_directory, and the rows holding them from a semi-join on that (small) result.
    """

    kind: ClassVar[str] = "unique"
    description: str | None = "值唯一"

    @classmethod
    def _query(cls, values: dict[str, Any]) -> str:
        return "SELECT * FROM (SELECT * FROM {batch}) AS _b WHERE " + duplicates_sql(values["column"], "{batch}")


EXPECTATIONS: dict[str, type[_ColumnRuleExpectation]] = {c.kind: c for c in _ColumnRuleExpectation.__subclasses__()}
