"""Helpers shared by test suites (local proxies, fakes)."""
