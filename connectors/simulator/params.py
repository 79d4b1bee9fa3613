"""The simulator's published exchange parameters: leverage brackets and collateral tiers.

Shapes follow Binance's tables: every listed perpetual has its own brackets, with the sources
beside each table (Binance's published USDⓈ-M brackets; its COIN-M leverage FAQ). The collateral
tiers are the simulator's own, illustrative values. ``cum`` is derived here (never typed by
hand) so every table is continuous.
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
    # The other USDⓈ-M perpetuals: floors, caps, ratios and leverage of Binance's own brackets
    # (GET /fapi/v1/leverageBracket) as published in freqtrade/freqtrade,
    # freqtrade/exchange/binance_leverage_tiers.json (commit c9ae5e1e, 2024-10-24), keys
    # "ETH/USDT:USDT", "BNB/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT". Binance revises them
    # by announcement; these are a snapshot, shaped like Binance's, not today's.
    "ETHUSDT": with_cum(
        [
            (0, 50_000, 0.004, 125),
            (50_000, 600_000, 0.005, 100),
            (600_000, 3_000_000, 0.0065, 75),
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
    "BNBUSDT": with_cum(
        [
            (0, 10_000, 0.005, 75),
            (10_000, 50_000, 0.006, 50),
            (50_000, 200_000, 0.01, 40),
            (200_000, 1_500_000, 0.02, 25),
            (1_500_000, 3_000_000, 0.025, 20),
            (3_000_000, 15_000_000, 0.05, 10),
            (15_000_000, 30_000_000, 0.1, 5),
            (30_000_000, 37_500_000, 0.125, 4),
            (37_500_000, 75_000_000, 0.25, 2),
            (75_000_000, 150_000_000, 0.5, 1),
        ],
        sign=-1.0,
    ),
    "SOLUSDT": with_cum(
        [
            (0, 20_000, 0.005, 100),
            (20_000, 100_000, 0.0065, 75),
            (100_000, 800_000, 0.01, 50),
            (800_000, 4_000_000, 0.02, 25),
            (4_000_000, 8_000_000, 0.025, 20),
            (8_000_000, 40_000_000, 0.05, 10),
            (40_000_000, 80_000_000, 0.1, 5),
            (80_000_000, 100_000_000, 0.125, 4),
            (100_000_000, 200_000_000, 0.25, 2),
            (200_000_000, 400_000_000, 0.5, 1),
        ],
        sign=-1.0,
    ),
    "XRPUSDT": with_cum(
        [
            (0, 10_000, 0.005, 75),
            (10_000, 20_000, 0.0065, 50),
            (20_000, 160_000, 0.01, 40),
            (160_000, 800_000, 0.02, 25),
            (800_000, 1_600_000, 0.025, 20),
            (1_600_000, 8_000_000, 0.05, 10),
            (8_000_000, 16_000_000, 0.1, 5),
            (16_000_000, 20_000_000, 0.125, 4),
            (20_000_000, 40_000_000, 0.25, 2),
            (40_000_000, 80_000_000, 0.5, 1),
        ],
        sign=-1.0,
    ),
}

CM_BRACKETS: dict[str, tuple[TierRow, ...]] = {
    # COIN-M, in coin quantity (qtyFloor/qtyCap). Position caps and leverage: Binance FAQ
    # "Leverage and Margin in Coin-Margined Futures Contracts" (faq id
    # be2c7d9d95b04a7e8044ed02dd7dfe5c). BTCUSD perpetual: 5 / 10 / 20 / 50 / 100 / 200 / 400 /
    # 1,000 BTC at 125x … 3x. ETHUSD: 100 / 500 / 1,000 / 2,000 / 4,000 / 6,000 / 8,000 /
    # 10,000 ETH at 100x … 3x, then 2x and 1x. The FAQ gives initial margin only: each tier's
    # MMR is the one Binance's brackets pair with that leverage (125x 0.4 %, 100x 0.5 %,
    # 75x 0.65 %, 50x 1 %, 20x 2.5 %, 10x 5 %, 5x 10 %, 4x 12.5 %, 3x 15 %, 2x 25 %, 1x 50 %,
    # as in the USDⓈ-M tables above); the 2x / 1x split above the last cap is the simulator's.
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
    "ETHUSD_PERP": with_cum(
        [
            (0, 100, 0.005, 100),
            (100, 500, 0.0065, 75),
            (500, 1_000, 0.01, 50),
            (1_000, 2_000, 0.025, 20),
            (2_000, 4_000, 0.05, 10),
            (4_000, 6_000, 0.1, 5),
            (6_000, 8_000, 0.125, 4),
            (8_000, 10_000, 0.15, 3),
            (10_000, 20_000, 0.25, 2),
            (20_000, 9_999_999_999, 0.5, 1),
        ],
        sign=-1.0,
    ),
}

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


MARGIN_DAILY_INTEREST: dict[str, float] = {
    # The simulator's own daily margin interest rates (Binance quotes cross-margin and PM loan
    # rates per day: ``interestRate`` of /papi/v1/margin/marginInterestHistory is "daily
    # interest rate"). Illustrative, in the range Binance's margin-fee page shows: USDT 0.012 %
    # a day (4.38 % a year) charges a 200,000 USDT loan 1 USDT an hour.
    "USDT": 0.00012,
    "USDC": 0.00012,
    "BTC": 0.00002,
    "ETH": 0.00004,
    "BNB": 0.00005,
    "SOL": 0.0001,
    "XRP": 0.0001,
}
