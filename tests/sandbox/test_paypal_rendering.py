"""The vectorized PayPal renderer serves exactly what the per-entry renderer did, including
amounts converted between currencies."""

from __future__ import annotations

from datetime import datetime

import orjson
import polars as pl
import pytest

from ingestion.sandbox import SandboxState
from ingestion.sandbox import paypal_render as pr
from ingestion.sandbox.api_paypal import convert_minor, transaction_rows
from ingestion.sandbox.faults import PROFILES
from ingestion.sandbox.jsonfrag import IdHashes
from ingestion.sandbox.stripe_ledger import LedgerView
from tests.sandbox.paypal_reference import render_transactions


class _ForeignPresentment:
    """The state, except that every third order shows another presentment currency and no
    presentment amounts for shipping: PayPal amounts must then be converted."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._cache: dict[tuple[str, datetime], pl.DataFrame] = {}

    @property
    def now(self) -> datetime:
        return self.state.now

    def table_as_of(self, name: str) -> pl.DataFrame:
        frame = self.state.table_as_of(name)
        if name != "orders":
            return frame
        key = (name, self.state.now)
        if key not in self._cache:
            odd = pl.col("order_number") % 3 == 0
            self._cache[key] = frame.with_columns(
                presentment_currency=pl.when(odd)
                .then(pl.lit("JPY"))
                .otherwise(pl.col("presentment_currency")),
                total_shipping_presentment_minor=pl.when(odd)
                .then(None)
                .otherwise(pl.col("total_shipping_presentment_minor")),
            )
        return self._cache[key]


@pytest.mark.parametrize("foreign", [False, True])
def test_every_entry_parses_to_the_reference_rendering(foreign: bool) -> None:
    state = SandboxState.generate(seed=7, n_orders=3000, faults=PROFILES["harsh"])
    view = LedgerView(_ForeignPresentment(state) if foreign else state)
    hashes = IdHashes()

    def accounts(ids: pl.Series) -> pl.DataFrame:
        return hashes.lookup("account", ids, {"_account": pr.account_id}, {"_account": pl.String})

    for _ in range(2):
        rows = transaction_rows(view)
        rendered = pr.sections(view, rows, accounts, convert_minor)
        for wanted in (set(pr.SECTIONS), {"transaction_info"}, {"transaction_info", "cart_info"}):
            fast = [orjson.loads(e) for e in pr.page_details(rendered, sorted(wanted))]
            reference = orjson.loads(
                orjson.dumps(render_transactions(view, rows.to_dicts(), wanted))
            )
            assert len(fast) == len(reference) == rows.height > 0
            for got, want in zip(fast, reference, strict=True):
                assert got == want, got["transaction_info"]["transaction_id"]
        carts = [orjson.loads(e)["cart_info"] for e in pr.page_details(rendered, ["cart_info"])]
        assert any(c.get("item_details") for c in carts)
        state.advance(4)
