"""``tradelane reconcile``: the warehouse against the sandbox's ground-truth ledger.

One module per concern: ``ledger`` (where the truth comes from: a generated world or a running
sandbox, as of a clock), ``mappings`` (which ledger rows each raw table must hold, per source
and entity), ``compare`` (missing, duplicated, unexpected, different, and malformed records
expected in quarantine), ``mart`` (the mart layer's totals per channel, store and currency, on
both sides), ``totals`` (their comparison), ``report`` (the rich tables and one line per
disagreement).
"""

from tradelane.reconcile.compare import EntityResult, reconcile
from tradelane.reconcile.ledger import Ledger, LedgerUnavailable
from tradelane.reconcile.mappings import LAYERS
from tradelane.reconcile.mart import MART_TOTALS, MartTotals
from tradelane.reconcile.totals import MartNotBuilt, TotalsResult, reconcile_mart

__all__ = [
    "LAYERS",
    "MART_TOTALS",
    "EntityResult",
    "Ledger",
    "LedgerUnavailable",
    "MartNotBuilt",
    "MartTotals",
    "TotalsResult",
    "reconcile",
    "reconcile_mart",
]
