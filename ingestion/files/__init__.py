"""Order exports dropped in a folder (CSV, TSV, XLSX) into ``raw_files``, through column
mappings: for sellers without API access, the same orders and lines the API connectors load.

``<import dir>/<mapping name>/`` holds the exports a mapping reads (``amazon_all_orders/``,
``shopify_orders_export/``, or the user's own in ``<import dir>/mappings/``). Each file loads
once per content and mapping version; a changed file is read again and its orders merged
(an order's lines are replaced whole). Bad rows go to ``quarantine`` with file and row. See
``docs/file-imports.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt

from ingestion.common.quarantine import QUARANTINE_HINTS, QUARANTINE_TABLE
from ingestion.files import settings
from ingestion.files.build import ParsedFile
from ingestion.files.canonical import LINE_KEY, ORDER_KEY
from ingestion.files.folder import pending_files
from tradelane import settings as tradelane_settings

LOADED_STATE_KEY = "loaded_files"


@dlt.source(name=settings.SOURCE_NAME, max_table_nesting=0)
def files_source(import_dir: str | None = None, reload_all: bool = False) -> Any:
    """Orders and order lines from the export files in the drop folder.

    ``reload_all`` reads every file again whatever was loaded before (merges make that
    harmless); by default only new and changed files are read.
    """
    root = Path(import_dir) if import_dir else tradelane_settings.import_dir()

    @dlt.resource(name="export_files", selected=False)
    def export_files() -> Iterator[ParsedFile]:
        """One parsed result per new or changed file. What was loaded is recorded in this
        resource's state, committed by dlt with the load package: a killed run reads the
        files again instead of skipping them."""
        state = dlt.current.resource_state()
        loaded: dict[str, Any] = state.setdefault(LOADED_STATE_KEY, {})
        for pending in pending_files(root, loaded, reload_all):
            yield pending.parsed
            loaded[pending.drop.relative] = pending.marker

    @dlt.transformer(
        data_from=export_files,
        name="orders",
        primary_key=list(ORDER_KEY),
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        schema_contract={"data_type": "freeze"},
    )
    def orders(parsed: ParsedFile) -> Any:
        """One row per order; a file loaded later replaces the order."""
        if parsed.orders:
            yield parsed.orders_table()

    @dlt.transformer(
        data_from=export_files,
        name="order_lines",
        primary_key=list(LINE_KEY),
        # The merge key replaces all lines of a re-loaded order, so a line removed from a
        # changed export does not linger.
        merge_key=list(ORDER_KEY),
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        schema_contract={"data_type": "freeze"},
    )
    def order_lines(parsed: ParsedFile) -> Any:
        """One row per line of an order, numbered in file order."""
        if parsed.lines:
            yield parsed.lines_table()

    @dlt.transformer(data_from=export_files, name=QUARANTINE_TABLE, **QUARANTINE_HINTS)
    def quarantine(parsed: ParsedFile) -> Any:
        """Rows and files refused, with file and row as record id and the reason."""
        if len(parsed.quarantine):
            yield parsed.quarantine.to_arrow()

    return export_files, orders, order_lines, quarantine
