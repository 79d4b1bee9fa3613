"""Helpers shared by the test suites (and bench/): books, store cycles, alert reports, sinks."""
