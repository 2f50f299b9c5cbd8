"""PayPal's transactions are rendered lazily and cached within a byte budget: walking a window's
pages serves the very bytes of rendering the whole window at once, for every choice of
``fields`` and whatever the budget, the cache never holds more than it, and after the clock
moves only new and changed transactions are rendered again."""

from __future__ import annotations

from datetime import datetime

import orjson
import polars as pl
import pytest

from ingestion.sandbox import SandboxState, api_paypal, paypal_render
from ingestion.sandbox.context import SandboxConfig, SandboxContext
from ingestion.sandbox.faults import PROFILES
from ingestion.sandbox.render_cache import VERSION, RenderCache
from ingestion.sandbox.world import generate_world

PAGE = 20


@pytest.fixture(scope="module")
def world():
    return generate_world(seed=11, n_orders=3000)


def window(api: api_paypal.PayPalApi) -> tuple[datetime, datetime]:
    """The last 31 days PayPal's reporting has refreshed."""
    end = api.last_refreshed()
    return end - api_paypal.MAX_WINDOW, end


def walk(api: api_paypal.PayPalApi, fields: str = "all") -> list[bytes]:
    """Every entry of the window, page after page, as the connector asks for them."""
    start, end = window(api)
    out: list[bytes] = []
    page = 1
    while True:
        params = {
            "start_date": api_paypal.paypal_time(start),
            "end_date": api_paypal.paypal_time(end),
            "fields": fields,
            "page_size": str(PAGE),
            "page": str(page),
        }
        body, _ = api.search(params, "http://127.0.0.1/v1/reporting/transactions")
        out += body["transaction_details"]
        if page >= body["total_pages"]:
            return out
        page += 1


def in_window(api: api_paypal.PayPalApi) -> pl.DataFrame:
    start, end = window(api)
    return api._rows().frame.filter(pl.col("initiated_at").is_between(start, end))


def at_once(api: api_paypal.PayPalApi, wanted: set[str]) -> list[bytes]:
    """The window's entries rendered in one pass, in PayPal's order."""
    rows = api_paypal.transaction_rows(api.view)
    start, end = window(api)
    rows = rows.filter(pl.col("initiated_at").is_between(start, end))
    frame = paypal_render.sections(api.view, rows, api._accounts, api_paypal.convert_minor)
    return paypal_render.page_details(frame, wanted)


def test_a_small_budget_serves_the_window_as_rendered_at_once(world):
    ctx = SandboxContext.create(SandboxState(world), SandboxConfig())
    roomy, tight = api_paypal.PayPalApi(ctx), api_paypal.PayPalApi(ctx)
    tight.rendered = RenderCache(20_000)
    served = walk(tight)
    assert len(served) > 3 * PAGE  # several pages
    assert served == walk(roomy) == at_once(roomy, set(paypal_render.SECTIONS))
    assert 0 < tight.rendered.held <= tight.rendered.budget
    assert len(tight.rendered) < len(served) == len(roomy.rendered)
    # Other sections from the same cache entries.
    wanted = {"transaction_info", "cart_info"}
    assert walk(tight, "cart_info") == walk(roomy, "cart_info") == at_once(roomy, wanted)


@pytest.mark.parametrize("profile", ["none", "harsh"])
def test_after_the_clock_moves_only_new_and_changed_transactions_are_rendered_again(world, profile):
    # harsh: late updates show some orders' rows as of an earlier instant.
    ctx = SandboxContext.create(SandboxState(world, faults=PROFILES[profile]), SandboxConfig())
    api = api_paypal.PayPalApi(ctx)
    walk(api)
    before = in_window(api).select("transaction_id", VERSION)
    rendered = api.rendered.rendered
    assert rendered == before.height
    ctx.state.advance(3)
    after = in_window(api).select("transaction_id", VERSION)
    changed = after.join(before, on=["transaction_id", VERSION], how="anti").height
    assert 0 < changed < after.height
    served = walk(api)
    assert api.rendered.rendered - rendered == changed
    assert served == at_once(api, set(paypal_render.SECTIONS))
    assert after["transaction_id"].is_unique().all()


def test_a_refund_renders_its_payment_again(world):
    """A payment's row shows what was refunded of it: when a refund appears, the payment's
    entry is rendered again with the new status, not served from the cache."""
    ctx = SandboxContext.create(SandboxState(world), SandboxConfig())
    api = api_paypal.PayPalApi(ctx)
    statuses = {}
    for _ in range(4):
        for entry in walk(api, "transaction_info"):
            info = orjson.loads(entry)["transaction_info"]
            if info["transaction_event_code"] == paypal_render.EVENT_PAYMENT:
                statuses.setdefault(info["transaction_id"], set()).add(info["transaction_status"])
        ctx.state.advance(2)
    assert any(len(seen) > 1 for seen in statuses.values())
