"""dlt sources: one package per system Tradelane reads, each runnable on its own
(``python -m ingestion.<source>``), plus the bundled sandbox that imitates those systems."""
