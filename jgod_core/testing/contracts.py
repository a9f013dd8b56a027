"""Contract checks for plugin components, runnable without pytest.

Each ``check_*`` builds the component, exercises it on the shipped real sample (or the data you
pass) and raises :class:`ContractError` (an ``AssertionError``, so pytest reports it as a failed
assertion) naming the component, the rule it breaks and where; it returns a short report when
the component passes.

- :func:`check_factor` — ``check_factor(MyFactor)``: shapes, warm-up NaN, no look-ahead,
  per-symbol independence (``cross_sectional=True`` or a set of output names exempts outputs that
  are cross-sectional by design, such as a cross-sectional z-score);
- :func:`check_rule` — ``check_rule(MyRule)``: a verdict of the rule for a small real order, at
  both order stages, and the engine's approval through it;
- :func:`check_router` — ``check_router(MyRouter)``: children that add up to the approved parent,
  refusal of anything but a parent approval;
- :func:`check_broker` — ``check_broker(MyBroker)``: refusal of unapproved orders, fills with
  non-negative costs, no double send of one approval, ``cancel_all``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Collection, Mapping

import numpy as np

from jgod_core.testing import kit

__all__ = ["ContractError", "FactorReport", "check_factor", "check_rule", "check_router", "check_broker"]


class ContractError(AssertionError):
    """A component breaks its kind's contract; the message says which rule, where and how to fix it."""


def _fail(component: Any, message: str) -> ContractError:
    name = getattr(component, "name", None) or getattr(component, "__name__", repr(component))
    return ContractError(f"{name}: {message}")


def _check_class(cls: Any, base: type, kind: str) -> None:
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise _fail(cls, f"is not a subclass of jgod_core.{base.__name__} (a {kind} must subclass it)")
    problems = cls.contract_problems() if hasattr(cls, "contract_problems") else []
    if problems:
        raise _fail(cls, "; ".join(problems))
    if not isinstance(getattr(cls, "name", None), str) or not cls.name:
        raise _fail(cls, "has no `name` (the short name pipelines write as `plugin: NAME`)")


def _build(cls: type, params: Any) -> Any:
    if isinstance(params, Mapping):
        params = cls.Params(**params)
    return cls(params if params is not None else cls.Params())


# -- factors ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FactorReport:
    """What :func:`check_factor` checked: the warm-up, the look-ahead cut and the outputs."""

    factor: str
    warmup: int
    cut: int
    cut_date: str
    outputs: tuple[str, ...]
    changed_after_cut: tuple[str, ...]
    per_symbol_checked: tuple[str, ...]
    perturbed_symbol: str | None


