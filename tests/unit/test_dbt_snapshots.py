"""dbt snapshots on the DuckLake: the subsidy roll and household membership answer "as of" questions."""

from __future__ import annotations

from datetime import datetime

import jinja2
import pytest

from countyhub.core.settings import PROJECT_DIR, Settings
from countyhub.flow.build import run_dbt
from countyhub.lakehouse.lake import Lake
from tests.fixtures.lake_fixtures import raw_tables, write_raw

SNAPSHOTS = "+snap_mzj__subsidy_roll +snap_gaj__household_members"
AS_OF = jinja2.Environment().from_string(
    (PROJECT_DIR / "dbt_project" / "macros" / "as_of.sql").read_text(encoding="utf-8")).module.as_of


def _rows(lake: Lake, sql: str) -> list[tuple]:
    with lake.reader() as con:
        return con.execute(sql).fetchall()


def _builds(lake: Lake, snapshot: str) -> list[str]:
    """When each build of this snapshot recorded a change (its own clock: each snapshot runs at its own time)."""
    return [f"timestamp '{r[0]}'" for r in _rows(
        lake, f"SELECT DISTINCT dbt_valid_from FROM lake.history.{snapshot} ORDER BY 1")]


@pytest.mark.dbt
def test_snapshots_keep_versions_and_answer_as_of(settings: Settings) -> None:
    lake = Lake(settings)
    tables = raw_tables(persons=60)
    write_raw(lake, tables)
    assert run_dbt(lake, select=SNAPSHOTS).success

    # A day later: person 5 moved to household 1, one roll line's amount changed, another dropped off the roll.
    people, roll = tables["gaj.persons"], tables["mzj.subsidy_roll"]
    mover, old_household = people[4], people[4]["household_id"]
    people[4] = {**mover, "household_id": 1 if old_household != 1 else 2}
    changed, dropped = roll[0], roll[1]
    roll[0] = {**changed, "月发放金额": "999.00"}
    del roll[1]
    write_raw(lake, {"gaj.persons": people, "mzj.subsidy_roll": roll}, load_id="fixture-load-2",
              loaded_at=datetime(2024, 6, 2))
    assert run_dbt(lake, select=SNAPSHOTS).success
    assert run_dbt(lake, select=SNAPSHOTS).success  # nothing changed: no new versions
    first, second = _builds(lake, "snap_gaj__household_members")  # the unchanged third build added none

    members = "lake.history.snap_gaj__household_members"
    assert _rows(lake, f"SELECT count(*), count(DISTINCT person_id) FROM {members}") == [(61, 60)]
    at = "SELECT household_id FROM {t} WHERE person_id = {p} AND {cond}"
    assert _rows(lake, at.format(t=members, p=mover["person_id"], cond=AS_OF(first))) == [
        (old_household,)]
    assert _rows(lake, at.format(t=members, p=mover["person_id"], cond=AS_OF(second))) == [
        (people[4]["household_id"],)]

    roll_history = "lake.history.snap_mzj__subsidy_roll"
    versions = _rows(lake, f"SELECT monthly_amount::varchar, dbt_valid_to IS NULL FROM {roll_history} "
                           f"WHERE id_number = '{changed['身份证号']}' AND subsidy_type = '{changed['救助类型']}' "
                           "ORDER BY dbt_valid_from")
    assert versions == [(changed["月发放金额"], False), ("999.00", True)]
    gone = f"SELECT count(*) FROM {roll_history} WHERE id_number = '{dropped['身份证号']}' AND {{}}"
    roll_first, roll_second = _builds(lake, "snap_mzj__subsidy_roll")
    assert _rows(lake, gone.format(AS_OF(roll_first))) == [(1,)]
    assert _rows(lake, gone.format(AS_OF(roll_second))) == [(0,)]
    assert _rows(lake, f"SELECT count(*) FROM {roll_history} WHERE dbt_valid_to IS NULL") == [(len(roll),)]
