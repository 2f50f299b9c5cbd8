"""Where reconcile gets the ground truth: the sandbox ledger as of a clock.

Why two ways: a sandbox started without ``--world`` generated its world in memory, so only the
running server can say what its APIs showed (``GET /_sandbox/ledger/<table>.parquet``, as of its
clock); a world written by ``tradelane sandbox generate`` can be read from disk and viewed as of
any instant, with the fault profile it was generated for (late updates and malformed records
depend on it). Either way a table comes back as ``SandboxState.table_as_of`` gives it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import polars as pl


@dataclass
class Ledger:
    """Ledger tables as of ``now``, fetched once each."""

    description: str
    now: datetime
    fetch: Callable[[str], pl.DataFrame]
    _tables: dict[str, pl.DataFrame] = field(default_factory=dict)

    def __call__(self, name: str) -> pl.DataFrame:
        if name not in self._tables:
            self._tables[name] = self.fetch(name)
        return self._tables[name]

    @classmethod
    def from_world(cls, directory: str | Path, as_of: datetime | None = None) -> Ledger:
        """A generated world (``tradelane sandbox generate --out DIR``) as of ``as_of`` (default:
        the world's end, where a freshly started sandbox's clock stands), seen through the
        fault profile it was generated for."""
        from ingestion.sandbox.faults import get_profile
        from ingestion.sandbox.ledger import read_ledger
        from ingestion.sandbox.state import SandboxState

        world = read_ledger(directory)
        profile = get_profile(world.parameters.get("faults", "none"))
        state = SandboxState(world, now=as_of, faults=profile)
        return cls(
            description=f"world {directory} ({profile.name}) as of {state.now.isoformat()}",
            now=state.now,
            fetch=state.table_as_of,
        )

    @classmethod
    def from_sandbox(cls, url: str, timeout_s: float = 120.0) -> Ledger:
        """The running sandbox at ``url``, as of its clock now. Reconcile only after the load:
        moving the clock in between makes the ledger newer than what was loaded."""
        base = url.rstrip("/")
        manifest = _get(f"{base}/_sandbox/ledger", timeout_s).json()

        def fetch(name: str) -> pl.DataFrame:
            body = _get(f"{base}/_sandbox/ledger/{name}.parquet", timeout_s).content
            return pl.read_parquet(io.BytesIO(body))

        return cls(
            description=f"sandbox {base} ({manifest['faults']}) as of {manifest['now']}",
            now=datetime.fromisoformat(manifest["now"]),
            fetch=fetch,
        )


def _get(url: str, timeout_s: float) -> httpx.Response:
    try:
        response = httpx.get(url, timeout=timeout_s)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise LedgerUnavailable(f"cannot read the sandbox ledger at {url}: {exc}") from exc
    return response


class LedgerUnavailable(RuntimeError):
    """The ledger could not be read (no sandbox running there, or one without the route)."""
