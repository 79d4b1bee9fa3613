"""The mark that tells pmdesk's own simulator apart from Binance (shared by both connectors)."""

SIMULATOR_HEADER = "X-PMDESK-SIMULATOR"
"""Every response of pmdesk's simulator carries this header set to "1"; Binance's never do."""
