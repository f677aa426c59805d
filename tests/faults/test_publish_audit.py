"""A publish whose process dies after the lake's commit but before its audit entry is written: the version is
served, so the next gate appends the missing entry (marked recovered) and every version has exactly one."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

from tests.faults.harness import County, fault_trial
from tests.faults.kills import kill_at


def test_a_publish_killed_before_its_audit_entry_gets_one_at_the_next_gate(county: County) -> None:
    verdict = fault_trial(county, kill_at("publish.after_commit"), stage="build")
    assert verdict.ok, verdict.notes
    with closing(sqlite3.connect(county.home / "catalog.sqlite")) as con:
        details = [json.loads(b)["detail"] for (b,) in con.execute(
            "SELECT entry_json FROM sharing_audit_log WHERE action = 'publish' AND dataset = 'shared.people_roll'")]
    assert [d["version"] for d in details] == [1, 2]
    assert details[1].get("recovered") is True  # the killed build published v2; the next one recorded it
