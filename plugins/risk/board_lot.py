"""Board lots: whole lots of 1,000 shares (odd lots 1–999 only when the odd-lot session is enabled); futures in whole contracts."""

from __future__ import annotations

from pydantic import Field

from jgod_core import Params, RiskRule
from jgod_core.execution.orders import Order, Verdict
from jgod_plugins.tw_market.rules import BOARD_LOT_SHARES


class BoardLotParams(Params):
    odd_lot_enabled: bool = Field(False, description="Accept odd-lot orders (1–999 shares) for the odd-lot session.")
    max_contracts: int = Field(100, ge=1, le=100_000, description="Futures: most contracts in one order "
                                                                   "(TAIFEX caps a TX limit order at 100).")


class BoardLotRule(RiskRule):
    """Denies quantities that are not whole board lots (or valid odd lots when enabled), or not whole contracts."""

    name = "board_lot"
    version = "1.1.0"
    Params = BoardLotParams

    def check(self, order: Order, context) -> Verdict:
        q = order.quantity
        if order.is_future:
            if 1 <= q <= self.params.max_contracts:
                return Verdict.approve(self.name, order)
            return Verdict.deny(self.name, f"board_lot: {q} contracts of {order.symbol}; a futures order is 1–"
                                           f"{self.params.max_contracts} whole contracts", quantity=q)
        if order.odd_lot:
            if not self.params.odd_lot_enabled:
                return Verdict.deny(self.name, f"board_lot: odd-lot order of {q} shares but the odd-lot session is "
                                               "not enabled (board_lot.odd_lot_enabled)", quantity=q)
            if 1 <= q < BOARD_LOT_SHARES:
                return Verdict.approve(self.name, order)
            return Verdict.deny(self.name, f"board_lot: odd-lot quantity {q} must be 1–999 shares", quantity=q)
        if q > 0 and q % BOARD_LOT_SHARES == 0:
            return Verdict.approve(self.name, order)
        return Verdict.deny(self.name, f"board_lot: {q} shares is not a whole number of {BOARD_LOT_SHARES}-share lots",
                            quantity=q, lot=BOARD_LOT_SHARES)
