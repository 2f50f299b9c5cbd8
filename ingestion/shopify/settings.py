"""Shopify Admin REST settings. Defaults point at the bundled sandbox; a real store is
configuration only (``SOURCES__SHOPIFY__SHOP_URL`` and ``SOURCES__SHOPIFY__ACCESS_TOKEN``)."""

API_VERSION = "2026-07"
# Shopify's maximum page size for REST list endpoints.
PAGE_SIZE = 250
# Order pages converted (and handed to dlt) together: a column-wise pass costs about 11 ms
# whatever its size, 45 us an order for one page of 250 against 8 for ten
# (``columnar.parse_pages``); eight pages of 11 KiB orders hold about 22 MB of responses.
BATCH_PAGES = 8
# First run loads everything updated since this instant.
DEFAULT_START = "2000-01-01T00:00:00Z"
# Re-read this window before the cursor on every run: Shopify updates orders after the fact
# (fulfilment, refunds, edits) and its updated_at index is eventually consistent.
LOOKBACK_SECONDS = 3600
# Standard-plan REST limit: a 40-request bucket leaking 2 per second (Plus: 400 and 20).
REQUESTS_PER_SECOND = 2.0
BURST = 40
SANDBOX_ACCESS_TOKEN = "shpat_sandbox"
SANDBOX_SHOP_DOMAIN = "tradelane-sandbox.myshopify.com"
# Finance resources (order transactions, refunds, fulfillments, Shopify Payments payouts) cost
# one more request per new or updated order (its transactions; refunds and fulfillments come
# with the order), so they are switched on by configuration
# (``SOURCES__SHOPIFY__FINANCE=true``) where the token has the read_orders and
# read_shopify_payments_payouts scopes.
FINANCE = False
# First run loads payouts dated on or after this day.
PAYOUTS_DEFAULT_START = "2000-01-01"
# A payout moves scheduled -> in_transit -> paid (or failed) within days of its date: re-read
# two weeks of payouts on every run.
PAYOUTS_LOOKBACK_DAYS = 14
# Order-transactions calls of one page in flight at once. They share the store's one token
# bucket, so the plan's rate holds whatever the pool; under it, one response is decoded while
# the next requests travel (benchmarks/README.md, "Ingestion throughput").
TRANSACTION_REQUEST_WORKERS = 4
# How order transactions are read with ``finance`` on: ``bulk``, one GraphQL Admin bulk
# operation per run over every order updated since the cursor (a mutation, a few polls and one
# download, whatever the number of orders), or ``rest``, one ``transactions.json`` request per
# new or changed order (``SOURCES__SHOPIFY__TRANSACTIONS_VIA=rest``). Both load the same rows.
TRANSACTIONS_VIA = "bulk"
TRANSACTIONS_VIA_CHOICES = ("bulk", "rest")
# Polling a bulk operation: first wait, doubling up to the maximum, and how long to wait at most
# (Shopify runs a bulk query for up to ten days; a store's orders take minutes). A poll is a
# one-point query against a cost bucket that restores far more than a point a second, so polling
# each second is cheap; a 5-second cap let the 100k benchmark sit up to 5 s past the file being
# ready (9 polls, 11.4 s of sleeps; benchmarks/README.md, "All together").
BULK_POLL_INITIAL_SECONDS = 0.05
BULK_POLL_MAX_SECONDS = 1.0
BULK_TIMEOUT_SECONDS = 3600.0


def configured_transactions_via() -> str:
    """``transactions_via`` as a source built from configuration gets it
    (``SOURCES__SHOPIFY__TRANSACTIONS_VIA``, else the default): what ``tradelane reconcile``
    expects the load to have used."""
    import dlt

    value = dlt.config.get("sources.shopify.transactions_via", str)
    return value if value in TRANSACTIONS_VIA_CHOICES else TRANSACTIONS_VIA