def check_factor(cls: type, panel: Any = None, *, params: Any = None, cross_sectional: bool | Collection[str] = False,
                 cut: int | None = None, symbol: str | None = None) -> FactorReport:
    """Check that factor class ``cls`` meets the factor contract on ``panel``.

    ``panel`` defaults to :func:`jgod_core.testing.kit.make_panel` (12 real TWSE symbols,
    2017-05-16 .. 2020-12-31); ``params`` (a params model or a dict) to ``cls.Params()``. Checked:

    1. **shape**: ``compute`` returns a ``FactorResult`` named ``cls.name`` whose score is
       ``(symbols, dates)`` of the panel and whose components are ``(symbols, dates)`` or
       ``(dates,)``; nothing is both a component and missing; the panel is not modified;
    2. **warm-up**: the score is NaN at every date position before ``cls.warmup_days(params)``
       (not filled with 0, a previous value or a shortened window) and has values after it;
    3. **no look-ahead**: every field and series strictly after date position ``cut`` (default:
       half-way between the warm-up and the last date) is replaced by the real values in
       reverse order scaled by a ramp (so anything that reads them sees different numbers); every
       output up to and including ``cut`` must stay bit-for-bit the same, and the score after
       ``cut`` must change (proof that the perturbation reached the factor);
    4. **per-symbol independence**: every field of one symbol (``symbol``, default: the one with
       the most score values) is perturbed the same way over all dates; the other symbols' rows
       of every ``(symbols, dates)`` output must stay bit-for-bit the same. Market-level
       ``(dates,)`` outputs are exempt. ``cross_sectional=True`` exempts every output (the
       factor ranks or standardises across symbols); a collection of names exempts those outputs
       only (e.g. ``{"score"}`` when the score is a cross-sectional z-score of per-symbol
       components).

    Raises :class:`ContractError` on the first broken rule; returns a :class:`FactorReport`.
    """
    from jgod_core.data.panel import FactorResult
    from jgod_core.plugin.components import Factor

    _check_class(cls, Factor, "factor")
    factor = _build(cls, params)
    warmup = cls.warmup_days(factor.params)
    if not isinstance(warmup, (int, np.integer)) or warmup < 0:
        raise _fail(cls, f"warmup_days(params) must be a non-negative int, got {warmup!r}")
    warmup = int(warmup)
    panel = kit.make_panel() if panel is None else panel
    n, t = panel.shape
    if t < warmup + 3:
        raise _fail(cls, f"the panel has {t} dates, too few for a warm-up of {warmup}; pass a longer panel "
                         f"(make_panel(start=..., end=...))")

    # -- 1. shape ----------------------------------------------------------------------------
    before = _snapshot(panel)
    base = factor.compute(panel)
    for name, (kind, original) in before.items():
        current = getattr(panel, kind)[name]
        if not np.array_equal(current, original, equal_nan=True):
            raise _fail(cls, f"compute modified the panel's {kind[:-1]} {name!r} in place; copy before changing values")
    if not isinstance(base, FactorResult):
        raise _fail(cls, f"compute returned {type(base).__name__}, not a jgod_core.FactorResult")
    if base.factor != cls.name:
        raise _fail(cls, f"FactorResult.factor is {base.factor!r}; it must be the factor's name {cls.name!r}")
    outputs = _outputs(base)
    for name, values in outputs.items():
        values = np.asarray(values)
        if name == "score" and values.shape != (n, t):
            raise _fail(cls, f"score has shape {values.shape}, expected (symbols, dates) = {(n, t)}")
        if values.shape not in {(n, t), (t,)}:
            raise _fail(cls, f"component {name!r} has shape {values.shape}, expected {(n, t)} or {(t,)}")
        if not np.issubdtype(values.dtype, np.floating):
            raise _fail(cls, f"{name!r} has dtype {values.dtype}; outputs are float arrays with NaN for no value")
    both = sorted(set(base.components) & set(base.missing))
    if both:
        raise _fail(cls, f"{', '.join(both)} both computed and reported missing")
    for name, reason in base.missing.items():
        if not isinstance(reason, str) or not reason.strip():
            raise _fail(cls, f"missing component {name!r} has no reason (a sentence saying which input is absent)")

    # -- 2. warm-up ---------------------------------------------------------------------------
    score = np.asarray(base.score)
    filled = ~np.isnan(score[:, :warmup])
    if filled.any():
        i, j = np.argwhere(filled)[0]
        raise _fail(cls, f"score has a value ({score[i, j]!r}) at {panel.symbols[i]} {panel.dates[j]}, date position "
                         f"{j} < warmup_days {warmup}: warm-up rows must be NaN, not filled")
    if not np.isfinite(score[:, warmup:]).any():
        raise _fail(cls, f"score has no value after the warm-up of {warmup} dates on a panel of {n} symbols × {t} "
                         "dates (is warmup_days too short, or does compute never produce a value?)")

    # -- 3. no look-ahead ----------------------------------------------------------------------
    if cut is None:
        cut = warmup + (t - 1 - warmup) // 2
    if not 0 <= cut < t - 1:
        raise _fail(cls, f"cut {cut} must lie in 0 .. {t - 2} (there must be dates after it)")
    later = _perturbed_after(panel, cut)
    moved = _outputs(factor.compute(later))
    changed = []
    for name, values in outputs.items():
        if name not in moved:
            raise _fail(cls, f"output {name!r} disappears when only data after {panel.dates[cut]} changes")
        a, b = np.asarray(values)[..., : cut + 1], np.asarray(moved[name])[..., : cut + 1]
        if not np.array_equal(a, b, equal_nan=True):
            where = _first_difference(a, b)
            label = f"{panel.symbols[where[0]]} " if len(where) == 2 else ""
            raise _fail(cls, f"look-ahead: {name!r} at {label}{panel.dates[where[-1]]} (on or before "
                             f"{panel.dates[cut]}) changed when only data after {panel.dates[cut]} changed "
                             f"({a[where]!r} → {b[where]!r}); read only dates <= t for the value at t")
        if not np.array_equal(np.asarray(values)[..., cut + 1:], np.asarray(moved[name])[..., cut + 1:], equal_nan=True):
            changed.append(name)
    if "score" not in changed:
        raise _fail(cls, f"the score after {panel.dates[cut]} did not change when every input after it changed, so "
                         "look-ahead could not be tested; does the factor read the panel?")

    # -- 4. per-symbol independence --------------------------------------------------------------
    exempt = set(outputs) if cross_sectional is True else set(cross_sectional or ())
    checked = [name for name, values in outputs.items() if np.ndim(values) == 2 and name not in exempt]
    perturbed_symbol = None
    if n >= 2:
        row = panel.symbols.index(symbol) if symbol is not None else int(np.argmax(np.isfinite(score).sum(axis=1)))
        perturbed_symbol = panel.symbols[row]
        other = _perturbed_symbol(panel, row)
        shifted = _outputs(factor.compute(other))
        keep = np.arange(n) != row
        for name in checked:
            a, b = np.asarray(outputs[name])[keep], np.asarray(shifted[name])[keep]
            if not np.array_equal(a, b, equal_nan=True):
                i, j = _first_difference(a, b)
                raise _fail(cls, f"{name!r} of {np.asarray(panel.symbols)[keep][i]} at {panel.dates[j]} changed when "
                                 f"only {perturbed_symbol}'s data changed; a per-symbol output must read its own "
                                 "symbol only (pass cross_sectional=True, or the names of the outputs that are "
                                 "cross-sectional by design, to exempt them)")
        if not any(not np.array_equal(np.asarray(outputs[k])[row], np.asarray(shifted[k])[row], equal_nan=True)
                   for k in outputs if np.ndim(outputs[k]) == 2):
            raise _fail(cls, f"no output of {perturbed_symbol} changed when all its data changed; independence "
                             "could not be tested")
    return FactorReport(cls.name, warmup, int(cut), str(panel.dates[cut]), tuple(outputs), tuple(changed),
                        tuple(checked), perturbed_symbol)


