"""The outlooks table: an Outlook written is read back exactly (inf and NaN included), the
newest per account is one indexed query, and pruning never drops an account's newest."""

from __future__ import annotations

import math

from sqlalchemy import inspect, text

from app.store.outlooks import OutlookStore
from app.store.store import Store
from risk.outlook_result import Outlook
from tests.support.outlooks import outlook

T0 = 1_767_225_600_000
HOUR = 3_600_000


def _store(db_url: str) -> Store:
    store = Store(db_url)
    store.create_schema()
    return store


def test_an_outlook_is_read_back_as_written(db_url: str) -> None:
    store = _store(db_url)
    outlooks = OutlookStore(store.engine)
    o = outlook(T0, {1.0: 0.0, 8.0: 0.004, 24.0: 0.025})
    # inf: no MM on any path; NaN: a figure the model could not compute.
    h = o.horizons[0]
    weird = Outlook(
        **{
            **o.__dict__,
            "horizons": (
                type(h)(**{**h.__dict__, "uni_mmr_q05": math.inf, "uni_mmr_q01": math.nan}),
                *o.horizons[1:],
            ),
        }
    )
    outlooks.write("a", weird)
    got = outlooks.latest("a")
    assert got is not None and got.account == "a" and got.computed_at_ms == T0
    back = got.outlook
    assert back.horizons[0].uni_mmr_q05 == math.inf and math.isnan(back.horizons[0].uni_mmr_q01)
    assert back.to_dict() == weird.to_dict()  # every field (NaN and inf as their words)
    assert outlooks.latest("b") is None
    store.close()


def test_newest_per_account_and_unknown_kept_as_words(db_url: str) -> None:
    store = _store(db_url)
    outlooks = OutlookStore(store.engine)
    outlooks.write("a", outlook(T0))
    outlooks.write("b", outlook(T0 + 2 * HOUR, {24.0: 0.5}))
    newest = outlooks.write("a", outlook(T0 + HOUR, unknown="no klines cached for BTCUSDT"))
    found = outlooks.latest("a")
    assert found is not None and found.id == newest
    assert found.outlook.unknown == "no klines cached for BTCUSDT"
    assert found.outlook.horizons == ()
    assert outlooks.latest_id("b") is not None
    with store.engine.connect() as conn:
        row = conn.execute(
            text("SELECT unknown, p_liquidation FROM outlooks WHERE id = :i"), {"i": newest}
        ).one()
        assert tuple(row) == ("no klines cached for BTCUSDT", None)  # unknown: NULL, not 0
        index = {ix["name"]: ix["column_names"] for ix in inspect(conn).get_indexes("outlooks")}
        assert index["ix_outlooks_account_time"] == ["account", "computed_at_ms"]
    store.close()


def test_prune_drops_old_outlooks_but_never_the_newest(db_url: str) -> None:
    store = _store(db_url)
    outlooks = OutlookStore(store.engine)
    for h in range(5):
        outlooks.write("a", outlook(T0 + h * HOUR))
    only = outlooks.write("b", outlook(T0))
    # Cut at T0 + 3 h: a's outlooks of T0, +1 h, +2 h go; b's only (newest) one stays.
    assert outlooks.prune("a", T0 + 3 * HOUR) == 3
    assert outlooks.prune("b", T0 + 3 * HOUR) == 0
    assert outlooks.latest_id("b") == (only, T0)
    with store.engine.connect() as conn:
        times = [
            r[0]
            for r in conn.execute(
                text("SELECT computed_at_ms FROM outlooks WHERE account = 'a' ORDER BY 1")
            )
        ]
    assert times == [T0 + 3 * HOUR, T0 + 4 * HOUR]
    store.close()
