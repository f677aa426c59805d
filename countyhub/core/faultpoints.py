"""Named fault points: places where a fault test may kill this process; inert unless an edge arms one.

A stage calls `reached("publish.before_commit")` at a moment worth crashing in. Nothing happens unless the
process's edge armed that point (`countyhub` does, from COUNTYHUB_FAULTPOINT, in `countyhub.cli.main`), so the
stages themselves never read the environment (the layer rule) and a production run pays one dict lookup.

Armed, the point kills the process with SIGKILL — no `finally`, no atexit, no flush: what a power cut, the OOM
killer or `kill -9` of a worker leaves behind. If the process leads its own process group (a test started it with
`start_new_session`), the whole group dies, children such as a running dbt included, as when a worker's container
or machine goes away. The points (tests/faults checks each one):

| point | where |
| --- | --- |
| load.before_commit / load.after_commit | lakehouse/load.py, around the load's one lake transaction |
| gate.checked | contracts/gate.py, the gate ran its checks, nothing recorded yet |
| publish.before_commit / publish.after_commit | contracts/publish.py, around the publication's one transaction |
| catalog.register | countyhub/flow/register.py, before each catalog entry is written |
| audit.append | sharing/audit.py, a batch of audit entries inserted, not yet committed |
"""

from __future__ import annotations

import os
import signal

ENV = "COUNTYHUB_FAULTPOINT"  # read by edges only: "point" or "point#n" (the n-th time it is reached), comma-separated

_armed: dict[str, int] = {}
_passes: dict[str, int] = {}


def arm(spec: str) -> None:
    """Arm the points named in `spec` ("load.before_commit", "catalog.register#3", ...); "" disarms all."""
    _armed.clear()
    _passes.clear()
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, nth = part.partition("#")
        _armed[name] = int(nth or 1)


def reached(point: str) -> None:
    """Called by a stage at a named point: kills the process there if a test armed it, else does nothing."""
    if point not in _armed:
        return
    _passes[point] = _passes.get(point, 0) + 1
    if _passes[point] >= _armed[point]:
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpid(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
