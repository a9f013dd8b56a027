"""The risk engine: the one gate between strategy and execution (NautilusTrader's RiskEngine).

Every order passes here. The engine applies, in order:

1. the trading state — ACTIVE judges by the rules; REDUCING lets through only orders that reduce
   the position they trade; HALTED lets nothing through (cancels go straight to the broker);
2. the pipeline's risk rules, in file order — a rule approves, reduces (the smaller quantity is
   what the next rule sees) or denies with a sentence naming the rule and its numbers, and may
   ask for a trading-state change (daily loss → REDUCING/HALTED, circuit breaker → HALTED);
3. the ``jgod_pretrade_check`` hook (third-party plugins), first non-None result denies.

Only the engine can mint an :class:`ApprovedOrder`: its constructor refuses callers, and its
seal is an HMAC over the order under a key that never leaves this module. Routers and brokers
take nothing else (:func:`require_approved`; :class:`jgod_core.Broker` subclasses have their
``submit`` wrapped automatically), so no code path reaches a broker around the gate.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert, select

from jgod_core.errors import JGodError
from jgod_core.execution.orders import Action, ChildOrder, Order, TradingState, Verdict
from jgod_core.risk.market_view import MarketView
from jgod_core.storage.models import TradingStateChange

PARENT = "parent"
CHILD = "child"
ENGINE_RULE = "risk_engine"
DAILY_LOSS_RULE = "daily_loss"


class UnapprovedOrderError(JGodError):
    """Something other than the risk engine tried to hand an order to an execution component."""


# -- the sealed approval -----------------------------------------------------------------------

_SEAL_KEY = secrets.token_bytes(32)  # process-local; approvals never cross processes


def _seal(order: Order, stage: str, serial: int) -> bytes:
    fields = "|".join(str(v) for v in (
        type(order).__name__, order.client_order_id, order.symbol, order.side.value, order.quantity,
        order.limit_price, order.reference_price, order.is_etf, order.odd_lot, order.time_in_force.value, order.asset.value,
        getattr(order, "parent_id", ""), getattr(order, "slice_index", ""), stage, serial))
    return hmac.new(_SEAL_KEY, fields.encode("utf-8"), hashlib.sha256).digest()


class ApprovedOrder:
    """An order the risk engine let through, with the verdicts behind it. Immutable, sealed.

    Created only by :meth:`RiskEngine.check` / :meth:`RiskEngine.check_child`; ``ApprovedOrder(...)``
    raises. ``max_slice_shares`` and ``slice_factor`` carry the predictive rules' slicing demands.
    """

    __slots__ = ("order", "verdicts", "stage", "slice_factor", "max_slice_shares", "_serial", "_seal")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise UnapprovedOrderError("an ApprovedOrder is minted only by the risk engine")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ApprovedOrder is immutable")

    def __reduce__(self):  # approvals must not be shipped around the gate
        raise TypeError("ApprovedOrder cannot be pickled; send the order through the risk engine of that process")

    @classmethod
    def _mint(cls, order: Order, verdicts: Sequence[Verdict], stage: str, serial: int) -> "ApprovedOrder":
        self = object.__new__(cls)
        factors = [v.slice_factor for v in verdicts] or [1.0]
        caps = [v.max_slice_shares for v in verdicts if v.max_slice_shares]
        for name, value in (("order", order), ("verdicts", tuple(verdicts)), ("stage", stage),
                            ("slice_factor", float(min(factors))), ("max_slice_shares", min(caps) if caps else None),
                            ("_serial", serial), ("_seal", _seal(order, stage, serial))):
            object.__setattr__(self, name, value)
        return self

    def is_genuine(self) -> bool:
        return hmac.compare_digest(self._seal, _seal(self.order, self.stage, self._serial))

    def __repr__(self) -> str:
        return f"ApprovedOrder({self.order.client_order_id}, {self.order.side.value} {self.order.quantity} {self.order.symbol})"


def require_approved(order: Any, stage: str | None = None) -> ApprovedOrder:
    """Return ``order`` if it is a genuine approval (of ``stage``), else raise :class:`UnapprovedOrderError`."""
    if not isinstance(order, ApprovedOrder):
        raise UnapprovedOrderError(
            f"execution components accept only orders approved by the risk engine, got {type(order).__name__}")
    if not order.is_genuine():
        raise UnapprovedOrderError(f"approval of {order.order.client_order_id} is forged or was altered")
    if stage is not None and order.stage != stage:
        raise UnapprovedOrderError(f"order {order.order.client_order_id} is approved as a {order.stage} order, "
                                   f"not as a {stage} order")
    return order


def guard_submit(submit: Callable) -> Callable:
    """Wrap a broker's ``submit(self, approved, ...)`` so it refuses anything but child approvals."""
    if getattr(submit, "__jgod_guarded__", False):
        return submit

    @functools.wraps(submit)
    def guarded(self, approved, *args, **kwargs):
        require_approved(approved, CHILD)
        return submit(self, approved, *args, **kwargs)

    guarded.__jgod_guarded__ = True  # type: ignore[attr-defined]
    return guarded


