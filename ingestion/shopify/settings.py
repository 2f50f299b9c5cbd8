"""Shopify Admin REST settings. Defaults point at the bundled sandbox; a real store is
configuration only (``SOURCES__SHOPIFY__SHOP_URL`` and ``SOURCES__SHOPIFY__ACCESS_TOKEN``)."""

API_VERSION = "2026-07"
# Shopify's maximum page size for REST list endpoints.
PAGE_SIZE = 250
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
