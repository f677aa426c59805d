"""Benchmark data for the gate: an N-row shared-style table in a scratch lake, and its 15-rule ODCS contract."""

from __future__ import annotations

from pathlib import Path

import yaml

from countyhub.contracts.rules.cn_ids import USCC_WEIGHTS
from countyhub.contracts.rules.divisions import township_codes
from countyhub.core.resident_id import RIC_WEIGHTS
from countyhub.lakehouse.lake import Lake

DATASET = "bench_people"
GRIDS = 400


def _ric_check(body: str) -> str:
    total = " + ".join(f"(ascii(substr({body}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(RIC_WEIGHTS))
    return f"substr('10X98765432', (({total}) % 11)::INTEGER + 1, 1)"


def _uscc_check(body: str) -> str:
    # Bodies are digits only here, so a character's alphabet index is its value.
    total = " + ".join(f"(ascii(substr({body}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(USCC_WEIGHTS))
    return f"substr('0123456789ABCDEFGHJKLMNPQRTUWXY', ((31 - ({total}) % 31) % 31)::INTEGER + 1, 1)"


def make_table(lake: Lake, rows: int) -> None:
    """lake.audit.bench_people (valid but for a few planted bad rows), lake.shared.bench_grids, a publication."""
    with lake.writer() as con:
        con.execute(f"CREATE OR REPLACE TABLE lake.shared.bench_grids AS SELECT '511724001-' || lpad(i::VARCHAR, 3, "
                    f"'0') AS grid_code FROM range({GRIDS}) r(i)")
        con.execute(f"""CREATE OR REPLACE TABLE lake.audit.{DATASET} AS
            WITH base AS (
                SELECT i, '513029' || strftime(DATE '1950-01-01' + (i % 17800)::INTEGER, '%Y%m%d')
                          || lpad((i // 17800)::VARCHAR, 3, '0') AS rbody,
                       '91511724' || lpad(i::VARCHAR, 9, '0') AS ubody
                FROM range({rows}) r(i))
            SELECT rbody || {_ric_check('rbody')} AS id_number,
                   '张' || (i % 1000)::VARCHAR AS name,
                   ubody || {_uscc_check('ubody')} AS employer_uscc,
                   list_extract({sorted(township_codes())!r}, (i % {len(township_codes())}) + 1) AS township_code,
                   '139' || lpad((i % 100000000)::VARCHAR, 8, '0') AS phone,
                   DATE '1950-01-01' + (i % 17800)::INTEGER AS birth_date,
                   CASE WHEN i % 3 = 0 THEN 'closed' ELSE 'open' END AS status,
                   (18 + i % 60)::INTEGER AS age,
                   ((i % 900) + 0.5)::DECIMAL(12, 2) AS amount,
                   '511724001-' || lpad((i % {GRIDS})::VARCHAR, 3, '0') AS grid_code
            FROM base""")
        # The county's real townships, so only the planted rows fail. A few bad rows so failing rules also
        # fetch their samples, as in real runs.
        con.execute(f"UPDATE lake.audit.{DATASET} SET phone = '12345' WHERE age = 20 AND amount = 2.5")
        con.execute("CREATE TABLE IF NOT EXISTS lake.meta.publications (dataset VARCHAR, version INTEGER, "
                    "snapshot_id BIGINT, rows BIGINT, gate_run_id VARCHAR, contract_version VARCHAR, "
                    "published_at TIMESTAMPTZ)")
        con.execute("INSERT INTO lake.meta.publications VALUES (?, 1, 0, ?, 'bench', '1.0.0', now())",
                    [DATASET, rows])


def _custom(name: str, type_: str, severity: str = "error", **kwargs: object) -> dict:
    impl = {"type": type_, **({"kwargs": kwargs} if kwargs else {})}
    return {"name": name, "type": "custom", "engine": "great-expectations", "implementation": impl,
            "severity": severity}


def write_contract(folder: Path) -> Path:
    """The benchmark's ODCS contract: 15 rules of the kinds the issue lists (plus one type rule per column)."""
    logical = {"VARCHAR": "string", "DATE": "date", "INTEGER": "integer", "DECIMAL(12,2)": "number"}

    def prop(name: str, typ: str, **extra: object) -> dict:
        return {"name": name, "physicalType": typ, "logicalType": logical[typ], "classification": "internal",
                **extra}

    props = [
        prop("id_number", "VARCHAR", classification="sensitive", required=True, unique=True,  # 1, 2
             quality=[_custom("id_valid", "expect_column_values_to_be_valid_cn_resident_id")]),  # 3
        prop("name", "VARCHAR", classification="sensitive", required=True),  # 4
        prop("employer_uscc", "VARCHAR", quality=[_custom("uscc_valid", "expect_column_values_to_be_valid_cn_credit_code")]),  # 5
        prop("township_code", "VARCHAR", logicalTypeOptions={"pattern": "^511724[0-9]{3}$"},  # 6
             quality=[_custom("township_exists", "expect_column_values_to_be_valid_cn_division_code")]),  # 7
        prop("phone", "VARCHAR", classification="sensitive",
             quality=[_custom("phone_mobile", "expect_column_values_to_be_valid_cn_mobile", "warning")]),  # 8
        prop("birth_date", "DATE", quality=[_custom("born_not_future", "expect_column_values_to_not_be_in_the_future")]),  # 9
        prop("status", "VARCHAR", quality=[{"name": "status_values", "metric": "invalidValues",  # 10
                                            "arguments": {"validValues": ["open", "closed"]}, "mustBe": 0}]),
        prop("age", "INTEGER", logicalTypeOptions={"minimum": 0, "maximum": 130}),  # 11
        prop("amount", "DECIMAL(12,2)", logicalTypeOptions={"minimum": 0}),  # 12
        prop("grid_code", "VARCHAR", relationships=[{"type": "foreignKey", "to": "bench_grids.grid_code"}]),  # 13
    ]
    doc = {"apiVersion": "v3.1.0", "kind": "DataContract", "id": "urn:countyhub:bench", "version": "1.0.0",
           "status": "active", "name": DATASET,
           "customProperties": [{"property": "department", "value": "dsj"},
                                {"property": "steward", "value": "bench"},
                                {"property": "sharingType", "value": "conditional"}],
           "schema": [{"name": DATASET, "physicalName": DATASET, "physicalType": "table", "properties": props,
                       "quality": [{"name": "not_empty", "metric": "rowCount", "mustBeGreaterThan": 0},  # 14
                                   _custom("no_mass_loss", "expect_table_row_count_to_not_drop_more_than",
                                           max_drop_percent=20)]}]}  # 15
    path = folder / "dsj" / f"{DATASET}.odcs.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