def _outputs(result: Any) -> dict[str, np.ndarray]:
    return {"score": result.score, **dict(result.components)}


def _snapshot(panel: Any) -> dict[str, tuple[str, np.ndarray]]:
    snap = {name: ("fields", np.array(values, copy=True)) for name, values in panel.fields.items()}
    snap.update({name: ("series", np.array(values, copy=True)) for name, values in panel.series.items()})
    return snap


def _first_difference(a: np.ndarray, b: np.ndarray) -> tuple[int, ...]:
    differs = ~((a == b) | (np.isnan(a) & np.isnan(b)))
    return tuple(int(k) for k in np.argwhere(differs)[0])


def _scramble(values: np.ndarray, flag: bool) -> np.ndarray:
    """The values along the last axis in reverse order, scaled by a ramp 1.1 → 1.6 (flags only reversed)."""
    out = np.ascontiguousarray(values[..., ::-1], dtype=np.float64).copy()
    if not flag and out.shape[-1]:
        out *= np.linspace(1.1, 1.6, out.shape[-1])
    return out


def _is_flag(name: str) -> bool:
    return name == "halted"


def _perturbed_after(panel: Any, cut: int) -> Any:
    """A new panel: everything after date position ``cut`` scrambled, everything up to it as it was."""
    from jgod_core.data.panel import Panel

    fields = {}
    for name, values in panel.fields.items():
        new = np.array(values, dtype=np.float64, copy=True)
        new[:, cut + 1:] = _scramble(values[:, cut + 1:], _is_flag(name))
        fields[name] = new
    series = {}
    for name, values in panel.series.items():
        new = np.array(values, dtype=np.float64, copy=True)
        new[cut + 1:] = _scramble(values[cut + 1:], _is_flag(name))
        series[name] = new
    return Panel(panel.symbols, panel.dates, fields, series, panel.attributes, panel.missing)


