"""Plumbing every connector shares: HTTP with rate limits and retries, exact parsing of money
and time, the quarantine for bad records, and the dlt pipeline factory."""
