"""Parts every connector's dlt source is built from, written once: the merge disposition, the
quarantine table fed by each parsed page, the request counter shared by a source's clients, and
the batching of parsed pages into fewer, larger Arrow tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

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


P = TypeVar("P")  # a parsed page, with ``max_created`` (None on a page without records)
B = TypeVar("B")  # several parsed pages merged into one


class PageBatches(Generic[P, B]):
    """Parsed pages merged ``size`` at a time: dlt extracts and normalizes one larger Arrow
    table far faster than many small ones. Remembers the newest ``max_created`` of the pages
    read (starting from ``newest``), which becomes the cursor once every page was read."""

    def __init__(self, merge: Callable[[list[P]], B], size: int, newest: Any = None) -> None:
        self.merge = merge
        self.size = size
        self.newest = newest

    def of(self, pages: Iterable[P]) -> Iterator[B]:
        batch: list[P] = []
        for page in pages:
            created = page.max_created  # type: ignore[attr-defined]
            if created is not None and (self.newest is None or created > self.newest):
                self.newest = created
            batch.append(page)
            if len(batch) >= self.size:
                yield self.merge(batch)
                batch = []
        if batch:
            yield self.merge(batch)