def guard_schedule(schedule: Callable) -> Callable:
    """Wrap a router's ``schedule(self, approved, ...)`` so it refuses anything but parent approvals."""
    if getattr(schedule, "__jgod_guarded__", False):
        return schedule

    @functools.wraps(schedule)
    def guarded(self, approved, *args, **kwargs):
        require_approved(approved, PARENT)
        return schedule(self, approved, *args, **kwargs)

    guarded.__jgod_guarded__ = True  # type: ignore[attr-defined]
    return guarded


# -- context -----------------------------------------------------------------------------------


@dataclass
class RiskContext:
    """What the rules know when they judge an order (kept current by the caller).

    ``positions`` are signed units (shares, or contracts); ``mark_prices`` the price per unit;
    ``multipliers`` NT$ per unit per 1.0 of price where it is not 1 (futures: the contract
    multiplier); ``equity`` NT$. ``blocked`` names the symbols the realtime health monitor
    blocks (stale, disconnected, resyncing) with the reason; ``last_data`` the exchange time of
    each symbol's latest market data (both read by the ``stale_data`` rule).
    ``return_stream`` / ``residual_stream`` are time-indexed intraday series (portfolio returns per
    update, model residuals) for the circuit breaker; None where the run has no intraday stream.
    """

    now: dt.datetime
    market: MarketView | None = None
    positions: dict[str, int] = field(default_factory=dict)
    mark_prices: dict[str, float] = field(default_factory=dict)
    equity: float = 0.0
    day_start_equity: float = 0.0
    state: TradingState = TradingState.ACTIVE
    stage: str = PARENT
    daily_loss_state: TradingState = TradingState.REDUCING
    seen_client_ids: set[str] = field(default_factory=set)
    submit_times: deque = field(default_factory=lambda: deque(maxlen=100_000))
    rl_multiplier: float = 1.0
    return_stream: pd.Series | None = None
    residual_stream: pd.Series | None = None
    residual_sigma: float | None = None
    multipliers: dict[str, int] = field(default_factory=dict)
    blocked: Mapping[str, str] = field(default_factory=dict)
    last_data: Mapping[str, dt.datetime] = field(default_factory=dict)

    def position(self, symbol: str) -> int:
        return int(self.positions.get(symbol, 0))

    def increases_exposure(self, order: Order) -> bool:
        """True unless the order only shrinks the existing position (never flips it)."""
        return not reduces_exposure(self.position(order.symbol), order)

    def gross_exposure(self) -> float:
        return float(sum(abs(q) * self.mark_prices.get(s, 0.0) * self.multipliers.get(s, 1)
                         for s, q in self.positions.items()))


def reduces_exposure(position: int, order: Order) -> bool:
    """True when ``order`` moves ``position`` towards zero without crossing it."""
    return position != 0 and order.side.sign == -np.sign(position) and order.quantity <= abs(position)


# -- trading state persistence -----------------------------------------------------------------


@dataclass(frozen=True)
class StateChange:
    ts: dt.datetime
    state: TradingState
    reason: str
    actor: str


