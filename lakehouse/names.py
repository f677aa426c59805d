"""The lake's catalog alias and its zone schemas: names every lakehouse module shares (imports only core's vocab)."""

from countyhub.core.vocab import ZONES  # defined with the other shared words; re-exported for the lakehouse

__all__ = ["LAKE", "ZONES"]
LAKE = "lake"
