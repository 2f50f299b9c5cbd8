"""Asset domains: ingestion (dlt), dbt, routing, publish."""
