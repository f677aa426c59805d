"""Great Expectations Data Docs for one gate run: a static HTML page, with offending values removed first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Result keys that carry offending values (PII); counts and percentages stay.
_VALUE_KEYS = ("partial_unexpected_list", "partial_unexpected_counts", "partial_unexpected_index_list",
               "unexpected_list", "unexpected_index_list", "unexpected_rows", "details")


def scrub(validation: Any) -> Any:
    """Drop offending values from every expectation result in place (the page must hold no raw PII)."""
    for res in validation.results:
        for key in _VALUE_KEYS:
            (res.result or {}).pop(key, None)
        if isinstance((res.result or {}).get("observed_value"), list | dict):
            res.result["observed_value"] = "(values withheld)"
    return validation


def write_data_docs(validation: Any, path: Path) -> Path:
    """Render the (scrubbed) validation result with GE's own page renderer to `path`."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    html = DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(scrub(validation)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
