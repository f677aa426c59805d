"""Resolve a secret reference: an environment variable name, or `airflow:<conn_id>` for an Airflow connection."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

AIRFLOW_PREFIX = "airflow:"


def _airflow_password(conn_id: str, environ: Mapping[str, str]) -> str | None:
    # Airflow reads AIRFLOW_CONN_<ID> (URI or JSON) itself; reading it here avoids importing Airflow.
    raw = environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if raw is not None:
        if raw.lstrip().startswith("{"):
            return json.loads(raw).get("password")
        password = urlsplit(raw).password
        return unquote(password) if password is not None else None
    try:  # a connection stored in Airflow's metadata DB or a secrets backend
        from airflow.sdk import Connection
    except ImportError:
        return None
    try:
        return Connection.get(conn_id).password
    except Exception:  # noqa: BLE001 - not found, or no Airflow context here: treated as "not set"
        return None


def resolve_secret(ref: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The secret's value, or None when it is not set; the reference itself is safe to print.

    `environ` is the environment the edge runs in (the runtime's); without one, this process's own.
    This is the one module that reads secrets from the environment: configuration never comes from here.
    """
    environ = os.environ if environ is None else environ
    if ref.startswith(AIRFLOW_PREFIX):
        return _airflow_password(ref.removeprefix(AIRFLOW_PREFIX), environ)
    return environ.get(ref)
