"""What the build DAG's task per dbt node shows of one build: each node's status, the worst of each model's tests."""

from __future__ import annotations

from pathlib import Path

from countyhub.flow.build import BuildResult, NodeResult, node_outcomes

GRIDS, CASES = "model.countyhub.stg_cgj__grids", "model.countyhub.stg_cgj__cases"


def _node(uid: str, status: str, message: str | None = None, parents: tuple[str, ...] = ()) -> NodeResult:
    kind, _, *rest = uid.split(".")  # test.<package>.<name>.<hash>, unit_test.<package>.<model>.<name>
    return NodeResult(uid, rest[1] if kind == "unit_test" else rest[0], kind, status, message, 0.1, None, None,
                      parents)


def _outcomes(*nodes: NodeResult) -> dict[str, dict[str, str]]:
    return node_outcomes(BuildResult(False, list(nodes), 1.0, Path("target")))


def test_models_show_their_own_status_and_tests_the_worst_of_theirs() -> None:
    shown = _outcomes(
        _node(GRIDS, "success", "OK"),
        _node("test.countyhub.unique_grids.1", "pass", parents=(GRIDS,)),
        _node("test.countyhub.few_grids.2", "warn", "Got 3 results", parents=(GRIDS,)),
        _node("test.countyhub.every_grid_fails.3", "fail", "Got 58 results", parents=(GRIDS,)),
        _node(CASES, "success", "OK"),
        _node("test.countyhub.not_null_cases.4", "pass", parents=(CASES,)),
    )
    assert shown[GRIDS] == {"status": "success", "message": "OK"}
    assert shown[f"{GRIDS}:tests"]["status"] == "fail"
    assert shown[f"{GRIDS}:tests"]["message"] == ("few_grids: warn: Got 3 results; "
                                                  "every_grid_fails: fail: Got 58 results")
    assert shown[f"{CASES}:tests"] == {"status": "pass", "message": ""}


def test_a_test_on_two_models_counts_for_both() -> None:
    shown = _outcomes(_node(GRIDS, "success"), _node(CASES, "success"),
                      _node("test.countyhub.relationships_cases_grid.5", "fail", "Got 1 result", (CASES, GRIDS)))
    assert shown[f"{GRIDS}:tests"]["status"] == shown[f"{CASES}:tests"]["status"] == "fail"


def test_a_failed_unit_test_fails_the_model_dbt_then_skipped() -> None:
    shown = _outcomes(_node("unit_test.countyhub.stg_cgj__grids.keeps_latest", "fail", "actual differs", (GRIDS,)),
                      _node(GRIDS, "skipped"))
    assert shown[GRIDS]["status"] == "error"
    assert "keeps_latest: fail: actual differs" in shown[GRIDS]["message"]
    assert f"{GRIDS}:tests" not in shown


def test_nodes_the_build_did_not_run_are_absent() -> None:
    assert _outcomes(_node(GRIDS, "success")).keys() == {GRIDS}
