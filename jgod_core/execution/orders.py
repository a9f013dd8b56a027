"""Order, child order, fill and risk-verdict models, the order state machine and trading states.

Money is exact: prices are :class:`~decimal.Decimal` on the tick ladder, quantities are whole
shares (``int``), fees and taxes are whole NT$ (``int``). Every model is frozen; a change of an
order's status is a new journal entry, never an in-place edit.

What one unit of an order is (lot size, multiplier, asset class) is the venue's answer
(:mod:`jgod_core.venue`), asked once when the order is built: the venue current at that moment
(:func:`jgod_core.venue.default_venue`).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Mapping

from jgod_core.errors import JGodError
from jgod_core.venue import AssetClass, Instrument, Venue, default_venue

PRICE_QUANTUM = Decimal("0.01")


def to_price(value: Any) -> Decimal:
    """A price as a Decimal with two decimals (every TWSE tick is a multiple of 0.01)."""
    if isinstance(value, Decimal):
        return value.quantize(PRICE_QUANTUM)
    return Decimal(str(round(float(value), 6))).quantize(PRICE_QUANTUM)


class Side(str, enum.Enum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, −1 for a sell (the sign of the position change)."""
        return 1 if self is Side.BUY else -1


class TimeInForce(str, enum.Enum):
    ROD = "ROD"  # rest of day
    IOC = "IOC"
    FOK = "FOK"


class TradingState(str, enum.Enum):
    """Trading states as NautilusTrader defines them.

    ACTIVE: every order is judged by the rules. REDUCING: only orders that reduce exposure
    (and cancels) pass. HALTED: nothing but cancels passes.
    """

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class OrderStatus(str, enum.Enum):
    NEW = "new"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_working(self) -> bool:
        """Sent to the broker and not finished: a halt must cancel it."""
        return self in (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})

ALLOWED_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.NEW: frozenset({OrderStatus.SUBMITTED, OrderStatus.REJECTED, OrderStatus.CANCELLED}),
    OrderStatus.SUBMITTED: frozenset(
        {OrderStatus.ACCEPTED, OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.PARTIALLY_FILLED,
         OrderStatus.FILLED, OrderStatus.EXPIRED}
    ),
    OrderStatus.ACCEPTED: frozenset(
        {OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}
    ),
    OrderStatus.PARTIALLY_FILLED: frozenset(
        {OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}
    ),
    OrderStatus.FILLED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
}


class InvalidTransition(JGodError):
    """An order status change the state machine does not allow (e.g. filled → cancelled)."""


def next_status(current: OrderStatus, new: OrderStatus, client_order_id: str = "?") -> OrderStatus:
    """Validate ``current → new`` and return ``new``; raise :class:`InvalidTransition` otherwise."""
    if new not in ALLOWED_TRANSITIONS[current]:
        raise InvalidTransition(f"order {client_order_id}: {current.value} → {new.value} is not allowed")
    return new


@dataclass(frozen=True)
class Order:
    """A limit order for one instrument, as the strategy asks for it (before risk and routing).

    ``asset`` says which exchange rules judge it: stocks and ETFs (``quantity`` in shares, the
    venue's board lots and tick ladder) or futures (``quantity`` in contracts, the contract's tick
    and multiplier); the venue's :class:`~jgod_core.venue.Instrument` for it is fixed when the
    order is built (an unknown futures contract is an error then). ``is_etf=True`` implies
    ``asset=ETF`` and the reverse. ``reference_price`` is the exchange reference (previous close /
    settlement) the price band is measured from.
    """

    client_order_id: str
    symbol: str
    side: Side
    quantity: int
    limit_price: Decimal
    reference_price: Decimal
    is_etf: bool = False
    odd_lot: bool = False
    time_in_force: TimeInForce = TimeInForce.ROD
    created_at: dt.datetime | None = None
    model_version: str = ""
    reason: str = ""
    asset: AssetClass = AssetClass.STOCK

    def __post_init__(self) -> None:
        if not isinstance(self.quantity, int) or isinstance(self.quantity, bool):
            raise TypeError(f"order {self.client_order_id}: quantity must be an int number of shares or contracts")
        asset = AssetClass(self.asset)
        if self.is_etf and asset is AssetClass.STOCK:
            asset = AssetClass.ETF
        instrument = default_venue().instrument(self.symbol, asset)
        if asset is AssetClass.FUTURE and (self.is_etf or self.odd_lot):
            raise ValueError(f"order {self.client_order_id}: a futures order is neither an ETF nor an odd lot")
        object.__setattr__(self, "_instrument", instrument)
        object.__setattr__(self, "asset", asset)
        object.__setattr__(self, "is_etf", asset is AssetClass.ETF)
        object.__setattr__(self, "limit_price", to_price(self.limit_price))
        object.__setattr__(self, "reference_price", to_price(self.reference_price))

    @property
    def instrument(self) -> Instrument:
        """What the venue said this order's symbol trades as, when the order was built."""
        return self._instrument  # type: ignore[attr-defined]

    @property
    def is_future(self) -> bool:
        return self.asset is AssetClass.FUTURE

    @property
    def lot_size(self) -> int:
        """Units of one lot, the venue's (TWSE: 1,000 shares; TAIFEX: 1 contract)."""
        return self._instrument.lot_size  # type: ignore[attr-defined]

    @property
    def multiplier(self) -> int:
        """Money per unit per 1.0 of price, the venue's (1 for shares, NT$200 per TX point)."""
        return self._instrument.multiplier  # type: ignore[attr-defined]

    @property
    def lots(self) -> float:
        return self.quantity / self.lot_size

    @property
    def notional(self) -> Decimal:
        """Quantity × limit price × multiplier, NT$ (the contract value for futures)."""
        return self.limit_price * self.quantity * self.multiplier

    @property
    def signed_quantity(self) -> int:
        return self.side.sign * self.quantity

    def with_quantity(self, quantity: int) -> "Order":
        return replace(self, quantity=int(quantity))


