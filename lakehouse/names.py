"""The lake's catalog alias and its zone schemas: names every lakehouse module shares (imports nothing)."""

ZONES = ("staging", "intermediate", "audit", "shared", "quarantine", "meta")
LAKE = "lake"
