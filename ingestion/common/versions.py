"""Which records' per-record children are already loaded, so a connector asks again only for the
records that changed.

Amazon's order items and Shopify's order transactions cost one request per order, the slow part
of a run under the published rate limits. An order re-read inside the lookback window with the
version (``LastUpdateDate``, ``updated_at``) its children were loaded at has the same children,
so they are not fetched again. The record lives in the resource's dlt state, committed with the
load package, and only keeps the records a next run's window can return.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime, timedelta
from typing import Any


class LoadedVersions:
    """``{record id: version}`` of records whose children are loaded, within one lookback
    window of the cursor. Versions are ISO 8601 instants."""

    def __init__(self, state: MutableMapping[str, Any], key: str, lookback_seconds: int) -> None:
        self._state = state
        self._key = key
        self._lookback = timedelta(seconds=lookback_seconds)
        self._loaded: dict[str, str] = dict(state.get(key, {}))
        self._kept = len(self._loaded)

    def is_loaded(self, record_id: Any, version: datetime) -> bool:
        """True when the children of this version of the record are already loaded (a lookback
        re-read, or the same record served twice in one walk)."""
        return self._loaded.get(str(record_id)) == version.isoformat()

    def mark(self, record_id: Any, version: datetime) -> None:
        self._loaded[str(record_id)] = version.isoformat()

    def prune(self, cursor: datetime) -> None:
        """Forget what the next run's window cannot return; amortized, because a first load
        marks every record it reads."""
        if len(self._loaded) > max(10_000, 2 * self._kept):
            self._keep_window(cursor)

    def save(self, cursor: datetime) -> None:
        """Write the record into the state, trimmed to the window the next run will read."""
        self._keep_window(cursor)
        self._state[self._key] = dict(self._loaded)

    def _keep_window(self, cursor: datetime) -> None:
        floor = cursor - self._lookback
        self._loaded = {
            record_id: version
            for record_id, version in self._loaded.items()
            if datetime.fromisoformat(version) >= floor
        }
        self._kept = len(self._loaded)