def _perturbed_symbol(panel: Any, row: int) -> Any:
    """A new panel: every field of symbol ``row`` scrambled over all dates, the rest as it was."""
    from jgod_core.data.panel import Panel

    fields = {}
    for name, values in panel.fields.items():
        new = np.array(values, dtype=np.float64, copy=True)
        new[row] = _scramble(values[row], _is_flag(name))
        fields[name] = new
    return Panel(panel.symbols, panel.dates, fields, dict(panel.series), panel.attributes, panel.missing)


# -- risk rules, routers, brokers ----------------------------------------------------------------


def _real_setting(panel: Any, symbol: str, date: Any, lots: int) -> tuple[Any, Any, Any]:
    panel = kit.make_panel() if panel is None else panel
    order = kit.real_order(panel, symbol, date, lots=lots)
    view = kit.market_view(panel, order.created_at.date())
    return panel, order, view


def check_rule(cls: type, *, params: Any = None, panel: Any = None, symbol: str = "2330", date: Any = None,
               lots: int = 1) -> dict[str, Any]:
    """Check that risk-rule class ``cls`` judges a small real order as the engine expects.

    The order: ``lots`` board lots of ``symbol`` at its real close on ``date`` (default: the last
    date of ``panel``, by default :func:`~jgod_core.testing.kit.make_panel`), judged in a
    :func:`~jgod_core.testing.kit.risk_context` with the market as of that date. At each stage the
    rule judges (``stages``, default parent and child) ``check(order, context)`` must return a
    ``jgod_core.Verdict`` named ``cls.name`` with a reason; a REDUCE lets through less than the
    order and more than 0; a DENY lets through 0; the same question asked twice gets the same
    answer; and the risk engine with this one rule answers with a decision (an approval carries
    the rule's verdict). Returns ``{stage: verdict}``.
    """
    from jgod_core.execution.orders import Action, Verdict
    from jgod_core.plugin.components import RiskRule
    from jgod_core.risk.engine import CHILD, PARENT, RiskEngine

    _check_class(cls, RiskRule, "risk rule")
    rule = _build(cls, params)
    panel, order, view = _real_setting(panel, symbol, date, lots)
    verdicts = {}
    for stage in getattr(cls, "stages", (PARENT, CHILD)):
        verdict = rule.check(order, kit.risk_context(market=view, stage=stage))
        if not isinstance(verdict, Verdict):
            raise _fail(cls, f"check returned {type(verdict).__name__} at the {stage} stage, not a jgod_core.Verdict")
        if verdict.rule != cls.name:
            raise _fail(cls, f"verdict names rule {verdict.rule!r}; it must name {cls.name!r} (Verdict.approve(self.name, ...))")
        if not isinstance(verdict.reason, str) or not verdict.reason.strip():
            raise _fail(cls, "verdict has no reason (a sentence naming the rule and its numbers)")
        expected = {Action.APPROVE: lambda q: q == order.quantity, Action.DENY: lambda q: q == 0,
                    Action.REDUCE: lambda q: 0 < q < order.quantity}[verdict.action]
        if not expected(verdict.quantity):
            raise _fail(cls, f"{verdict.action.value} verdict lets through {verdict.quantity} of {order.quantity} shares")
        again = rule.check(order, kit.risk_context(market=view, stage=stage))
        if (again.action, again.quantity) != (verdict.action, verdict.quantity):
            raise _fail(cls, f"the same order in the same context got {verdict.action.value} {verdict.quantity}, "
                             f"then {again.action.value} {again.quantity}; a rule judges, the engine keeps the state")
        verdicts[stage] = verdict
    if PARENT in verdicts:
        decision = RiskEngine([rule]).check(order, kit.risk_context(market=view))
        if decision.approved is not None and not any(v.rule == cls.name for v in decision.approved.verdicts):
            raise _fail(cls, "the engine's approval does not carry the rule's verdict")
        if (decision.approved is None) != (verdicts[PARENT].action is Action.DENY):
            raise _fail(cls, f"the engine decided {decision.reason!r} but the rule said {verdicts[PARENT].reason!r}")
    return verdicts


