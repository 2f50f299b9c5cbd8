"""Fault profiles: how unreliable the sandbox's APIs are in one run (``none``, ``realistic``,
``harsh``).

The profile is chosen per run (``tradelane sandbox serve --faults PROFILE``). Every fault is a
deterministic function of (profile, seed, request or record), so a failing test can be replayed,
and every malformed record is listed by id in the ledger's ``malformed_records`` table.

This module holds what every fault needs and nothing that imports a web framework (the config
imports it): the profiles, the deterministic ``draw`` they are decided by, and ``FaultRun``, the
per-server counters the admin route ``GET /_sandbox/faults`` reports. HTTP faults live in
``fault_http``, data faults (duplicates, malformed records) in ``fault_data``; the catalogue
with examples is ``docs/sandbox-faults.md``.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

# Names of the injected-fault counters, in the order ``GET /_sandbox/faults`` reports them.
FAULT_KINDS = ("rate_limited", "server_error", "slow", "timeout", "duplicated", "malformed")


@dataclass(frozen=True)
class FaultProfile:
    """Shares are probabilities per request (HTTP faults) or per record (data faults).

    HTTP shares are exclusive outcomes of one draw per request, so they must sum to at most 1.
    ``duplicate_share`` is per page boundary: the chance that the last record of a page is
    served again at the start of the next one.
    """

    name: str
    # HTTP faults, per request
    rate_limit_share: float = 0.0  # extra 429 with Retry-After, beyond the leaky bucket
    server_error_share: float = 0.0  # 500/502/503
    slow_share: float = 0.0  # respond after `slow_seconds`
    slow_seconds: float = 0.0
    timeout_share: float = 0.0  # hang `timeout_seconds`, then drop the connection
    timeout_seconds: float = 0.0
    retry_after_seconds: float = 1.0  # what injected 429s (and 503s) ask clients to wait
    # Data faults
    duplicate_share: float = 0.0  # last record of a page repeated at the start of the next
    malformed_share: float = 0.0  # record served corrupted (listed in the ledger)
    late_update_share: float = 0.0  # update visible only after `late_update_max_delay_s`
    late_update_max_delay_s: float = 0.0

    def __post_init__(self) -> None:
        shares = {
            "rate_limit_share": self.rate_limit_share,
            "server_error_share": self.server_error_share,
            "slow_share": self.slow_share,
            "timeout_share": self.timeout_share,
            "duplicate_share": self.duplicate_share,
            "malformed_share": self.malformed_share,
            "late_update_share": self.late_update_share,
        }
        for name, share in shares.items():
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {share}")
        if self.http_share > 1.0 + 1e-12:
            raise ValueError(f"HTTP fault shares sum to {self.http_share}, more than 1")
        for name in ("slow_seconds", "timeout_seconds", "retry_after_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")

    @property
    def http_share(self) -> float:
        """Share of requests that meet some HTTP fault."""
        return (
            self.rate_limit_share + self.server_error_share + self.slow_share + self.timeout_share
        )

    @property
    def has_data_faults(self) -> bool:
        """Whether list pages need to pass through ``fault_data`` at all (``none``: no)."""
        return self.duplicate_share > 0 or self.malformed_share > 0


PROFILES: dict[str, FaultProfile] = {
    "none": FaultProfile(name="none"),
    "realistic": FaultProfile(
        name="realistic",
        rate_limit_share=0.02,
        server_error_share=0.01,
        slow_share=0.02,
        slow_seconds=0.5,
        timeout_share=0.002,
        timeout_seconds=3.0,
        duplicate_share=0.005,
        malformed_share=0.001,
        late_update_share=0.01,
        late_update_max_delay_s=1800,
    ),
    "harsh": FaultProfile(
        name="harsh",
        rate_limit_share=0.10,
        server_error_share=0.05,
        slow_share=0.05,
        slow_seconds=1.0,
        timeout_share=0.01,
        timeout_seconds=3.0,
        duplicate_share=0.03,
        malformed_share=0.01,
        late_update_share=0.05,
        late_update_max_delay_s=3600,
    ),
}


def get_profile(name: str) -> FaultProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown fault profile {name!r}; choose one of {sorted(PROFILES)}"
        ) from None


def draw(seed: int, *parts: object) -> float:
    """A uniform number in [0, 1) fixed by ``seed`` and ``parts``.

    Why a keyed hash rather than a random generator: the outcome for one request or record must
    not depend on how many others were decided before it (pages are fetched in any order, by
    several clients), and it must be the same in another process (the ledger writer computes
    ``malformed_records`` without serving anything). Python's ``hash`` is salted per process.
    """
    key = "\x1f".join([str(seed), *map(str, parts)]).encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass
class FaultRun:
    """One server's profile, seed and counts of what it injected (thread-safe: handlers run in
    a thread pool while the middleware runs on the event loop).

    ``attempt`` numbers repeated requests to one URL, so that a retry meets a fresh decision
    while a replayed sequence of requests meets the same faults.
    """

    profile: FaultProfile
    seed: int
    _counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULT_KINDS, 0))
    _attempts: dict[bytes, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # The ASGI scope key under which the middleware hands the run to handlers.
    SCOPE_KEY = "tradelane.faults"

    def count(self, kind: str, n: int = 1) -> None:
        if n:
            with self._lock:
                self._counts[kind] += n

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def next_attempt(self, method: str, target: str) -> int:
        """0 for the first request of ``method target``, then 1, 2, ... (keys are digests, so
        memory stays small however long the URLs)."""
        key = hashlib.blake2b(f"{method} {target}".encode(), digest_size=12).digest()
        with self._lock:
            attempt = self._attempts.get(key, 0)
            self._attempts[key] = attempt + 1
            return attempt

    def report(self) -> dict[str, Any]:
        """The body of ``GET /_sandbox/faults``."""
        return {"profile": self.profile.name, "seed": self.seed, "injected": self.counts()}

    @classmethod
    def from_scope(cls, scope: Any) -> FaultRun | None:
        """The run the fault middleware attached to a request's scope, if any."""
        run = scope.get(cls.SCOPE_KEY)
        return run if isinstance(run, FaultRun) else None
