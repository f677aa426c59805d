"""The contract gate runs Great Expectations inside DuckDB on the lake, catches planted bad rows, and publish obeys it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from stdnum.cn import ric

from countyhub.contracts import ge_patch
from countyhub.contracts.gate import memory_config, run_gate
from countyhub.contracts.odcs import Contract, load_contract
from countyhub.contracts.publish import PublishError, current_publication, publish
from countyhub.core.settings import PROJECT_DIR, Settings, load_settings
from countyhub.flow.runtime import Runtime
from countyhub.lakehouse.lake import Lake

# Each test runs the gate: Great Expectations over DuckDB, a second or more apiece (not in the fast tier).
pytestmark = pytest.mark.slow

RESIDENT = PROJECT_DIR / "contracts" / "dsj" / "resident_profile.odcs.yaml"


def valid_id(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


IDS = [valid_id(f"51302919900101{i:03d}") for i in range(200)]
GOOD_ROWS = f"""
SELECT list_extract({IDS!r}, i + 1) AS id_number, '张伟' || i AS name,
       CASE WHEN i % 2 = 0 THEN '女' ELSE '男' END AS gender, DATE '1990-01-01' AS birth_date,
       (30 + i % 40)::INTEGER AS age, '511724001' AS township_code, '竹阳街道' AS township_name,
       (i // 3)::BIGINT AS household_id, '139' || lpad(i::VARCHAR, 8, '0') AS phone,
       i % 5 = 0 AS receives_subsidy,
       CASE WHEN i % 5 = 0 THEN '最低生活保障' END AS subsidy_types,
       (CASE WHEN i % 5 = 0 THEN 560 ELSE 0 END)::DECIMAL(12,2) AS monthly_subsidy_amount,
       0::INTEGER AS enterprises_as_legal_rep
FROM range(200) r(i)"""


@pytest.fixture
def lake(settings: Settings) -> Lake:
    lake = Lake(settings)
    _audit(lake, GOOD_ROWS)
    return lake


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract(RESIDENT)


def _audit(lake: Lake, select: str) -> None:
    with lake.writer() as con:
        con.execute(f"CREATE OR REPLACE TABLE lake.audit.resident_profile AS {select}")


def _plant_bad_rows(lake: Lake) -> None:
    """A second person with an existing id_number, and a person without a name (required)."""
    with lake.writer() as con:
        con.execute("""INSERT INTO lake.audit.resident_profile
            SELECT * REPLACE ('李娜' AS name) FROM lake.audit.resident_profile WHERE household_id = 7 LIMIT 1""")
        con.execute(f"""INSERT INTO lake.audit.resident_profile
            SELECT * REPLACE ('{valid_id("51302919991231999")}' AS id_number, NULL AS name)
            FROM lake.audit.resident_profile LIMIT 1""")


def test_patch_is_applied_once() -> None:
    ge_patch.apply()
    ge_patch.apply()
    assert ge_patch.is_applied()
    assert SqlAlchemyExecutionEngine.execute_query.__wrapped__ is ge_patch.ORIGINAL_EXECUTE_QUERY


def test_unpatched_engine_fails_on_duckdb(lake: Lake, contract: Contract, monkeypatch: pytest.MonkeyPatch) -> None:
    """Why ge_patch exists: without it every check fails with an error. When this test fails, drop the patch."""
    monkeypatch.setattr(SqlAlchemyExecutionEngine, "execute_query", ge_patch.ORIGINAL_EXECUTE_QUERY)
    gate = run_gate(lake, contract)
    assert not gate.success
    checks = [r for r in gate.results if r.expectation != "expect_table_columns_to_match_set"]
    assert checks and all(not r.success for r in checks)  # column reflection does not go through execute_query
    assert "id_number: check could not run (unique)" in gate.reason


def test_good_table_passes_in_database(lake: Lake, contract: Contract, monkeypatch: pytest.MonkeyPatch) -> None:
    queries: list[str] = []
    patched = SqlAlchemyExecutionEngine.execute_query

    def spy(self, query):  # the checks must go through GE's SQL engine, not pandas
        queries.append(str(query))
        return patched(self, query)

    monkeypatch.setattr(SqlAlchemyExecutionEngine, "execute_query", spy)
    gate = run_gate(lake, contract)
    assert gate.success, gate.reason
    assert gate.row_count == 200 and gate.table == "lake.audit.resident_profile"
    assert gate.dataset == "resident_profile" and len(gate.run_id) == 32
    assert gate.started_at <= gate.finished_at
    assert {r.rule for r in gate.results} >= {r.name for r in contract.rules}
    assert any("COUNT" in q.upper() for q in queries)


def test_planted_bad_rows_are_caught(lake: Lake, contract: Contract) -> None:
    _plant_bad_rows(lake)
    gate = run_gate(lake, contract)
    assert not gate.success and gate.row_count == 202
    failed = {r.rule: r for r in gate.failures}
    assert set(failed) == {"id_number_unique", "name_required"}
    assert failed["id_number_unique"].observed == 2  # both rows sharing the number
    assert failed["name_required"].observed == 1
    assert "id_number: 2 rows with duplicate values (unique" in gate.reason
    assert "name: 1 null values (not_null" in gate.reason


def test_type_pattern_and_range_rules(lake: Lake, contract: Contract) -> None:
    _audit(lake, GOOD_ROWS.replace("(30 + i % 40)::INTEGER AS age", "(30 + i * 2)::BIGINT AS age")
           .replace("'511724001' AS township_code", "CASE WHEN i = 3 THEN '5117' ELSE '511724001' END AS township_code"))
    gate = run_gate(lake, contract)
    failed = {r.rule: r for r in gate.failures}
    # '5117' breaks the pattern and is no GB/T 2260 division either
    assert set(failed) == {"age_type", "age_range", "township_code_pattern", "township_code_exists"}
    assert failed["age_type"].observed == "BIGINT"
    assert failed["age_range"].observed == 149  # 30 + 2i > 130 for i = 51..199
    assert failed["township_code_pattern"].observed == 1


def test_warning_rule_does_not_fail_the_gate(lake: Lake, contract: Contract) -> None:
    _audit(lake, GOOD_ROWS.replace("'竹阳街道' AS township_name", "NULL::VARCHAR AS township_name"))
    gate = run_gate(lake, contract)
    assert gate.success
    assert "warnings: township_name: 200 null values" in gate.reason


def test_rule_added_to_the_contract_is_enforced(lake: Lake, contract: Contract, tmp_path: Path) -> None:
    data = yaml.safe_load(RESIDENT.read_text(encoding="utf-8"))
    name = next(p for p in data["schema"][0]["properties"] if p["name"] == "name")
    name["quality"] = [{"name": "name_is_two_characters", "metric": "invalidValues",
                        "arguments": {"pattern": "^.{2}$"}, "mustBe": 0, "severity": "error"}]
    data["schema"][0]["quality"].append({"name": "no_big_subsidies", "type": "sql", "mustBe": 0, "query":
                                         "SELECT count(*) FROM ${object} WHERE monthly_subsidy_amount > 500"})
    path = tmp_path / "resident_profile.odcs.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert run_gate(lake, contract).success
    gate = run_gate(lake, load_contract(path))
    assert {r.rule for r in gate.failures} == {"name_is_two_characters", "no_big_subsidies"}
    assert "name: 200 values not matching the pattern" in gate.reason


def test_gate_takes_no_writer_lock(lake: Lake, contract: Contract) -> None:
    with lake.writer():  # a writer holds the lock: the read-only gate still runs
        assert run_gate(lake, contract).success


def test_publish_only_what_passed(lake: Lake, contract: Contract) -> None:
    assert current_publication(lake, "resident_profile") is None
    first = publish(lake, contract, run_gate(lake, contract))
    assert first is not None and (first.version, first.rows) == (1, 200)
    assert current_publication(lake, "resident_profile") == first

    _plant_bad_rows(lake)
    failed = run_gate(lake, contract)
    assert publish(lake, contract, failed) is None
    with lake.reader() as con:
        assert con.execute("SELECT count(*) FROM lake.shared.resident_profile").fetchone()[0] == 200
        versions = con.execute("SELECT version, snapshot_id FROM lake.meta.publications").fetchall()
        # the publication's snapshot is where shared got its rows: time travel reads the same table
        at = con.execute(f"SELECT count(*) FROM lake.shared.resident_profile AT (VERSION => {first.snapshot_id})")
        assert at.fetchone()[0] == 200
    assert versions == [(1, first.snapshot_id)]
    assert current_publication(lake, "resident_profile").version == 1

    _audit(lake, GOOD_ROWS.replace("range(200)", "range(170)"))  # -15%: within the 20% volume rule
    second = publish(lake, contract, run_gate(lake, contract))
    assert second is not None and (second.version, second.rows) == (2, 170)
    assert second.snapshot_id > first.snapshot_id


def test_publish_refuses_a_table_changed_after_the_gate(lake: Lake, contract: Contract) -> None:
    gate = run_gate(lake, contract)
    _audit(lake, GOOD_ROWS.replace("range(200)", "range(10)"))
    with pytest.raises(PublishError, match="rebuilt after the gate"):
        publish(lake, contract, gate)
    with lake.writer() as con:
        con.execute("CREATE OR REPLACE TABLE lake.staging.resident_profile AS SELECT * FROM lake.audit.resident_profile")
    with pytest.raises(PublishError, match="not lake.audit.resident_profile"):
        publish(lake, contract, run_gate(lake, contract, "staging.resident_profile"))


def test_gate_reads_under_a_memory_cap_with_a_spill_folder(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COUNTYHUB_GATE_MEMORY_LIMIT", raising=False)
    config = memory_config(lake)
    assert config["memory_limit"] == "1GB" and Path(config["temp_directory"]).is_dir()
    monkeypatch.setenv("COUNTYHUB_GATE_MEMORY_LIMIT", "3GB")  # as an operator sets it, read by the settings
    assert memory_config(Lake(load_settings()))["memory_limit"] == "3GB"


def test_gate_fails_closed_with_a_clear_message_when_memory_runs_out(lake: Lake, contract: Contract,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    publish(lake, contract, run_gate(lake, contract))
    small = Lake(replace(lake.settings, gate_memory_limit="1MB"))  # too small even to read the lake's catalog
    gate = run_gate(small, contract)
    assert not gate.success and gate.status == "failed"
    assert "ran out of memory" in gate.reason
    assert "raise gate_memory_limit (COUNTYHUB_GATE_MEMORY_LIMIT) (now 1MB)" in gate.reason
    assert [r.rule for r in gate.failures] == ["_gate"]
    assert publish(lake, contract, gate) is None
    assert current_publication(lake, "resident_profile").version == 1  # the last good version stays served


def test_a_rule_reading_the_publication_log_runs_before_anything_was_published(
        lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # township_overview compares itself with resident_profile's served rows; on a lake where nothing has
    # been published yet (a first run whose other gates failed) that rule must run, not fail for a missing table.
    from countyhub.core.settings import load_settings
    from countyhub.flow.run import gate_and_publish_all

    data = yaml.safe_load(RESIDENT.read_text(encoding="utf-8"))
    data["schema"][0]["quality"].append({"name": "not_below_the_served_version", "type": "sql", "mustBe": 0,
                                         "query": "SELECT count(*) FROM ${object} WHERE 200 < 0.8 * (SELECT rows FROM "
                                                  "lake.meta.publications WHERE dataset = 'resident_profile' "
                                                  "ORDER BY version DESC LIMIT 1)"})
    folder = tmp_path / "contracts" / "dsj"
    folder.mkdir(parents=True)
    (folder / "resident_profile.odcs.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("COUNTYHUB_CONTRACTS_DIR", str(tmp_path / "contracts"))
    rt = Runtime(load_settings())
    [outcome] = gate_and_publish_all(rt)
    assert (outcome.gate_passed, outcome.published_version) == (True, 1), outcome.reason
    [entry] = rt.sharing.audit.entries(dataset="shared.resident_profile")  # every publish is on the audit log
    assert (entry.action, entry.department, entry.detail["version"]) == ("publish", "dsj", 1)
    assert rt.sharing.audit.verify() == (1, None)
