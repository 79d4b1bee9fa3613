"""The simulator keeps its own table of Binance's published weights and header names
(connectors/simulator/weights.py); the client keeps another (connectors/binance/limits.py).
Held against each other here, so a change to one that the other does not share is noticed."""

from __future__ import annotations

from connectors.binance import limits as client
from connectors.simulator import weights as simulator


def test_weights_agree() -> None:
    assert simulator.WEIGHTS == client.WEIGHTS


def test_limits_and_headers_agree() -> None:
    assert simulator.LIMITS_PER_MINUTE == client.LIMITS_PER_MINUTE
    assert simulator.USED_WEIGHT_HEADER == client.USED_WEIGHT_HEADER == "X-MBX-USED-WEIGHT-1M"
    assert simulator.RETRY_AFTER_HEADER == client.RETRY_AFTER_HEADER == "Retry-After"
    assert simulator.family("/papi/v1/account") == client.family("/papi/v1/account") == "papi"