def _approved_parent(order: Any, view: Any) -> tuple[Any, Any]:
    from jgod_core.risk.engine import RiskEngine

    engine = RiskEngine([])
    parent = engine.check(order, kit.risk_context(market=view)).approved
    return engine, parent


def check_router(cls: type, *, params: Any = None, panel: Any = None, market: Any = None, symbol: str = "2330",
                 date: Any = None, lots: int = 12) -> list[Any]:
    """Check that router class ``cls`` splits a real approved parent order correctly.

    The parent: ``lots`` board lots of ``symbol`` at its real close, approved by a risk engine with
    no rules; ``market`` (default: the sample as of that date) is passed to ``schedule``. The
    router must refuse a raw order and a child approval (:class:`jgod_core.risk.engine.UnapprovedOrderError`);
    its children must be ``ChildOrder`` s of the same symbol and side, in whole lots, with unique
    ids, starting and ending within the session, whose quantities add up to the parent's; each
    must pass the engine's child check; and scheduling again gives the same children. Returns
    the children.
    """
    from jgod_core.execution.orders import ChildOrder
    from jgod_core.plugin.components import Router
    from jgod_core.risk.engine import UnapprovedOrderError, approved_parent_children

    _check_class(cls, Router, "router")
    router = _build(cls, params)
    panel, order, view = _real_setting(panel, symbol, date, lots)
    market = view if market is None else market
    engine, parent = _approved_parent(order, view)
    _refuses(cls, lambda: router.schedule(order, market), "a raw Order (not approved by the risk engine)")
    children = router.schedule(parent, market)
    if not isinstance(children, list) or not children:
        raise _fail(cls, f"schedule returned {children!r}; it must return a non-empty list of ChildOrder")
    for child in children:
        if not isinstance(child, ChildOrder):
            raise _fail(cls, f"schedule returned a {type(child).__name__}, not a jgod_core.ChildOrder")
        if child.symbol != order.symbol or child.side is not order.side:
            raise _fail(cls, f"child {child.client_order_id} trades {child.side.value} {child.symbol}, the parent "
                             f"{order.side.value} {order.symbol}")
        if child.quantity <= 0 or (not child.odd_lot and child.quantity % child.lot_size):
            raise _fail(cls, f"child {child.client_order_id} has {child.quantity} shares, not whole lots of {child.lot_size}")
        if not 0 <= child.start_minute <= child.end_minute:
            raise _fail(cls, f"child {child.client_order_id} works from minute {child.start_minute} to {child.end_minute}")
    ids = [c.client_order_id for c in children]
    if len(set(ids)) != len(ids):
        raise _fail(cls, f"children reuse client order ids: {ids}")
    try:
        approved_parent_children(parent, children)
    except UnapprovedOrderError as exc:
        raise _fail(cls, str(exc)) from None
    context = kit.risk_context(market=view)
    first_child = engine.check_child(parent, children[0], context).approved
    if first_child is None:
        raise _fail(cls, f"the engine refused child {children[0].client_order_id} of an approved parent")
    _refuses(cls, lambda: router.schedule(first_child, market), "a child approval (routers take parent approvals)")
    again = router.schedule(parent, market)
    if again != children:
        raise _fail(cls, "scheduling the same approval twice gave different children")
    return children


def _refuses(cls: type, call: Callable[[], Any], what: str) -> None:
    from jgod_core.risk.engine import UnapprovedOrderError

    try:
        call()
    except UnapprovedOrderError:
        return
    raise _fail(cls, f"accepted {what}; only approvals minted by the risk engine may pass "
                     "(subclass jgod_core.Router / jgod_core.Broker, which guard schedule/submit)")


