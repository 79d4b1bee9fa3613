"""Where things are, for tests at any depth of tests/unit/ (mirrored on the packages)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root (pyproject.toml, app/, risk/, connectors/)."""
FIXTURES = ROOT / "tests" / "fixtures"
BINANCE_DOCS = FIXTURES / "binance_docs"
"""Samples from Binance's documentation (listed in its SOURCES.md)."""
THIRD_PARTY = FIXTURES / "third_party"
"""Payloads from third-party captures and Binance's generated connectors (PROVENANCE.md)."""
