"""Sandbox API: ECB euro reference rates in the ECB's own file formats."""

from __future__ import annotations

from starlette.routing import Route

from ingestion.sandbox.context import SandboxContext


def routes(ctx: SandboxContext) -> list[Route]:
    """The routes this API family serves (none yet)."""
    return []
