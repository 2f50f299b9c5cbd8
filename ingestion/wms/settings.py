"""WMS settings. The WMS is the warehouse operator's REST API (see
``ingestion/sandbox/wms.py`` for its contract); a real one is configuration only
(``SOURCES__WMS__BASE_URL`` and ``SOURCES__WMS__API_TOKEN``)."""

PAGE_SIZE = 1000
DEFAULT_START = "2000-01-01T00:00:00Z"
# Stock levels change constantly and the WMS stamps them with its own clock; re-read a window.
LOOKBACK_SECONDS = 900
# Inbound orders change on events booked after the fact (a receipt is scanned hours after the
# truck arrives, a PO turns overdue when its due date passes): re-read a day.
INBOUND_LOOKBACK_SECONDS = 86_400
REQUESTS_PER_SECOND = 10.0
BURST = 20
SANDBOX_API_TOKEN = "wms_sandbox"
