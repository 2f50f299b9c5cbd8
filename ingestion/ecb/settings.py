"""ECB reference-rate settings. The default endpoint is the sandbox; the real ECB is
``SOURCES__ECB__BASE_URL=https://www.ecb.europa.eu`` (the sandbox serves the same paths)."""

HISTORY_PATH = "/stats/eurofxref/eurofxref-hist.zip"
# The ECB revises a fixing only in rare corrections, within days; re-read a short window.
LOOKBACK_DAYS = 7
# A public file server: be polite.
REQUESTS_PER_SECOND = 1.0
BURST = 2
