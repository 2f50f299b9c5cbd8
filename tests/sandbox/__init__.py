"""Tests of the sandbox: ledger, clock, Shopify and WMS APIs over HTTP, rate limits."""
