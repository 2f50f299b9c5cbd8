"""The read-only copy of the warehouse the dashboards read."""
