"""``tradelane reconcile``: the warehouse against the sandbox's ground-truth ledger.

One module per concern: ``ledger`` (where the truth comes from: a generated world or a running
sandbox, as of a clock), ``mappings`` (which ledger rows each raw table must hold, per source
and entity), ``compare`` (missing, duplicated, unexpected, different, and malformed records
expected in quarantine), ``report`` (the rich table and one line per disagreement).
"""

from tradelane.reconcile.compare import EntityResult, reconcile
from tradelane.reconcile.ledger import Ledger, LedgerUnavailable
from tradelane.reconcile.mappings import LAYERS

__all__ = ["LAYERS", "EntityResult", "Ledger", "LedgerUnavailable", "reconcile"]
