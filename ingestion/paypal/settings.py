"""PayPal settings. Defaults point at the bundled sandbox; the real API is configuration only:
``SOURCES__PAYPAL__BASE_URL=https://api-m.paypal.com`` (PayPal's own sandbox:
``https://api-m.sandbox.paypal.com``) with ``SOURCES__PAYPAL__CLIENT_ID`` and
``SOURCES__PAYPAL__CLIENT_SECRET`` of a REST app allowed to search transactions."""

from __future__ import annotations

from datetime import timedelta

REAL_BASE_URL = "https://api-m.paypal.com"
TOKEN_PATH = "/v1/oauth2/token"
TRANSACTIONS_PATH = "/v1/reporting/transactions"
# PayPal's maximum page size for transaction search.
PAGE_SIZE = 500
# PayPal rejects a search whose end is more than 31 days after its start.
MAX_WINDOW = timedelta(days=31)
# Transaction search reaches three years back; the first run starts there.
HISTORY = timedelta(days=3 * 365)
# PayPal's reporting data lags (up to 3 hours, says PayPal) and a payment's status changes
# later (pending -> completed, refunds): re-read a day before the cursor on every run.
LOOKBACK = timedelta(days=1)
# PayPal publishes no per-endpoint limit for Transaction Search, only that it answers 429 with
# rate limiting; a few requests a second keeps a nightly load far from any plausible limit
# (each request returns up to 500 transactions), and 429s are still honoured.
REQUESTS_PER_SECOND = 5.0
BURST = 5
# Renew the access token this long before PayPal says it expires, so no request races expiry.
TOKEN_EXPIRY_MARGIN_S = 300
# The bundled sandbox's REST app (``ingestion.sandbox.api_paypal`` serves the same constants).
SANDBOX_CLIENT_ID = "tradelane_sandbox_client_id"
SANDBOX_CLIENT_SECRET = "tradelane_sandbox_client_secret"
