"""The simulator's published exchange parameters: leverage brackets and collateral tiers.

Shapes follow Binance's tables. The BTCUSDT bracket floors, caps and ratios are Binance's
published USDⓈ-M BTCUSDT brackets as of 2024; the collateral tiers are the simulator's own,
illustrative values. ``cum`` is derived here (never typed by hand) so every table is continuous.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TierRow:
    floor: float
    cap: float
    rate: float
    cum: float
    leverage: float = 0.0


def with_cum(rows: list[tuple[float, float, float, float]], sign: float) -> tuple[TierRow, ...]:
    """Rows of (floor, cap, rate, leverage) → TierRow with the quick-addition cum.

    For brackets (MM = v·rate − cum, sign −1) cum_k = cum_{k−1} + floor_k · (rate_k − rate_{k−1});
    for collateral (value = v·rate + cum, sign +1)
    cum_k = cum_{k−1} + floor_k · (rate_{k−1} − rate_k).
    """
    out: list[TierRow] = []
    cum = 0.0
    for i, (floor, cap, rate, leverage) in enumerate(rows):
        if i:
            cum += floor * (rate - rows[i - 1][2]) * (-sign)
        out.append(TierRow(floor, cap, rate, cum, leverage))
    return tuple(out)


ALT_BRACKETS = with_cum(
    # The simulator's own illustrative schedule for the other USDⓈ-M perpetuals.
    [
        (0, 50_000, 0.01, 75),
        (50_000, 250_000, 0.02, 50),
        (250_000, 1_000_000, 0.05, 20),
        (1_000_000, 5_000_000, 0.1, 10),
        (5_000_000, 20_000_000, 0.125, 5),
        (20_000_000, 50_000_000, 0.25, 2),
        (50_000_000, 9_999_999_999, 0.5, 1),
    ],
    sign=-1.0,
)

UM_BRACKETS: dict[str, tuple[TierRow, ...]] = {
    "BTCUSDT": with_cum(
        [
            (0, 300_000, 0.004, 125),
            (300_000, 800_000, 0.005, 100),
            (800_000, 3_000_000, 0.0065, 75),
            (3_000_000, 12_000_000, 0.01, 50),
            (12_000_000, 50_000_000, 0.02, 25),
            (50_000_000, 65_000_000, 0.025, 20),
            (65_000_000, 150_000_000, 0.05, 10),
            (150_000_000, 320_000_000, 0.1, 5),
            (320_000_000, 400_000_000, 0.125, 4),
            (400_000_000, 530_000_000, 0.15, 3),
            (530_000_000, 800_000_000, 0.25, 2),
            (800_000_000, 1_200_000_000, 0.5, 1),
        ],
        sign=-1.0,
    ),
}
UM_BRACKETS["ETHUSDT"] = UM_BRACKETS["BTCUSDT"]  # illustrative: ETH shares BTC's schedule here
for _alt in ("BNBUSDT", "SOLUSDT", "XRPUSDT"):
    UM_BRACKETS[_alt] = ALT_BRACKETS

CM_BRACKETS: dict[str, tuple[TierRow, ...]] = {
    # The simulator's own illustrative COIN-M schedule, in coin quantity (qtyFloor/qtyCap).
    "BTCUSD_PERP": with_cum(
        [
            (0, 5, 0.004, 125),
            (5, 10, 0.005, 100),
            (10, 20, 0.01, 50),
            (20, 50, 0.025, 20),
            (50, 100, 0.05, 10),
            (100, 200, 0.1, 5),
            (200, 400, 0.125, 4),
            (400, 1_000, 0.15, 3),
            (1_000, 1_500, 0.25, 2),
            (1_500, 9_999_999_999, 0.5, 1),
        ],
        sign=-1.0,
    ),
}

CM_BRACKETS["ETHUSD_PERP"] = CM_BRACKETS["BTCUSD_PERP"]  # illustrative

CM_SYMBOLS: dict[str, tuple[str, float]] = {
    "BTCUSD_PERP": ("BTC", 100.0),
    "ETHUSD_PERP": ("ETH", 10.0),
}
"""COIN-M symbol → (coin, contract size in USD)."""

COLLATERAL_TIERS: dict[str, tuple[TierRow, ...]] = {
    # The simulator's own illustrative tiers (Binance publishes its own via /sapi/v2).
    "USDT": with_cum([(0, 9_999_999_999, 1.0, 0)], sign=1.0),
    "USDC": with_cum([(0, 9_999_999_999, 1.0, 0)], sign=1.0),
    "BTC": with_cum(
        [
            (0, 5_000_000, 0.95, 0),
            (5_000_000, 20_000_000, 0.9, 0),
            (20_000_000, 9_999_999_999, 0.8, 0),
        ],
        sign=1.0,
    ),
    "ETH": with_cum(
        [(0, 2_000_000, 0.95, 0), (2_000_000, 10_000_000, 0.85, 0), (10_000_000, 9e12, 0.7, 0)],
        sign=1.0,
    ),
    "BNB": with_cum([(0, 1_000_000, 0.95, 0), (1_000_000, 9e12, 0.8, 0)], sign=1.0),
    "SOL": with_cum([(0, 1_000_000, 0.9, 0), (1_000_000, 9e12, 0.75, 0)], sign=1.0),
    "XRP": with_cum([(0, 500_000, 0.9, 0), (500_000, 9e12, 0.7, 0)], sign=1.0),
}

UM_SYMBOLS: dict[str, tuple[str, str]] = {
    f"{base}USDT": (base, "USDT") for base in ("BTC", "ETH", "BNB", "SOL", "XRP")
}
"""Symbol → (base asset, margin asset)."""


def tier_value(rows: tuple[TierRow, ...], v: float, sign: float) -> float:
    """v · rate + sign · cum of the row v falls in ([floor, cap); past the last cap, the last)."""
    row = next((r for r in reversed(rows) if v >= r.floor), rows[0])
    return v * row.rate + sign * row.cum
