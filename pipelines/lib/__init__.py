"""Helpers shared by the asset domains in ``pipelines/defs``."""
