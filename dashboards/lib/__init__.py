"""Helpers shared by the dashboard pages: the published copy, cached queries, formatting."""
