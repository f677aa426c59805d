"""Departments' systems going away mid-read — a PostgreSQL backend terminated, a MariaDB connection KILLed, an API
answering 500s — fail those departments' loads alone, each in one line naming it; the other department loads and
publishes, and the next run catches up without doubles. (The soak, `python -m bench faults`, cuts each alone, at
several rows and pages, and has the API recover within the connector's retries too.)"""

from __future__ import annotations

from tests.faults.harness import fault_trial
from tests.faults.servers import ServerCounty, only_departments_failed, sources_fail


def test_three_sources_cut_mid_read_fail_only_their_departments(servers_county: ServerCounty) -> None:
    county = servers_county
    inject = sources_fail([(county.postgres, 40), (county.mariadb, 40)], outage=(county.api, 2, -1))
    verdict = fault_trial(county, inject, expect="error", stage="run", between=county.api.recover,
                          check=only_departments_failed(("ppp", "mmm", "hhh"), county.layout))
    assert verdict.ok, verdict.notes
    assert county.api.served_500 == 3  # the first try and the department file's two retries
