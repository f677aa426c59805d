"""Freshness against the contracts' SLAs: how old are the department loads each shared dataset is built from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from countyhub.contracts.odcs import load_contracts
from countyhub.core.departments import load_departments
from countyhub.flow.build import manifest_file
from countyhub.flow.changes import downstream_models
from countyhub.flow.runtime import Runtime

_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hr": 3600, "hour": 3600,
          "d": 86400, "day": 86400, "w": 604800, "week": 604800}
_LATENCY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*$", re.IGNORECASE)


def sla(text: str) -> timedelta:
    """An ODCS latency ("1d", "24h", "2 days") as a duration; anything else raises ValueError naming it."""
    match = _LATENCY.match(text or "")
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise ValueError(f"latency {text!r}: expected a number and a unit ({', '.join(sorted(set(_UNITS)))})")
    return timedelta(seconds=float(match.group(1)) * _UNITS[unit])


@dataclass(frozen=True)
class Freshness:
    """One shared dataset against its SLA: `as_of` is the oldest latest load among the streams it is built from."""

    dataset: str
    sla: timedelta
    as_of: datetime | None
    stale: bool
    reason: str


def check_freshness(runtime: Runtime, now: datetime) -> list[Freshness]:
    """Every contract with a latency SLA: stale when a department stream it is built from has not loaded
    successfully within the SLA (or never), or when the county was never built."""
    settings = runtime.settings
    contracts = [c for c in load_contracts(settings.contracts_dir) if c.freshness]
    manifest = manifest_file(settings)
    departments = [d for d in load_departments(settings.departments_dir) if d.sources]
    streams = {d.code: [f"{d.raw_schema}.{s.name}" for src in d.sources for s in src.streams] for d in departments}
    built_from = {code: downstream_models(manifest, {code}) for code in streams} if manifest.is_file() else {}
    loaded = runtime.catalog.freshness(*(name for names in streams.values() for name in names))
    out = []
    for contract in contracts:
        limit, name = sla(contract.freshness or ""), f"shared.{contract.dataset}"
        if not built_from:
            out.append(Freshness(name, limit, None, True, "never built"))
            continue
        upstream = [stream for code, models in built_from.items() if contract.dataset in models
                    for stream in streams[code]]
        never = [stream for stream in upstream if stream not in loaded]
        as_of = min((loaded[s] for s in upstream if s in loaded), default=None)
        if never:
            out.append(Freshness(name, limit, as_of, True, f"never loaded: {', '.join(never)}"))
        elif as_of is not None and now - as_of > limit:
            oldest = min(upstream, key=lambda s: loaded[s])
            hours = (now - as_of).total_seconds() / 3600
            out.append(Freshness(name, limit, as_of, True,
                                 f"{oldest} last loaded {hours:.1f} h ago, over its {contract.freshness} SLA"))
        else:
            out.append(Freshness(name, limit, as_of, False, "within its SLA"))
    return out
