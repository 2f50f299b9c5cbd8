"""Tradelane's Streamlit dashboards: read-only views over the published copy of the warehouse."""
