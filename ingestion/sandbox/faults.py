"""Fault profiles: how unreliable the sandbox's APIs are in one run (``none``, ``realistic``,
``harsh``).

The profile is chosen per run (``tradelane sandbox serve --faults PROFILE``). Every fault is a
deterministic function of (profile, seed, request or record), so a failing test can be replayed,
and every malformed record is listed by id in the ledger's ``malformed_records`` table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaultProfile:
    """Shares are probabilities per request (HTTP faults) or per record (data faults)."""

    name: str
    # HTTP faults, per request
    rate_limit_share: float = 0.0  # extra 429 with Retry-After, beyond the leaky bucket
    server_error_share: float = 0.0  # 500/502/503
    slow_share: float = 0.0  # respond after `slow_seconds`
    slow_seconds: float = 0.0
    timeout_share: float = 0.0  # hang `timeout_seconds`, then drop the connection
    timeout_seconds: float = 0.0
    # Data faults, per record
    duplicate_share: float = 0.0  # record repeated on the next page
    malformed_share: float = 0.0  # record served corrupted (listed in the ledger)
    late_update_share: float = 0.0  # update visible only after `late_update_max_delay_s`
    late_update_max_delay_s: float = 0.0


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
