"""T+n cash settlement of a cash account, one rule for every engine that books trades.

Many venues settle trades by net amount some trading days after the trade (TWSE: T+2, the
number is the venue's, :meth:`jgod_core.plugin.components.Venue.settlement_days`): on each
settlement day the broker debits or credits the account with the net of all trades done
``settlement_days`` trading days earlier. The account's only obligation is to hold that net
payable on the settlement day.

The rule (the one the backtester applies in its loop):

- a trade's cash flow (proceeds − fees − tax for a sell, −(cost + fees) for a buy) is booked on
  the trading day ``j + settlement_days`` and moves from *unsettled* to *settled cash* when that
  day starts;
- **buying power = settled cash + the net of every unsettled amount** — today's and earlier
  unsettled sell proceeds count, earlier buys not yet paid are deducted. It is the balance the
  account holds once everything already done has settled. It never overdraws a settlement day:
  a buy on day T is paid on T+n, and every amount already pending settles on T+n or before, so
  each settlement day's balance was checked non-negative when its last trade was done;
- equity = settled cash + unsettled + positions at the mark.

Days are indices into the caller's trading-day axis (panel dates), so ``settlement_days`` counts
trading days. Futures settle the same day (daily mark-to-market): book them with ``days=0``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def settle_due(pending: np.ndarray, day: int) -> float:
    """Take the amount due on ``day`` out of ``pending`` (it becomes settled cash); returns it."""
    amount = pending[day]
    pending[day] = 0.0
    return amount


@njit(cache=True)
def unsettled_after(pending: np.ndarray, day: int, settlement_days: int) -> float:
    """Net amount booked on days ``day + 1 .. day + settlement_days`` (not yet settled on ``day``)."""
    total = 0.0
    for s in range(day + 1, min(day + settlement_days + 1, pending.shape[0])):
        total += pending[s]
    return total


class SettlementLedger:
    """Settled cash and the pending T+n amounts of one cash account over ``n_days`` trading days."""

    def __init__(self, initial_cash: float, n_days: int, settlement_days: int) -> None:
        self.cash = float(initial_cash)
        self.settlement_days = int(settlement_days)
        self.pending = np.zeros(n_days + self.settlement_days + 1)

    def start_day(self, day: int) -> float:
        """Settle what is due on ``day``; returns the amount that settled."""
        amount = float(settle_due(self.pending, day))
        self.cash += amount
        return amount

    def book(self, day: int, amount: float, days: int | None = None) -> None:
        """A trade's cash flow done on ``day``, settling ``days`` (default: T+settlement_days) later."""
        due = day + (self.settlement_days if days is None else days)
        if due <= day:
            self.cash += amount
        else:
            self.pending[due] += amount

    def unsettled(self, day: int) -> float:
        return float(unsettled_after(self.pending, day, self.settlement_days))

    def buying_power(self, day: int) -> float:
        """Settled cash + the net of the unsettled amounts (see the module docstring)."""
        return self.cash + self.unsettled(day)