def check_broker(cls: type, *, params: Any = None, make: Callable[[], Any] | None = None, panel: Any = None,
                 symbol: str = "2330", date: Any = None, lots: int = 1,
                 setup: Callable[[Any, dict[str, Any]], None] | None = None) -> list[Any]:
    """Check that broker class ``cls`` takes only approved child orders and reports sane fills.

    The broker is ``make()`` (e.g. a broker wired to a recorded session) or ``cls(params)``. The
    order: ``lots`` board lots of ``symbol`` at its real close on ``date``, approved by a risk engine
    with no rules, one child per lot. ``setup(broker, bar)`` runs first with that day's real bar
    (open, high, low, close, volume, reference, is_etf); by default a broker with ``set_day`` (the
    paper broker) gets ``set_day({symbol: bar})``. The broker must refuse a raw child order and a
    parent approval; ``submit(child approval)`` returns a list of ``jgod_core.Fill`` of that order,
    with 0 < quantity <= the child's, a positive price and costs >= 0; submitting the same
    approval again never fills more than the child's quantity; ``cancel_all(reason)`` returns a
    list of client ids, after which ``open_orders()`` (when defined) is empty. Returns the fills.
    """
    from jgod_core.execution.orders import ChildOrder, Fill
    from jgod_core.plugin.components import Broker

    _check_class(cls, Broker, "broker")
    broker = make() if make is not None else _build(cls, params)
    panel, order, view = _real_setting(panel, symbol, date, lots)
    bar = kit.day_bar(panel, symbol, order.created_at.date())
    if setup is not None:
        setup(broker, bar)
    elif callable(getattr(broker, "set_day", None)):
        broker.set_day({symbol: bar})
    engine, parent = _approved_parent(order, view)
    values = {f.name: getattr(order, f.name) for f in dataclasses.fields(order)}
    values.update(client_order_id=f"{order.client_order_id}-001", parent_id=order.client_order_id)
    child = ChildOrder(**values)
    approved = engine.check_child(parent, child, kit.risk_context(market=view)).approved
    _refuses(cls, lambda: broker.submit(child), "a raw ChildOrder (not approved by the risk engine)")
    _refuses(cls, lambda: broker.submit(parent), "a parent approval (brokers take child approvals)")
    fills = broker.submit(approved)
    if not isinstance(fills, list):
        raise _fail(cls, f"submit returned {type(fills).__name__}; it must return a list of jgod_core.Fill")
    retry = broker.submit(approved)
    if not isinstance(retry, list):
        raise _fail(cls, f"a second submit returned {type(retry).__name__}; it must return a list")
    every = fills + retry
    for fill in every:
        if not isinstance(fill, Fill):
            raise _fail(cls, f"submit returned a {type(fill).__name__}, not a jgod_core.Fill")
        if fill.client_order_id != child.client_order_id or fill.symbol != child.symbol or fill.side is not child.side:
            raise _fail(cls, f"fill {fill.fill_id or fill.client_order_id} does not belong to {child.client_order_id}")
        if fill.quantity <= 0 or fill.price <= 0:
            raise _fail(cls, f"fill of {fill.quantity} at {fill.price}: quantity and price must be positive")
        if fill.commission < 0 or fill.tax < 0:
            raise _fail(cls, f"fill costs commission {fill.commission}, tax {fill.tax}: costs are never negative")
    if sum(f.quantity for f in every) > child.quantity:
        raise _fail(cls, f"filled {sum(f.quantity for f in every)} shares of a {child.quantity}-share order: the same "
                         "approval submitted twice was sent twice (submit must be idempotent per client order id)")
    cancelled = broker.cancel_all("check_broker")
    if not isinstance(cancelled, list) or not all(isinstance(c, str) for c in cancelled):
        raise _fail(cls, f"cancel_all returned {cancelled!r}; it must return the cancelled client ids")
    open_orders = getattr(broker, "open_orders", None)
    if callable(open_orders) and open_orders():
        raise _fail(cls, f"orders still open after cancel_all: {[o.client_order_id for o in open_orders()]}")
    return fills