class TradingStateStore:
    """The trading-state timeline in the store's ``trading_state`` table; the last row is current.

    A second process (``jgod halt``) writes a row; the running engine reads the latest row before
    every decision, so the halt takes effect at the next order and survives restarts.
    """

    def __init__(self, engine: Engine, model_version: str = "", is_real_trade: bool = False) -> None:
        self.engine = engine
        self.model_version = model_version
        self.is_real_trade = is_real_trade
        self._t = TradingStateChange.__table__

    def current(self) -> StateChange:
        t = self._t
        with self.engine.connect() as conn:
            row = conn.execute(select(t).order_by(t.c.id.desc()).limit(1)).first()
        if row is None:
            return StateChange(dt.datetime(1970, 1, 1), TradingState.ACTIVE, "no state recorded", "default")
        return StateChange(row.ts, TradingState(row.state), row.reason or "", row.actor or "")

    def set(self, state: TradingState, reason: str, actor: str, ts: dt.datetime | None = None) -> StateChange:
        ts = (ts or dt.datetime.now(dt.timezone.utc)).replace(tzinfo=None)
        with self.engine.begin() as conn:
            conn.execute(insert(self._t).values(ts=ts, state=state.value, reason=reason, actor=actor,
                                                model_version=self.model_version, is_real_trade=self.is_real_trade))
        return StateChange(ts, state, reason, actor)

    def timeline(self) -> list[StateChange]:
        t = self._t
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.id)).all()
        return [StateChange(r.ts, TradingState(r.state), r.reason or "", r.actor or "") for r in rows]


class MemoryStateStore:
    """An in-process trading-state timeline (tests, benchmarks, dry runs)."""

    def __init__(self) -> None:
        self._rows: list[StateChange] = []

    def current(self) -> StateChange:
        return self._rows[-1] if self._rows else StateChange(dt.datetime(1970, 1, 1), TradingState.ACTIVE,
                                                             "no state recorded", "default")

    def set(self, state: TradingState, reason: str, actor: str, ts: dt.datetime | None = None) -> StateChange:
        change = StateChange((ts or dt.datetime.now(dt.timezone.utc)).replace(tzinfo=None), state, reason, actor)
        self._rows.append(change)
        return change

    def timeline(self) -> list[StateChange]:
        return list(self._rows)


# -- the engine --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """The engine's answer for one order: the approval (or None) and every verdict behind it."""

    order: Order
    approved: ApprovedOrder | None
    verdicts: tuple[Verdict, ...]

    @property
    def denied(self) -> bool:
        return self.approved is None

    @property
    def reason(self) -> str:
        if self.approved is not None:
            return "approved"
        return next((v.reason for v in self.verdicts if v.denied), "denied")


