"""The Dagster code location: the only package that imports Dagster."""
