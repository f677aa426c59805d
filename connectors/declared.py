"""Column types a department file declares for a stream (`types:`, `columns:`), as Arrow types."""

from __future__ import annotations

import re

import pyarrow as pa

TYPES = {"integer": pa.int64(), "bigint": pa.int64(), "double": pa.float64(), "boolean": pa.bool_(),
         "date": pa.date32(), "timestamp": pa.timestamp("us"), "text": pa.string()}
DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")


def arrow_type(name: str) -> pa.DataType:
    """A declared column type (`integer`, `decimal(12,2)`, `date`, ...) as Arrow."""
    if match := DECIMAL.match(name.strip().lower()):
        return pa.decimal128(int(match.group(1)), int(match.group(2)))
    try:
        return TYPES[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown column type {name!r}; use one of {', '.join(TYPES)} or decimal(p,s)") from None