class RiskEngine:
    """Judges orders with the trading state, the rules and the pre-trade hook; mints approvals.

    ``rules`` are built :class:`jgod_core.RiskRule` instances with ``check(order, context)``; a rule
    whose class sets ``stages`` judges only those stages (default: parent and child).
    ``pretrade_hook`` is ``pm.hook.jgod_pretrade_check`` (or None). ``audit`` is an
    :class:`jgod_core.execution.audit.AuditLog` (or None); every verdict and state change is written to it.
    """

    def __init__(self, rules: Sequence[Any], state_store: Any = None, pretrade_hook: Callable | None = None,
                 audit: Any = None, on_daily_loss_limit: TradingState = TradingState.REDUCING,
                 model_version: str = "", clock: Callable[[], dt.datetime] | None = None) -> None:
        self.rules = list(rules)
        self.state_store = state_store if state_store is not None else MemoryStateStore()
        self.pretrade_hook = pretrade_hook
        self.audit = audit
        self.on_daily_loss_limit = on_daily_loss_limit
        self.model_version = model_version
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
        self._serial = 0
        self.verdict_log: list[dict[str, Any]] = []
        self._send_lock = threading.RLock()
        self._halted = False  # in-process kill switch, set under the send lock

    # -- state --------------------------------------------------------------------------------

    @property
    def state(self) -> TradingState:
        state = self.state_store.current().state
        self._halted = state is TradingState.HALTED
        return state

    def transition(self, state: TradingState, reason: str, actor: str = ENGINE_RULE,
                   ts: dt.datetime | None = None) -> StateChange | None:
        """Move to ``state`` (no-op when already there); journaled and audited."""
        with self._send_lock:  # no send can interleave with a state change
            current = self.state_store.current()
            if current.state is state:
                self._halted = state is TradingState.HALTED
                return None
            change = self.state_store.set(state, reason, actor, ts or self.clock())
            self._halted = state is TradingState.HALTED
        if self.audit is not None:
            self.audit.append("trading_state", {"from": current.state.value, "to": state.value, "reason": reason,
                                                "actor": actor}, ts=change.ts)
        return change

    # -- judging ------------------------------------------------------------------------------

    def check(self, order: Order, context: RiskContext) -> Decision:
        """Judge a parent order (the strategy's)."""
        return self._judge(order, context, PARENT)

    def check_child(self, parent: ApprovedOrder, child: ChildOrder, context: RiskContext) -> Decision:
        """Judge one slice of an approved parent: state, market rules and throttle again."""
        require_approved(parent, PARENT)
        if child.parent_id != parent.order.client_order_id or child.symbol != parent.order.symbol \
                or child.side is not parent.order.side:
            raise UnapprovedOrderError(f"child {child.client_order_id} does not belong to {parent.order.client_order_id}")
        return self._judge(child, context, CHILD)

    def _judge(self, order: Order, context: RiskContext, stage: str) -> Decision:
        context.state = self.state
        context.stage = stage
        context.daily_loss_state = self.on_daily_loss_limit
        verdicts: list[Verdict] = []
        gate = self._state_gate(order, context)
        if gate is not None:
            return self._finish(order, context, stage, [gate])
        current = order
        for rule in self.rules:
            if stage not in getattr(type(rule), "stages", (PARENT, CHILD)):
                continue
            verdict = rule.check(current, context)
            verdicts.append(verdict)
            if verdict.state_request is not None:
                self.transition(verdict.state_request, verdict.reason, actor=verdict.rule, ts=context.now)
                context.state = self.state
            if verdict.action is Action.DENY:
                return self._finish(order, context, stage, verdicts)
            if verdict.action is Action.REDUCE and verdict.quantity < current.quantity:
                current = current.with_quantity(verdict.quantity)
        if self.pretrade_hook is not None:
            answer = self.pretrade_hook(order=current, context=context)
            if answer is not None:
                verdicts.append(answer if isinstance(answer, Verdict) else
                                Verdict.deny("jgod_pretrade_check", f"jgod_pretrade_check: {answer}"))
                if verdicts[-1].denied:
                    return self._finish(order, context, stage, verdicts)
        self._serial += 1
        approved = ApprovedOrder._mint(current, verdicts, stage, self._serial)
        context.seen_client_ids.add(order.client_order_id)
        if stage == CHILD:
            context.submit_times.append(context.now.timestamp())
        return self._finish(order, context, stage, verdicts, approved)

    def _state_gate(self, order: Order, context: RiskContext) -> Verdict | None:
        state = context.state
        if state is TradingState.HALTED:
            why = self.state_store.current().reason
            return Verdict.deny("trading_state", f"trading_state: HALTED ({why}); only cancels are accepted",
                                state=state.value)
        if state is TradingState.REDUCING and context.increases_exposure(order):
            position = context.position(order.symbol)
            return Verdict.deny(
                "trading_state",
                f"trading_state: REDUCING; {order.side.value} {order.quantity} {order.symbol} would not reduce the "
                f"position of {position} shares", state=state.value, position=position, quantity=order.quantity)
        return None

    def _finish(self, order: Order, context: RiskContext, stage: str, verdicts: list[Verdict],
                approved: ApprovedOrder | None = None) -> Decision:
        for verdict in verdicts:
            row = verdict.to_record(order)
            row.update(stage=stage, ts=context.now.isoformat(), state=context.state.value)
            self.verdict_log.append(row)
        if self.audit is not None:
            self.audit.append("risk_verdict", {
                "client_order_id": order.client_order_id, "stage": stage,
                "approved_quantity": approved.order.quantity if approved else 0,
                "verdicts": [v.to_record(order) for v in verdicts if v.action is not Action.APPROVE or v.numbers],
            }, ts=context.now)
        return Decision(order, approved, tuple(verdicts))

    def send(self, approved: ApprovedOrder, broker: Any) -> Any:
        """Hand a child approval to ``broker`` unless the engine is HALTED (checked under the send lock,
        so nothing is sent after the HALTED timestamp). Returns the broker's answer, or None when halted."""
        require_approved(approved, CHILD)
        with self._send_lock:
            if self._halted:
                return None
            return broker.submit(approved)

    # -- the kill switch ----------------------------------------------------------------------

    def halt(self, reason: str, actor: str = "operator", brokers: Iterable[Any] = (),
             flatten: bool = False, context: RiskContext | None = None,
             flatten_order: Callable[[str, int], Order] | None = None) -> list[Any]:
        """Go HALTED, cancel every working order at ``brokers``; flatten positions when asked.

        Flatten orders are minted here (exposure-reducing by construction) because HALTED denies
        everything that comes through :meth:`check`. Returns the broker answers (cancels, fills).
        """
        self.transition(TradingState.HALTED, reason, actor, context.now if context is not None else None)
        brokers = list(brokers)
        results: list[Any] = []
        for broker in brokers:
            results.extend(broker.cancel_all(reason))
        if flatten and brokers and context is not None and flatten_order is not None:
            for symbol, position in sorted(context.positions.items()):
                if position == 0:
                    continue
                order = flatten_order(symbol, position)
                if not reduces_exposure(position, order):
                    raise UnapprovedOrderError(f"flatten order for {symbol} would not reduce the position")
                self._serial += 1
                verdict = Verdict.approve("flatten_on_halt", order, f"flatten_on_halt: closing {position} shares")
                approved = ApprovedOrder._mint(order, [verdict], CHILD, self._serial)
                self._finish(order, context, CHILD, [verdict], approved)
                results.append(brokers[0].submit(approved))  # flatten at the primary broker
        return results

    def monitor(self, context: RiskContext, brokers: Iterable[Any] = (), flatten: bool = False,
                flatten_order: Callable[[str, int], Order] | None = None,
                on_results: Callable[[list[Any]], None] | None = None) -> Verdict | None:
        """Between orders (each intraday update): ask every rule with ``evaluate(context)`` (the circuit
        breaker); the first that requests HALTED halts the engine, cancels and flattens. Returns it.

        Already HALTED: nothing to judge (a halt is lifted only by a person). ``on_results`` receives
        the broker answers of the halt (cancels, flatten fills)."""
        if self.state is TradingState.HALTED:
            return None
        for rule in self.rules:
            evaluate = getattr(rule, "evaluate", None)
            verdict = evaluate(context) if evaluate is not None else None
            if verdict is not None and verdict.state_request is TradingState.HALTED:
                results = self.halt(verdict.reason, verdict.rule, brokers, flatten, context, flatten_order)
                if on_results is not None:
                    on_results(results)
                return verdict
        return None

    def resume(self, reason: str = "resumed by operator", actor: str = "operator") -> None:
        self.transition(TradingState.ACTIVE, reason, actor)

    def start_session(self, ts: dt.datetime) -> StateChange | None:
        """A new trading day: REDUCING set by the daily loss limit lifts (the limit is per day).

        HALTED, and REDUCING set by anyone else, stay until a person resumes.
        """
        current = self.state_store.current()
        if current.state is TradingState.REDUCING and current.actor == DAILY_LOSS_RULE:
            return self.transition(TradingState.ACTIVE, "new session: the daily loss limit resets", "session_start", ts)
        return None


def approved_parent_children(parent: ApprovedOrder, children: Sequence[ChildOrder]) -> None:
    """Check that a router's children add up to the approved parent (no quantity appears from nowhere)."""
    require_approved(parent, PARENT)
    total = sum(c.quantity for c in children)
    if total != parent.order.quantity:
        raise UnapprovedOrderError(
            f"router produced {total} shares for {parent.order.client_order_id}, approved {parent.order.quantity}")
    for child in children:
        if child.parent_id != parent.order.client_order_id:
            raise UnapprovedOrderError(f"child {child.client_order_id} names parent {child.parent_id!r}")

