"""Stripe settings. Defaults point at the bundled sandbox; the real API is configuration only:
``SOURCES__STRIPE__BASE_URL=https://api.stripe.com`` and ``SOURCES__STRIPE__API_KEY`` (a secret
or restricted key with read access)."""

from __future__ import annotations

# The list endpoints this connector reads, in load order; each becomes a table of ``raw_stripe``.
OBJECTS: tuple[str, ...] = ("balance_transactions", "charges", "refunds", "disputes", "payouts")
REAL_BASE_URL = "https://api.stripe.com"
# Stripe's maximum page size for list endpoints.
PAGE_SIZE = 100
# Pages of one list handed to dlt as one Arrow table (``parsers.merge_pages`` says why).
BATCH_PAGES = 10
# First run reads everything created since this instant (Stripe opened in 2011).
DEFAULT_START = "2011-01-01T00:00:00Z"
# Re-read this window before each object's cursor on every run, because Stripe objects change
# after they are created and ``created[gte]`` cannot see an update: a balance transaction turns
# ``available`` after its ``available_on`` (up to 7 days, 14 for new accounts), a charge gains
# refunds and disputes, a payout goes pending -> in_transit -> paid within days, and a dispute
# moves through evidence and the network's decision over weeks to months. Disputes are few, so
# a long window costs little; the other lists re-read a week.
LOOKBACK_SECONDS: dict[str, int] = {
    "balance_transactions": 14 * 86_400,
    "charges": 7 * 86_400,
    "refunds": 7 * 86_400,
    "disputes": 120 * 86_400,
    "payouts": 14 * 86_400,
}
# Stripe's published read limits (https://docs.stripe.com/rate-limits): 100 requests a second in
# live mode, 25 in test mode, counted per account; a key's prefix tells its mode.
LIVE_REQUESTS_PER_SECOND = 100.0
TEST_REQUESTS_PER_SECOND = 25.0
SANDBOX_API_KEY = "sk_test_sandbox"


def requests_per_second_for(api_key: str) -> float:
    """The published limit for the key's mode: only ``*_live_*`` keys get the live limit."""
    return LIVE_REQUESTS_PER_SECOND if "_live_" in api_key else TEST_REQUESTS_PER_SECOND
