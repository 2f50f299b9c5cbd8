"""The vectorized Stripe renderers serve exactly what the per-object renderers did."""

from __future__ import annotations

import orjson
import polars as pl
import pytest

from ingestion.sandbox import SandboxState
from ingestion.sandbox import stripe_objects as so
from ingestion.sandbox.faults import PROFILES
from ingestion.sandbox.stripe_ledger import LedgerView
from tests.sandbox.stripe_reference import render_charges, render_refunds


@pytest.mark.parametrize("profile", ["none", "harsh"])
def test_every_object_parses_to_the_reference_rendering(profile: str) -> None:
    state = SandboxState.generate(seed=7, n_orders=3000, faults=PROFILES[profile])
    view, hashes = LedgerView(state), so.IdHashes()
    stripe = pl.col("provider") == "stripe"
    for _ in range(2):
        cases = [
            (
                view("balance_transactions").filter(stripe),
                lambda rows: so.balance_transactions_json(view, rows, state.now),
                so.render_balance_transactions,
            ),
            (
                view("payment_refunds").filter(pl.col("payment_refund_id").str.starts_with("re_")),
                lambda rows: so.refunds_json(view, rows, state.now, hashes),
                render_refunds,
            ),
            (
                view("payments").filter(stripe),
                lambda rows: so.charges_json(view, rows, state.now, hashes),
                render_charges,
            ),
        ]
        for rows, fast_render, reference_render in cases:
            assert rows.height > 0
            fast = [orjson.loads(o) for o in fast_render(rows)]
            reference = orjson.loads(
                orjson.dumps(reference_render(view, rows.to_dicts(), state.now))
            )
            assert len(fast) == len(reference) == rows.height
            for got, want in zip(fast, reference, strict=True):
                assert got == want, got["id"]
        charges = [
            orjson.loads(o)
            for o in so.charges_json(view, view("payments").filter(stripe), state.now, hashes)
        ]
        assert any(c["refunds"]["data"] for c in charges)
        assert any(c["payment_method_details"]["card"]["three_d_secure"] for c in charges)
        state.advance(4)  # refunds, disputes and payouts appear; new ids are hashed
