"""The simulator's preset accounts: each a book and its hidden truth, built at the start prices.

``PRESETS`` maps a preset's name (``pmdesk demo --preset NAME``) to the function that builds it;
``truth.TRUTH`` has the same names.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.simulator.book import AccountBook
from connectors.simulator.legs import CmLeg, Holding, UmLeg
from connectors.simulator.truth import TRUTH


def _mark(index_usd: dict[str, float], base: str) -> float:
    return round(index_usd[base] / index_usd["USDT"], 4)


def preset_basis(index_usd: dict[str, float]) -> AccountBook:
    """Long 10 BTC spot in the PM wallet, short 10 BTC of BTCUSDT perpetual, 20,000 USDT."""
    btc_usdt = index_usd["BTC"] / index_usd["USDT"]
    return AccountBook(
        name="basis",
        truth=TRUTH["basis"],
        holdings={
            "BTC": Holding(cross_margin_asset=10.0),
            "USDT": Holding(cross_margin_asset=5_000.0, um_wallet=15_000.0),
        },
        um_legs=[UmLeg("BTCUSDT", -10.0, round(btc_usdt, 1))],
    )


def preset_directional(index_usd: dict[str, float]) -> AccountBook:
    """Overlevered long: 15,000 USDT behind 5 BTC and 60 ETH of perpetuals (≈ 30x)."""
    return AccountBook(
        name="directional",
        truth=TRUTH["directional"],
        holdings={"USDT": Holding(um_wallet=15_000.0)},
        um_legs=[
            UmLeg("BTCUSDT", 5.0, _mark(index_usd, "BTC"), leverage=50),
            UmLeg("ETHUSDT", 60.0, _mark(index_usd, "ETH"), leverage=50),
        ],
    )


def preset_coinm_hedger(index_usd: dict[str, float]) -> AccountBook:
    """20 BTC spot plus 1 BTC in the COIN-M wallet, short BTCUSD_PERP for the spot's USD value;
    200 ETH spot hedged with ETHUSD_PERP the same way."""
    btc_contracts = -round(20.0 * index_usd["BTC"] / 100.0)
    eth_contracts = -round(200.0 * index_usd["ETH"] / 10.0)
    return AccountBook(
        name="coinm_hedger",
        truth=TRUTH["coinm_hedger"],
        holdings={
            "BTC": Holding(cross_margin_asset=20.0, cm_wallet=1.0),
            "ETH": Holding(cross_margin_asset=200.0),
            "USDT": Holding(cross_margin_asset=10_000.0),
        },
        cm_legs=[
            CmLeg("BTCUSD_PERP", btc_contracts, round(index_usd["BTC"], 1), leverage=5),
            CmLeg("ETHUSD_PERP", eth_contracts, round(index_usd["ETH"], 2), leverage=5),
        ],
    )


def preset_borrower(index_usd: dict[str, float]) -> AccountBook:
    """A cross-margin USDT loan funding ETH: 100 ETH bought with 200,000 borrowed USDT."""
    return AccountBook(
        name="borrower",
        truth=TRUTH["borrower"],
        holdings={
            "ETH": Holding(cross_margin_asset=100.0),
            "USDT": Holding(cross_margin_asset=0.0, cross_margin_borrowed=200_000.0),
            "BNB": Holding(cross_margin_asset=50.0),
        },
    )


def preset_near_liquidation(index_usd: dict[str, float]) -> AccountBook:
    """10 BTC long on 5,600 USDT: uniMMR ≈ 1.2, in the reduce-only band at the start prices."""
    return AccountBook(
        name="near_liquidation",
        truth=TRUTH["near_liquidation"],
        holdings={"USDT": Holding(um_wallet=5_600.0)},
        um_legs=[UmLeg("BTCUSDT", 10.0, _mark(index_usd, "BTC"), leverage=125)],
    )


def preset_borrower_pro(index_usd: dict[str, float]) -> AccountBook:
    """The borrower's holdings on a PM Pro account: it answers margin-asset-leverage (5x for
    its USDT loan, hence 8 % loan MMR) and is valued with the tiered table."""
    book = preset_borrower(index_usd)
    return AccountBook(name="borrower_pro", holdings=book.holdings, truth=TRUTH["borrower_pro"])


def preset_opaque(index_usd: dict[str, float]) -> AccountBook:
    """200 ETH bought partly with a 100,000 USDT loan, valued by the exchange with an ETH haircut
    (50 %) in neither published table: no table choice reproduces its accountEquity.
    uniMMR ≈ 25 at the start prices (350,000 − 100,000 over 10,000)."""
    return AccountBook(
        name="opaque",
        truth=TRUTH["opaque"],
        holdings={
            "ETH": Holding(cross_margin_asset=200.0),
            "USDT": Holding(cross_margin_asset=0.0, cross_margin_borrowed=100_000.0),
        },
    )


PRESETS: dict[str, Callable[[dict[str, float]], AccountBook]] = {
    "basis": preset_basis,
    "directional": preset_directional,
    "coinm_hedger": preset_coinm_hedger,
    "borrower": preset_borrower,
    "near_liquidation": preset_near_liquidation,
    "borrower_pro": preset_borrower_pro,
    "opaque": preset_opaque,
}
