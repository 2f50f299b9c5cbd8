"""Amazon SP-API Orders v0 settings. Defaults point at the bundled sandbox; a real seller account
is configuration only: ``SOURCES__AMAZON__ENDPOINT`` (``https://sellingpartnerapi-na.amazon.com``,
``-eu``, ``-fe``), ``SOURCES__AMAZON__ACCESS_TOKEN``, ``SOURCES__AMAZON__MARKETPLACE_IDS`` and
``SOURCES__AMAZON__SELLER_ID`` (the merchant token, which becomes ``store_id``). SP-API endpoints
are regional: one configuration reads the marketplaces of one region (the sandbox serves all
four marketplaces at one address).

Production needs one thing this connector does not do: exchanging the LWA refresh token for an
access token (``POST https://api.amazon.com/auth/o2/token``, grant_type=refresh_token, with the
app's client id and secret). Access tokens live one hour, so whoever runs the load must put a
fresh one in ``sources.amazon.access_token`` first; SP-API answers an expired one with 403,
which fails the run at once (retrying cannot fix it).
"""

ORDERS_PATH = "/orders/v0/orders"
ORDER_ITEMS_PATH = "/orders/v0/orders/{order_id}/orderItems"
# getOrders accepts 1..100; fewer requests matter more than small pages at one request a minute.
PAGE_SIZE = 100
# The four marketplaces the sandbox serves: Amazon.com, .de, .co.uk, .co.jp.
DEFAULT_MARKETPLACE_IDS = ("ATVPDKIKX0DER", "A1PA6795UKMFR9", "A1F83G8C2ARO7P", "A1VC38T7YXB528")
# First run loads every order updated since this instant.
DEFAULT_START = "2000-01-01T00:00:00Z"
# Re-read this window before the cursor on every run. Amazon's LastUpdateDate index lags (the
# API refuses windows ending less than two minutes ago for that reason) and status changes made
# by Amazon (FBA shipments, cancellations) are stamped with the time they happened, not the time
# they became visible, so a change can appear behind a cursor we already passed.
LOOKBACK_SECONDS = 2 * 3600
# Published usage plans (ordersV0.json): rate in requests/s and burst. The client starts from
# these and adopts whatever ``x-amzn-RateLimit-Limit`` announces (sellers can be granted more;
# the sandbox announces its own faster rates).
GET_ORDERS_RATE = 0.0167
GET_ORDERS_BURST = 20
GET_ORDER_ITEMS_RATE = 0.5
GET_ORDER_ITEMS_BURST = 30
RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"
SANDBOX_ACCESS_TOKEN = "Atza|sandbox"
# The seller (merchant token) behind each sandbox marketplace, as the ledger's
# ``channels.store_id``: one account per SP-API region (NA, EU, FE), so .de and .co.uk share one.
SANDBOX_SELLER_IDS = {
    "ATVPDKIKX0DER": "A3TLSANDBOXNA1",
    "A1PA6795UKMFR9": "A1TLSANDBOXEU7",
    "A1F83G8C2ARO7P": "A1TLSANDBOXEU7",
    "A1VC38T7YXB528": "A2TLSANDBOXFE3",
}
# getOrderItems calls of one page in flight at once. They share the operation's token bucket,
# so at the published 0.5/s the bucket, not the pool, sets the pace; where the server grants
# more (the sandbox, a seller with a raised plan) the pool overlaps one response's decoding
# with the next requests' round trips (benchmarks/README.md, "Ingestion throughput").
ITEM_REQUEST_WORKERS = 4

# How order items are read: "reports" (default) from the All Orders report of the Reports API,
# a few requests per marketplace whatever the number of orders; "orders_api" from getOrderItems,
# one request per new or changed order (0.5/s published: about 43,000 orders a day at most).
# ``SOURCES__AMAZON__ITEMS_VIA``.
ITEMS_VIA = ("reports", "orders_api")
DEFAULT_ITEMS_VIA = "reports"
# Reports API 2021-06-30. GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL: every order of
# both fulfilment channels and every status, one tab-separated row per item with its prices,
# selected by last update (so it is incremental like getOrders) and needing no restricted
# (PII) role. The order reports that carry an order-item-id (GET_FLAT_FILE_ORDER_REPORT_DATA_*,
# GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING) cover seller-fulfilled orders only and need the
# restricted role; the XML variant of All Orders carries no item id either.
REPORTS_PATH = "/reports/2021-06-30/reports"
REPORT_PATH = "/reports/2021-06-30/reports/{report_id}"
REPORT_DOCUMENT_PATH = "/reports/2021-06-30/documents/{document_id}"
REPORT_TYPE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
# Published usage plans (reports_2021-06-30.json).
CREATE_REPORT_RATE = 0.0167
CREATE_REPORT_BURST = 15
GET_REPORT_RATE = 2.0
GET_REPORT_BURST = 15
GET_REPORT_DOCUMENT_RATE = 0.0167
GET_REPORT_DOCUMENT_BURST = 15
# Polling getReport: first wait, doubling up to the cap, and how long a report may take before
# the run gives up (Amazon documents up to 45 minutes for large order reports).
REPORT_POLL_INITIAL_S = 0.5
REPORT_POLL_MAX_S = 60.0
REPORT_TIMEOUT_S = 3600.0


def configured_items_via() -> str:
    """``sources.amazon.items_via`` as dlt resolves it (environment, then config files), or the
    default: what tools outside the load (``tradelane reconcile``) use to know how the items
    were read."""
    import dlt

    value = dlt.config.get("sources.amazon.items_via")
    return str(value) if value else DEFAULT_ITEMS_VIA
