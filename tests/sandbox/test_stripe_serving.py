"""Stripe's charges, refunds and balance transactions are rendered lazily and cached within a
byte budget: a walk through ``starting_after`` pages serves the same bytes as rendering the
whole list at once, whatever the budget, the cache never holds more than it, and after the
clock moves the objects are rendered again as of the new clock."""

from __future__ import annotations

import orjson
import pytest

from ingestion.sandbox import SandboxState, api_stripe
from ingestion.sandbox.context import SandboxConfig, SandboxContext
from ingestion.sandbox.render_cache import VERSION, RenderCache

LAZY = [r for r in api_stripe.RESOURCES if r.prerendered]


def walk(api: api_stripe.StripeApi, resource: api_stripe._Resource) -> list[bytes]:
    """Every object of the list, newest first, 20 a page, as a connector pages."""
    out: list[bytes] = []
    params = [("limit", "20")]
    while True:
        body, _ = api.list_objects(resource, params)
        out += body["data"]
        if not body["has_more"]:
            return out
        params = [("limit", "20"), ("starting_after", orjson.loads(out[-1])["id"])]


def at_once(api: api_stripe.StripeApi, resource: api_stripe._Resource) -> list[bytes]:
    """The whole list rendered in one pass, in the list's order."""
    rows = api_stripe._SortedList.build(api._rendered(resource), resource, []).frame
    return resource.render(api.view, rows.drop(VERSION), api.view.now, api.hashes).to_list()


@pytest.fixture(scope="module")
def world():
    return SandboxState.generate(seed=11, n_orders=1500).world


@pytest.mark.parametrize("resource", LAZY, ids=[r.path for r in LAZY])
def test_a_small_budget_serves_the_list_as_rendered_at_once(world, resource):
    ctx = SandboxContext.create(SandboxState(world), SandboxConfig())
    roomy, tight = api_stripe.StripeApi(ctx), api_stripe.StripeApi(ctx)
    tight.rendered = RenderCache(20_000)
    served = walk(tight, resource)
    assert len(served) > 40  # several pages
    assert served == walk(roomy, resource) == at_once(roomy, resource)
    assert 0 < tight.rendered.held <= tight.rendered.budget
    assert len(tight.rendered) < len(served) == len(roomy.rendered)

    rendered = roomy.rendered.rendered
    ctx.state.advance(2)
    served = walk(roomy, resource)
    assert roomy.rendered.rendered - rendered == len(served)
    assert served == at_once(roomy, resource)
