"""Sandbox API: Stripe (balance transactions, charges, refunds, disputes, payouts)."""

from __future__ import annotations

from starlette.routing import Route

from ingestion.sandbox.context import SandboxContext


def routes(ctx: SandboxContext) -> list[Route]:
    """The routes this API family serves (none yet)."""
    return []
