"""One handle on sharing for a process: the user store, grants, the audit log and the query gateway."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property

from sqlalchemy.engine import Engine

from countyhub.lakehouse import Lake
from countyhub.sharing.audit import AuditLog
from countyhub.sharing.gateway import Gateway
from countyhub.sharing.grants import Clock, GrantStore
from countyhub.sharing.limits import Limits
from countyhub.sharing.principals import UserStore
from countyhub.sharing.service_spec import Service
from countyhub.sharing.services import Services


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Sharing:
    """Built once per process by the runtime; every store shares the catalog database's engine."""

    def __init__(self, engine: Engine, lake: Lake, clock: Clock = utc_now, pseudonym_key: bytes | None = None,
                 query_seconds: float = 10.0, serving_bytes: int = 256 << 20, declared: list[Service] | None = None,
                 limits: Limits | None = None) -> None:
        """`declared`: the data services of the contracts folder (service_spec.load_services); `limits`: their
        default rate and daily quota."""
        self.engine, self.lake, self.clock, self.pseudonym_key = engine, lake, clock, pseudonym_key
        self.query_seconds, self.serving_bytes = query_seconds, serving_bytes
        self.declared, self.limits = list(declared or []), limits or Limits()

    @cached_property
    def users(self) -> UserStore:
        return UserStore(self.engine)

    @cached_property
    def grants(self) -> GrantStore:
        return GrantStore(self.engine, self.clock)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.engine, self.clock)

    @cached_property
    def gateway(self) -> Gateway:
        return Gateway(self.lake, self.pseudonym_key, timeout_seconds=self.query_seconds,
                       serving_bytes=self.serving_bytes)

    @cached_property
    def services(self) -> Services:
        return Services(self.declared, self, self.gateway, self.limits, self.pseudonym_key)
