"""The quarantine: every record a parser refuses, with why, so nothing is silently dropped.

Each source's dataset gets a ``quarantine`` table, merged on a hash of the record and reason:
source, entity, record id, reason, the raw payload as JSON text and when it was last seen.
One bad record never stops a run; ``tradelane status`` and the run metadata report the counts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

QUARANTINE_TABLE = "quarantine"

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("quarantine_id", pa.string(), nullable=False),
        ("source", pa.string()),
        ("entity", pa.string()),
        ("record_id", pa.string()),
        ("reason", pa.string()),
        ("payload", pa.string()),
        ("quarantined_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass
class Quarantine:
    """Collects refused records during a page parse."""

    source: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, entity: str, record: Any, reason: str, record_id: Any = None) -> None:
        if record_id is None and isinstance(record, dict):
            record_id = record.get("id")
        payload = _to_json(record)
        self.rows.append(
            {
                # Same source, entity, payload and reason -> same id: re-reading a bad record
                # (lookback windows re-read on purpose) updates its row instead of adding one.
                "quarantine_id": hashlib.sha256(
                    "\x1f".join([self.source, entity, reason, payload]).encode()
                ).hexdigest()[:32],
                "source": self.source,
                "entity": entity,
                "record_id": None if record_id is None else str(record_id),
                "reason": reason,
                "payload": payload,
                "quarantined_at": datetime.now(UTC),
            }
        )

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def merged(cls, source: str, parts: Iterable[Quarantine]) -> Quarantine:
        """The refusals of several parsed pages as one, for a source that hands dlt a few
        pages' rows as one Arrow table."""
        return cls(source=source, rows=[row for part in parts for row in part.rows])

    def to_arrow(self) -> pa.Table:
        return pa.Table.from_pylist(self.rows, schema=QUARANTINE_SCHEMA)


QUARANTINE_HINTS: dict[str, Any] = {
    "primary_key": "quarantine_id",
    "write_disposition": {"disposition": "merge", "strategy": "delete-insert"},
    "columns": {
        "record_id": {"data_type": "text", "nullable": True},
        "payload": {"data_type": "text"},
        "quarantined_at": {"data_type": "timestamp", "timezone": True},
    },
}


def _to_json(record: Any) -> str:
    """Serialize the raw payload as received; integers beyond 64 bits (which orjson refuses)
    fall back to the standard library so the evidence is kept whatever it holds."""
    try:
        return orjson.dumps(record, default=str).decode()
    except TypeError:
        return json.dumps(record, default=str)
