"""Tradelane core: settings, the published warehouse copy, domain actions and the CLI.

Tool-specific code lives in its own top-level folder (``ingestion/`` for dlt, ``dbt_project/``,
``pipelines/`` for Dagster, ``dashboards/`` for Streamlit); this package holds what several of
them share so that each physical thing (the warehouse file, the published copy, the rules file)
is configured in exactly one place.
"""
