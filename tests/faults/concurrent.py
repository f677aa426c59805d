"""Two processes doing the same thing at once: two `countyhub run`, two `countyhub build`, two gate-and-publishes
of one dataset (what two Airflow tasks of the same dataset do)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from tests.faults.harness import County, Outcome, finish

# The build DAG's per-dataset task, called directly (dags/countyhub_wiring.py does the same through task_runtime).
_PUBLISH_ONE = """
import os, sys
from countyhub.core.settings import load_settings
from countyhub.flow.run import gate_and_publish_dataset
from countyhub.flow.runtime import Runtime
outcome = gate_and_publish_dataset(Runtime(load_settings(environ=os.environ), os.environ), sys.argv[1])
print(outcome.status, outcome.published_version)
"""

# fault -> (the trial's stage, the two commands started at once)
TWICE = {
    "two runs": ("run", [("run",), ("run",)]),
    "two builds": ("build", [("build",), ("build",)]),
    "two publishes of people_roll": ("build", [("people_roll",), ("people_roll",)]),
}


def build_now(county: County) -> None:
    """dbt builds the new rows into audit in this process (no gate, no publish)."""
    from countyhub.core.settings import load_settings
    from countyhub.flow.run import build_models
    from countyhub.flow.runtime import Runtime

    build_models(Runtime(load_settings(environ=county.environ), county.environ))


def twice(fault: str) -> Callable[[County], Outcome]:
    """The injection: both commands started before either ends; one Outcome (the worse exit code, both outputs)."""
    _, commands = TWICE[fault]
    # A publish trial builds first (dbt, unfaulted), so the two processes race on the gate and the publish only.
    direct = [sys.executable, "-c", _PUBLISH_ONE] if fault.startswith("two publishes") else None

    def inject(county: County) -> Outcome:
        if direct:
            build_now(county)
        children = [county.start(*args, command=direct) for args in commands]
        done = [finish(c) for c in children]
        return Outcome(max((d.code for d in done), key=abs), "\n".join(d.output for d in done))
    return inject
