"""The simulator's side of the Portfolio Margin user data stream: listenKeys, who listens to which
account, the actions of the control endpoint, and the exchange's own risk watch.

Every change to an account's book goes through here and is pushed, as Binance's events, to the
connections listening on that account's listenKey (``user_stream.py`` serves them): a control
action (fill, transfer, borrow, repay, funding), the funding paid as the clock passes, a crossing
of a uniMMR level (``riskLevelChange``) and, when switched on, the simulator's own liquidation
(``autoclose-`` orders, then loans covered: ``liquidation.py``); an ADL close (``adl``); the
exchange's own uniMMR set apart from the book's (``binance_view``). Faults: ``faults.py``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from connectors.simulator import actions, events, liquidation, wallet_actions
from connectors.simulator.account_payloads import PM_PRO_LEVELS
from connectors.simulator.accounts import SimAccount
from connectors.simulator.book import NO_MAINT_MARGIN_UNI_MMR
from connectors.simulator.events import Event
from connectors.simulator.faults import Faults
from connectors.simulator.listen_keys import KeyState, ListenKeys
from connectors.simulator.market import Quote
from connectors.simulator.params import CM_SYMBOLS
from connectors.simulator.wire import dec

LIQUIDATION_LEVEL = PM_PRO_LEVELS[2]
"""1.05: at or below it the exchange liquidates (the PM Pro ladder, account_payloads)."""
NORMAL = "NORMAL"


def risk_level(uni_mmr: float) -> str:
    """The ``riskLevelChange`` level at this uniMMR: MARGIN_CALL, REDUCE_ONLY, FORCE_LIQUIDATION
    (Binance's three, Event-riskLevelChange) on the PM Pro ladder's levels, else NORMAL (never
    pushed)."""
    margin_call, reduce_only, liquidation, _loss = PM_PRO_LEVELS
    if uni_mmr > margin_call:
        return NORMAL
    if uni_mmr > reduce_only:
        return "MARGIN_CALL"
    if uni_mmr > liquidation:
        return "REDUCE_ONLY"
    return "FORCE_LIQUIDATION"


@dataclass
class Subscription:
    """One websocket connection's queue of the events of its listenKey's account."""

    key: str
    account: str
    events: queue.Queue[Event] = field(default_factory=queue.Queue)


class UserData:
    """listenKeys, listeners, actions and the risk watch of every simulated account."""

    def __init__(
        self,
        accounts: list[SimAccount],
        quote: Callable[[], Quote],
        now_ms: Callable[[], int],
        faults: Faults,
        auto_liquidate: bool = False,
    ) -> None:
        self.accounts = accounts
        self.keys = ListenKeys()
        self.ids = actions.Ids()
        self.auto_liquidate = auto_liquidate
        self._quote = quote
        self._now_ms = now_ms
        self._faults = faults
        self._lock = threading.RLock()  # one change at a time: events leave in book order
        self._subs: list[Subscription] = []
        q = quote()
        self._levels = {a.name: risk_level(a.book.reported_figures(q)["uni_mmr"]) for a in accounts}

    def account(self, name: str | None) -> SimAccount:
        """The named account (the first when none is named); KeyError names the unknown one."""
        if name is None:
            return self.accounts[0]
        for a in self.accounts:
            if a.name == name:
                return a
        raise KeyError(name)

    def _take(self, account: SimAccount, fault: str) -> bool:
        return self._faults.take(fault) or account.faults.take(fault)

    # ---- listenKeys -------------------------------------------------------------------------
    def listen_key(self, account: SimAccount, method: str, key: str | None) -> dict[str, object]:
        """``POST`` / ``PUT`` / ``DELETE /papi/v1/listenKey`` for the account of the API key."""
        now = self._now_ms()
        self.apply_key_faults(now)
        if method == "POST":
            return {"listenKey": self.keys.create(account.name, now)}
        if method == "PUT":
            if self._take(account, "listen_key_invalid"):
                self.keys.expire(account.name, now)  # gone, as -1125 says
            self.keys.keepalive(account.name, key, now)
        else:
            self.keys.close(account.name, key, now)
        return {}

    def apply_key_faults(self, now_ms: int) -> None:
        """``listen_key_expire``: the live keys (all, or one account's) expire now."""
        if self._faults.take("listen_key_expire"):
            self.keys.expire(None, now_ms)
        for a in self.accounts:
            if a.faults.take("listen_key_expire"):
                self.keys.expire(a.name, now_ms)

    def key_state(self, key: str) -> tuple[KeyState, str] | None:
        return self.keys.state(key, self._now_ms())

    # ---- listeners ---------------------------------------------------------------------------
    def subscribe(self, key: str) -> Subscription | None:
        """A queue of the key's account's events from now on; None if the key is not live."""
        with self._lock:
            state = self.key_state(key)
            if state is None or state[0] is not KeyState.LIVE:
                return None
            sub = Subscription(key, state[1])
            self._subs.append(sub)
            # The level as it stands now: a crossing while nobody listened is not pushed late.
            figures = self.account(sub.account).book.reported_figures(self._quote())
            self._levels[sub.account] = risk_level(figures["uni_mmr"])
            return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def publish(self, account: SimAccount, out: list[Event]) -> int:
        """Send the events to the account's listeners, minus the dropped (a fault); returns how
        many were dropped."""
        dropped = 0
        with self._lock:
            listeners = [s for s in self._subs if s.account == account.name]
            if not listeners:
                return 0  # nobody to send to, nothing to drop
            for event in out:
                if self._take(account, "user_event_drop"):
                    dropped += 1
                    continue
                for sub in listeners:
                    sub.events.put(event)
        return dropped

    # ---- the book changing ---------------------------------------------------------------------
    def settle(self, account: SimAccount, q: Quote, now_ms: int) -> None:
        """Interest and funding due by now (before every signed answer, and on each watch):
        the funding paid is pushed as Binance does."""
        with self._lock:
            paid = account.book.settle(q, now_ms)
            if paid:
                rows = [(f.venue, f.symbol, f.asset, f.fee) for f in paid]
                with account.book.lock:
                    out = wallet_actions.funding_events(account.book, rows, now_ms)
                self.publish(account, out)

    def act(self, action: str, params: Mapping[str, str]) -> list[Event]:
        """One action of the control endpoint on ``params["account"]``: the book changes, the
        events are pushed (then any risk-level change and liquidation); returns them all."""
        account = self.account(params.get("account"))
        with self._lock:
            q, now = self._quote(), self._now_ms()
            self.settle(account, q, now)
            with account.book.lock:
                out = self._apply(account, action, params, q, now)
            self.publish(account, out)
            return out + self.check_risk(account, q, now)

    def _apply(
        self, account: SimAccount, action: str, p: Mapping[str, str], q: Quote, now: int
    ) -> list[Event]:
        book, ids = account.book, self.ids
        if action == "fill":
            symbol, side, qty = p["symbol"], p.get("side", "").upper(), float(p["quantity"])
            price = float(p["price"]) if p.get("price") else None
            venue = p.get("venue") or ("cm" if symbol in CM_SYMBOLS else "um")
            fill = {
                "um": actions.fill_um,
                "cm": actions.fill_cm,
                "margin": wallet_actions.fill_margin,
            }
            if venue not in fill:
                raise ValueError(f"venue must be um, cm or margin, not {venue!r}")
            return fill[venue](book, q, now, ids, symbol, side, qty, price, p.get("client_id"))
        if action == "transfer":
            asset, amount = p["asset"], float(p["amount"])
            return wallet_actions.transfer(book, now, ids, asset, amount, p["from"], p["to"])
        if action in ("borrow", "repay"):
            move = wallet_actions.borrow if action == "borrow" else wallet_actions.repay
            return move(book, now, ids, p["asset"], float(p["amount"]))
        if action == "funding":
            return wallet_actions.pay_funding(book, q, now)
        if action == "adl":
            part = float(p["quantity"]) if p.get("quantity") else None
            return liquidation.adl(book, q, now, ids, p["symbol"], part)
        if action == "binance_view":
            book.hide_maint_for(float(p["uni_mmr"]), q)
            return []  # the risk watch pushes the level it crosses
        if action == "check":
            return []
        raise ValueError(
            f"unknown action {action!r}: fill, transfer, borrow, repay, funding, adl, "
            "binance_view, check"
        )

    # ---- the exchange's risk watch -------------------------------------------------------------
    def check_risk(self, account: SimAccount, q: Quote, now_ms: int) -> list[Event]:
        """Push ``riskLevelChange`` when the account's reported uniMMR crosses a level (into
        MARGIN_CALL, REDUCE_ONLY or FORCE_LIQUIDATION; a return to NORMAL is not pushed), and at
        FORCE_LIQUIDATION, when switched on, liquidate (``autoclose-`` orders) and check again."""
        out: list[Event] = []
        with self._lock:
            for _round in range(2):
                level, change = self._level_change(account, q, now_ms)
                out += change
                self.publish(account, change)
                if level != "FORCE_LIQUIDATION" or not self.auto_liquidate or _round:
                    break
                with account.book.lock:
                    closing = liquidation.liquidate(
                        account.book, q, now_ms, self.ids, LIQUIDATION_LEVEL
                    )
                if not closing:
                    break
                out += closing
                self.publish(account, closing)
        return out

    def _level_change(self, account: SimAccount, q: Quote, now_ms: int) -> tuple[str, list[Event]]:
        figures = account.book.reported_figures(q)
        level = risk_level(figures["uni_mmr"])
        if level == self._levels.get(account.name):
            return level, []
        self._levels[account.name] = level
        if level == NORMAL:
            return level, []
        shown = dec(figures["uni_mmr"]) if figures["maint"] > 0 else NO_MAINT_MARGIN_UNI_MMR
        return level, [events.risk_level_change(level, figures, shown, now_ms)]

    def watch(self) -> None:
        """One round of the exchange's own work for every account: key faults, carry due by now
        (funding pushed), the risk watch. The server runs it a few times a second, idle while
        nobody listens and the exchange does not liquidate (no extra price reads then)."""
        with self._lock:
            if not self._subs and not self.auto_liquidate:
                return
            q, now = self._quote(), self._now_ms()
            self.apply_key_faults(now)
            for a in self.accounts:
                self.settle(a, q, now)
                self.check_risk(a, q, now)

    def as_dict(self) -> dict[str, object]:
        """For ``GET /_sim/user``."""
        with self._lock:
            return {
                "auto_liquidate": self.auto_liquidate,
                "levels": dict(self._levels),
                "listeners": [{"account": s.account, "listenKey": s.key} for s in self._subs],
                "listenKeys": self.keys.as_dict(self._now_ms()),
            }
