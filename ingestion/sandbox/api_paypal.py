"""Sandbox API: PayPal Reporting v1 (transactions, 31-day windows)."""

from __future__ import annotations

from starlette.routing import Route

from ingestion.sandbox.context import SandboxContext


def routes(ctx: SandboxContext) -> list[Route]:
    """The routes this API family serves (none yet)."""
    return []
