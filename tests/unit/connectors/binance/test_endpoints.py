"""The endpoint registry (connectors/binance/endpoints.py) is the one table: the client's readers,
its poll / slow / carry / optional sets, the weights, capture's files and the paths parse reads
all follow it — and ``pmdesk capture`` writes every payload parse reads."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from binance.client import Client

from app.limits import LIMITS_PER_MINUTE
from connectors.binance import client
from connectors.binance.capture import KNOWN_PATHS, file_name
from connectors.binance.endpoints import (
    API_RESTRICTIONS,
    CM_ACCOUNT,
    REGISTRY,
    SERVER_TIME,
    TICKER_PRICE,
    UM_ACCOUNT,
    Cadence,
)
from connectors.binance.limits import CARRY_PATHS, WEIGHTS, family
from connectors.binance.parse import (
    parse_funding,
    parse_interest_history,
    parse_key_permissions,
    parse_ticker_prices,
    snapshot_from_payloads,
    unbracketed_symbols,
)
from tests.support.paths import BINANCE_DOCS

DOCS = BINANCE_DOCS


def _where(*cadences: Cadence) -> set[str]:
    return {e.path for e in REGISTRY if e.cadence in cadences}


def test_the_client_reads_what_the_registry_lists() -> None:
    assert list(client.ENDPOINTS) == [
        e.path for e in REGISTRY if e.cadence in (Cadence.POLL, Cadence.SLOW)
    ]
    assert set(client.CARRY_ENDPOINTS) == _where(Cadence.CARRY) == CARRY_PATHS
    assert _where(Cadence.SLOW) == client.SLOW_PATHS
    assert {e.path for e in REGISTRY if e.optional} == client.OPTIONAL_PATHS
    assert client.BRACKET_PATHS <= client.SLOW_PATHS
    assert SERVER_TIME in _where(Cadence.START)


def test_every_reader_exists_in_python_binance() -> None:
    """A row's reader is a python-binance ``Client`` method, or the client keeps its own."""
    for e in REGISTRY:
        if e.path in client._OWN_READERS:
            continue
        assert callable(getattr(Client, e.reader, None)), f"{e.path}: Client.{e.reader}"


def test_every_row_cites_its_page_and_a_plausible_weight() -> None:
    for e in REGISTRY:
        assert e.docs.startswith("https://developers.binance.com/docs/"), e.path
        assert 1 <= e.weight <= 50, e.path
        assert WEIGHTS[e.path] == e.weight
        assert family(e.path) in LIMITS_PER_MINUTE, f"{e.path}: no per-minute limit for the gate"


def test_capture_writes_every_payload_a_cycle_reads() -> None:
    """``pmdesk capture`` writes what ``fetch_payloads`` returns: every poll, slow and carry
    endpoint, the UM and CM account payloads among them; ``read_capture`` reads them back."""
    fetched = set(client.ENDPOINTS) | set(client.CARRY_ENDPOINTS)
    assert set(KNOWN_PATHS) == fetched
    assert {UM_ACCOUNT, CM_ACCOUNT} <= set(KNOWN_PATHS)
    assert len({file_name(p) for p in KNOWN_PATHS}) == len(KNOWN_PATHS)


class Recording(Mapping[str, object]):
    """Payloads that note every path a reader asks for (``in``, ``get``, ``[]``)."""

    def __init__(self, payloads: Mapping[str, object]) -> None:
        self._payloads = payloads
        self.asked: set[str] = set()

    def __getitem__(self, path: str) -> object:
        self.asked.add(path)
        return self._payloads[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._payloads)

    def __len__(self) -> int:
        return len(self._payloads)


def _documented() -> dict[str, object]:
    return {
        e.path: json.loads((DOCS / file_name(e.path)).read_text())
        for e in REGISTRY
        if (DOCS / file_name(e.path)).exists()
    }


def test_parse_reads_only_what_capture_writes() -> None:
    """Every path the parsers ask for — over Binance's documented samples and over nothing — is
    one ``pmdesk capture`` writes (the key's permissions are read live, never from a capture)."""
    asked: set[str] = set()
    for payloads in (_documented(), {}):
        seen = Recording(payloads)
        snapshot_from_payloads(seen)
        unbracketed_symbols(seen)
        parse_interest_history(seen)
        for path in CARRY_PATHS - {"/papi/v1/margin/marginInterestHistory"}:
            parse_funding(seen, path)
        if TICKER_PRICE in payloads:
            parse_ticker_prices(seen)
        asked |= seen.asked
    assert asked - set(KNOWN_PATHS) == set(), "parse reads a path capture does not write"
    # and the check can fail: the key check reads a path no capture holds
    keys = Recording({API_RESTRICTIONS: _documented()[API_RESTRICTIONS]})
    parse_key_permissions(keys)
    assert keys.asked - set(KNOWN_PATHS) == {API_RESTRICTIONS}
