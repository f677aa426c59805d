"""Importing modules in a server process before it forks: every process forked after has them for free."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)


def import_all(names: Iterable[str]) -> None:
    """Import each module now; one that cannot be imported is a warning (what imports it later fails in its log)."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            log.warning("countyhub: could not preload %s: %s", name, exc)
