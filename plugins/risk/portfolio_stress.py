"""Portfolio stress: if a holding went limit-down now, the book's drawdown must stay within limits.

Scenarios on the post-trade book, marked at current prices: each single holding moves to its
limit (long → limit-down, short → limit-up, ±10 % on the ladder), and all holdings at once. The
largest single-name loss must stay within ``max_single_name_drawdown`` and the all-at-once loss
within ``max_book_drawdown`` (fractions of equity); otherwise the order is reduced (whole lots)
or denied. Reducing orders pass.
"""

from __future__ import annotations

from pydantic import Field

from jgod_core import Params, RiskRule
from jgod_core.execution.orders import Order, Verdict
from jgod_core.risk.engine import PARENT
from jgod_plugins.risk._common import fmt_twd
from jgod_plugins.tw_market.instruments import floor_to_lots, futures_contract
from jgod_plugins.tw_market.rules import limit_down, limit_up


class PortfolioStressParams(Params):
    max_single_name_drawdown: float = Field(0.02, gt=0, le=1, description="Largest loss of one holding at its "
                                                                          "limit, fraction of equity.")
    max_book_drawdown: float = Field(0.12, gt=0, le=1, description="Largest loss with every holding at its limit.")


def shock_loss_per_share(price: float, long: bool, is_etf: bool = False, symbol: str = "") -> float:
    """NT$ lost per share (per contract for a TAIFEX futures ``symbol``) when the price jumps to its
    adverse daily limit."""
    contract = futures_contract(symbol) if symbol else None
    if contract is not None:
        move = price - contract.limit_down(price) if long else contract.limit_up(price) - price
        return move * contract.multiplier
    return price - float(limit_down(price, is_etf)) if long else float(limit_up(price, is_etf)) - price


class PortfolioStressRule(RiskRule):
    """Reduces or denies orders that would make a limit-down shock cost more than the limits."""

    name = "portfolio_stress"
    version = "1.0.0"
    Params = PortfolioStressParams
    stages = (PARENT,)

    def check(self, order: Order, context) -> Verdict:
        if not context.increases_exposure(order):
            return Verdict.approve(self.name, order)
        equity = context.equity
        if equity <= 0:
            return Verdict.deny(self.name, f"portfolio_stress: equity {fmt_twd(equity)} is not positive")
        price = float(order.limit_price)
        post = context.position(order.symbol) + order.signed_quantity
        own_loss_per_share = shock_loss_per_share(price, post > 0, order.is_etf,
                                                  order.symbol if order.is_future else "")
        other_loss = 0.0
        worst_other = 0.0
        for symbol, position in context.positions.items():
            if symbol == order.symbol or position == 0:
                continue
            mark = context.mark_prices.get(symbol, 0.0)
            loss = abs(position) * shock_loss_per_share(mark, position > 0, symbol=symbol)
            other_loss += loss
            worst_other = max(worst_other, loss)
        own_loss = abs(post) * own_loss_per_share
        single = max(own_loss, worst_other) / equity
        book = (own_loss + other_loss) / equity
        p = self.params
        numbers = {"single_name_drawdown": single, "book_drawdown": book, "equity": equity,
                   "loss_per_share": own_loss_per_share}
        if single <= p.max_single_name_drawdown and book <= p.max_book_drawdown:
            return Verdict.approve(self.name, order, f"portfolio_stress: limit shock single {single:.2%}, book {book:.2%}",
                                   **numbers)
        cap_single = p.max_single_name_drawdown * equity / own_loss_per_share
        cap_book = max(0.0, p.max_book_drawdown * equity - other_loss) / own_loss_per_share
        allowed_abs_post = floor_to_lots(order, min(cap_single, cap_book))
        allowed_q = order.quantity - (abs(post) - allowed_abs_post)
        return Verdict.reduce(
            self.name, allowed_q,
            f"portfolio_stress: {order.symbol} at its limit would cost single {single:.2%} (max "
            f"{p.max_single_name_drawdown:.2%}), book {book:.2%} (max {p.max_book_drawdown:.2%}); quantity "
            f"{order.quantity} → {max(0, allowed_q)}", **numbers)
