"""Parts every connector's dlt source is built from, written once: the merge disposition, the
quarantine table fed by each parsed page, and the request counter shared by a source's clients.
"""

from __future__ import annotations

from typing import Any

import dlt

from ingestion.common.http import ApiClient, RequestStats
from ingestion.common.quarantine import QUARANTINE_HINTS, QUARANTINE_TABLE

# Merge on primary keys: the rows whose key is loaded again are deleted, the new ones inserted.
MERGE: dict[str, str] = {"disposition": "merge", "strategy": "delete-insert"}


def quarantine_transformer(pages: Any) -> Any:
    """The ``quarantine`` table of a source whose page resource yields parsed pages with a
    ``quarantine`` (``ingestion.common.quarantine.Quarantine``)."""

    @dlt.transformer(data_from=pages, name=QUARANTINE_TABLE, **QUARANTINE_HINTS)
    def quarantine(page: Any) -> Any:
        """Records refused by the parsers, with the reason and the raw payload."""
        if len(page.quarantine):
            yield page.quarantine.to_arrow()

    return quarantine


def counted(client: ApiClient, stats: RequestStats | None) -> ApiClient:
    """``client`` counting its requests in ``stats`` when given: one counter per run, shared by
    all of a source's clients, so the run's metadata shows every request it made."""
    if stats is not None:
        client.stats = stats
    return client
