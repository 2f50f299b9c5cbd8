"""`tradelane run`'s closing summary names each source's quarantine count."""

from __future__ import annotations

import io

from rich.console import Console

from tradelane.runner import RunSummary, print_summary


def test_the_summary_lists_the_quarantine_of_every_source():
    summary = RunSummary(
        run_id="0123456789",
        success=True,
        seconds=1.0,
        materialized={
            "raw_shopify/orders": {"rows_loaded": 10, "quarantined_by_expectations": 1},
            "raw_shopify/quarantine": {"quarantined_records": 2, "quarantine_total": 3},
            "raw_wms/quarantine": {"quarantined_records": 0, "quarantine_total": 0},
        },
        checks_passed=5,
        checks_failed=["raw_shopify/orders:great_expectations"],
    )
    out = io.StringIO()
    print_summary(summary, Console(file=out, width=200))
    text = out.getvalue()
    assert "Quarantine: raw_shopify 3, raw_wms 0" in text
    assert "Checks: 5 passed, 1 failed" in text and "raw_shopify/orders:great_expectations" in text
