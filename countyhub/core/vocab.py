"""The platform's shared words, defined once: sharing types, classifications and lake zones."""

from __future__ import annotations

from typing import Literal, get_args

# The 2016 national rules' three sharing types (无条件 / 有条件 / 不予共享).
SharingType = Literal["unconditional", "conditional", "not_shared"]
# Ordered from least to most restricted: a dataset takes the most restricted of its columns.
Classification = Literal["public", "internal", "sensitive", "secret"]
# Schemas of the lake besides each department's raw_<code>. history: dbt snapshots (what held as of a date).
Zone = Literal["staging", "intermediate", "audit", "shared", "quarantine", "meta", "history"]

# Who a signed-in principal is in its department: reads, loads, decides its department's requests, runs the platform.
Role = Literal["analyst", "engineer", "steward", "admin", "app"]  # app: a department's system calling services

# The tuples are derived from the Literals so that the two can never disagree.
SHARING_TYPES: tuple[SharingType, ...] = get_args(SharingType)
CLASSIFICATIONS: tuple[Classification, ...] = get_args(Classification)
ZONES: tuple[Zone, ...] = get_args(Zone)
ROLES: tuple[Role, ...] = get_args(Role)
# Classifications whose values the catalog never shows unmasked.
MASKED: tuple[Classification, ...] = ("sensitive", "secret")

__all__ = ["CLASSIFICATIONS", "MASKED", "ROLES", "SHARING_TYPES", "ZONES", "Classification", "Role", "SharingType",
           "Zone"]
