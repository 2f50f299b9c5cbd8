"""Sandbox admin API: the ground-truth ledger as of the sandbox clock, one Parquet file per
table, for ``tradelane reconcile`` against a running sandbox.

Why over HTTP: a sandbox started without ``--world`` generated its world in memory, and one
with ``--world`` has moved its clock since, so only the server knows what the APIs may show
now. ``GET /_sandbox/ledger`` returns the manifest (seed, clock, fault profile, tables and
primary keys); ``GET /_sandbox/ledger/<table>.parquet`` one table exactly as
``SandboxState.table_as_of`` has it (exact minor units, UTC timestamps, 64-bit ids). Admin
routes are never faulted.
"""

from __future__ import annotations

import io

import pyarrow.parquet as pq
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingestion.sandbox.context import SandboxContext
from ingestion.sandbox.http_common import json_response
from ingestion.sandbox.world import TABLES

PREFIX = "/_sandbox/ledger"


def routes(ctx: SandboxContext) -> list[Route]:
    """The ledger manifest and tables, as of the clock."""

    def manifest(request: Request) -> Response:
        state = ctx.state
        return json_response(
            {
                "seed": state.world.seed,
                "now": state.now.isoformat(),
                "faults": state.faults.name,
                "parameters": state.world.parameters,
                "primary_keys": {name: list(keys) for name, keys in TABLES.items()},
            }
        )

    def table(request: Request) -> Response:
        name = request.path_params["table"]
        if name not in TABLES:
            return json_response(
                {"error": {"code": "not_found", "message": f"no ledger table {name!r}"}}, 404
            )
        buffer = io.BytesIO()
        pq.write_table(ctx.state.table_as_of(name).to_arrow(), buffer, compression="zstd")
        return Response(buffer.getvalue(), media_type="application/vnd.apache.parquet")

    return [
        Route(PREFIX, manifest, methods=["GET"]),
        Route(PREFIX + "/{table}.parquet", table, methods=["GET"]),
    ]
