"""The sandbox: a seeded simulation of a cross-border seller's world, served over HTTP.

Why: every connector, dbt model, action and dashboard is developed and tested against it, so
it speaks the real APIs' formats (Shopify Admin REST 2026-07, our WMS API) from a ground-truth
ledger whose invariants hold exactly, with a clock that reveals new orders and late updates.

- ``world.generate_world``: the ledger (polars frames), vectorized and deterministic per seed.
- ``state.SandboxState``: the world plus its clock (``now``, ``advance``) and views as of now.
- ``shopify`` / ``wms``: payload renderers; ``server``: the HTTP app, ``serve`` and
  ``running_sandbox`` for tests. Run ``python -m ingestion.sandbox`` to serve one.
"""

from ingestion.sandbox.server import SandboxConfig, create_app, running_sandbox, serve
from ingestion.sandbox.state import SandboxState
from ingestion.sandbox.world import World, generate_world

__all__ = [
    "SandboxConfig",
    "SandboxState",
    "World",
    "create_app",
    "generate_world",
    "running_sandbox",
    "serve",
]
