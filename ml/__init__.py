"""Models as pure functions over polars frames (no Dagster import): demand forecasting, order
risk and the like. Each model is evaluated against a baseline on held-out data; the Dagster
assets that train and apply them live in ``pipelines/defs``."""
