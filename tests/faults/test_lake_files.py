"""A lake file deleted or with one byte flipped is found and named by `countyhub lake verify`, even when a plain
read gives no error but a wrong answer; an intact lake verifies clean."""

from __future__ import annotations

from tests.faults.harness import County
from tests.faults.lake_files import damage_trial


def test_an_intact_lake_verifies_clean(county: County) -> None:
    county.fresh()
    out = county.countyhub("lake", "verify")
    assert out.code == 0 and "all present and unchanged" in out.output and "not recorded" not in out.output


def test_a_deleted_file_fails_every_read_naming_it_and_verify_names_it(county: County) -> None:
    verdict, seen = damage_trial(county, "shared.people_roll", None)
    assert verdict.partial == 0, verdict.notes
    assert seen == "error naming the file"


def test_a_flipped_byte_reads_as_wrong_rows_but_verify_names_the_file(county: County) -> None:
    # Why lake verify exists: DuckDB reads this damaged file (a byte of its data page, offset seen on this data)
    # without complaint and answers other rows.
    verdict, seen = damage_trial(county, "shared.people_roll", 151)
    assert seen == "wrong rows"
    assert verdict.partial == 0, verdict.notes