@dataclass(frozen=True)
class ChildOrder(Order):
    """One slice of a parent order, with its schedule window (minutes after the open)."""

    parent_id: str = ""
    slice_index: int = 0
    start_minute: float = 0.0
    end_minute: float = 270.0


@dataclass(frozen=True)
class Fill:
    """An execution: shares, price, and the costs billed in whole NT$.

    ``basis`` says where the price came from: ``book`` (a recorded order book),
    ``daily_bar_estimate`` (the documented daily-bar slippage model) or ``broker`` (a real fill).
    """

    client_order_id: str
    symbol: str
    side: Side
    quantity: int
    price: Decimal
    commission: int
    tax: int
    ts: dt.datetime | None = None
    basis: str = "broker"
    fill_id: str = ""
    multiplier: int = 1  # NT$ per unit per 1.0 of price (futures: the contract multiplier)

    def __post_init__(self) -> None:
        object.__setattr__(self, "price", to_price(self.price))

    @property
    def notional(self) -> Decimal:
        """Price × quantity × multiplier, NT$ (the contract value for futures)."""
        return self.price * self.quantity * self.multiplier

    @property
    def cash_flow(self) -> Decimal:
        """Cash change of the account in NT$: −(cost + fees) for a buy, proceeds − fees for a sell.

        Futures book their contract value the same way (margin is not modelled), so equity =
        cash + Σ position × mark × multiplier marks them to market correctly.
        """
        return -self.side.sign * self.notional - self.commission - self.tax


class Action(str, enum.Enum):
    APPROVE = "approve"
    REDUCE = "reduce"
    DENY = "deny"


@dataclass(frozen=True)
class Verdict:
    """One rule's judgement of one order.

    ``quantity`` is the quantity the rule lets through (the order's own on APPROVE, smaller on
    REDUCE, 0 on DENY); ``reason`` is a sentence naming the rule and its numbers; ``numbers``
    holds the same figures for the journal. ``state_request`` asks the engine to move to a
    trading state (daily loss, circuit breaker); ``slice_factor`` < 1 asks for finer slices.
    """

    rule: str
    action: Action
    reason: str
    quantity: int
    numbers: Mapping[str, Any] = field(default_factory=dict)
    state_request: TradingState | None = None
    slice_factor: float = 1.0
    max_slice_shares: int | None = None

    @property
    def denied(self) -> bool:
        return self.action is Action.DENY

    @classmethod
    def approve(cls, rule: str, order: Order, reason: str = "ok", **numbers: Any) -> "Verdict":
        return cls(rule, Action.APPROVE, reason, order.quantity, numbers)

    @classmethod
    def deny(cls, rule: str, reason: str, state_request: TradingState | None = None, **numbers: Any) -> "Verdict":
        return cls(rule, Action.DENY, reason, 0, numbers, state_request)

    @classmethod
    def reduce(cls, rule: str, quantity: int, reason: str, slice_factor: float = 1.0, **numbers: Any) -> "Verdict":
        if quantity <= 0:
            return cls(rule, Action.DENY, reason, 0, numbers, None, slice_factor)
        return cls(rule, Action.REDUCE, reason, int(quantity), numbers, None, slice_factor)

    def to_record(self, order: Order) -> dict[str, Any]:
        """A flat row for the verdict journal."""
        return {
            "client_order_id": order.client_order_id,
            "symbol": order.symbol,
            "side": order.side.value,
            "requested_quantity": order.quantity,
            "rule": self.rule,
            "action": self.action.value,
            "approved_quantity": self.quantity,
            "reason": self.reason,
            "numbers": {k: (float(v) if isinstance(v, Decimal) else v) for k, v in self.numbers.items()},
            "state_request": self.state_request.value if self.state_request else None,
            "slice_factor": self.slice_factor,
            "max_slice_shares": self.max_slice_shares,
        }


@dataclass(frozen=True)
class AccountReport:
    """What a broker reports about the account before a trading day (``Broker.account()``).

    ``positions``: signed units per symbol (shares; contracts for futures) the broker holds for
    the account, whatever placed them. ``cash``: NT$ the account holds once every trade already
    done has settled (settled balance + net unsettled amounts), None when the broker does not
    report it; ``cash_basis`` says how it was obtained. ``as_of``: the broker's timestamp.
    """

    positions: Mapping[str, int]
    cash: float | None
    cash_basis: str = ""
    as_of: dt.datetime | None = None


def whole_lots(shares: float, lot_size: int | None = None) -> int:
    """Shares rounded towards zero to whole lots of ``lot_size`` shares (default: the board lot of a
    stock at the current venue, :func:`jgod_core.venue.default_venue`)."""
    size = lot_size if lot_size is not None else board_lot(default_venue())
    lots = int(abs(shares) // size)
    return (1 if shares >= 0 else -1) * lots * size


def board_lot(venue: Venue) -> int:
    """Shares in one board lot of a stock at ``venue``."""
    return venue.instrument("", AssetClass.STOCK).lot_size
