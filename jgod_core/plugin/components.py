"""Component base classes: what every plugin-provided component declares about itself.

A *plugin* is a module or distribution registered with pluggy; a *component* is one class
it contributes (a factor, an engine, a risk rule, a router, a broker, a data source, a
backtester).  The kernel only ever talks to components through these base classes, so it
knows nothing about any particular factor.

Every component class declares, as class attributes:

- ``name``: the short name pipelines use (``plugin: lac_deviation``);
- ``version``: the component's own version string;
- ``Params``: a frozen pydantic model with ``extra="forbid"`` (defaults, bounds, docs);
- ``requires``: the data kinds it reads (:class:`DataKind`);
- ``phases``: the phases it may run in (:class:`Phase`);
- ``warmup_days(params)``: trading days of history it needs before its first value.

Each base class is a contract: its abstract methods are *required* (a registered class that
leaves one unimplemented is a load error located at the class and naming its distribution), and
``optional_methods`` lists the methods the kernel calls only when a class defines them.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict


class Phase(str, enum.Enum):
    """The three phases of a trading day (SPEC §8)."""

    PRE_MARKET = "pre_market"
    INTRADAY = "intraday"
    POST_MARKET = "post_market"


class DataKind(str, enum.Enum):
    """Kinds of data a component may need. The validator checks them against phases."""

    DAILY_BARS = "daily_bars"
    INDEX_DAILY = "index_daily"
    FUTURES_DAILY = "futures_daily"
    US_MARKET_DAILY = "us_market_daily"
    FX_DAILY = "fx_daily"
    SECURITY_MASTER = "security_master"
    FUNDAMENTALS = "fundamentals"
    INSTITUTIONAL_FLOWS = "institutional_flows"
    MARGIN = "margin"
    BROKER_BRANCHES = "broker_branches"
    NEWS = "news"
    INTRADAY_BARS = "intraday_bars"
    INTRADAY_TICKS = "intraday_ticks"
    ORDER_BOOK_5 = "order_book_5"
    FACTORS = "factors"
    SIGNALS = "signals"

    @property
    def is_live_intraday(self) -> bool:
        """True for data that only exists while the session is running."""
        return self in _LIVE_INTRADAY


_LIVE_INTRADAY = frozenset({DataKind.INTRADAY_TICKS, DataKind.ORDER_BOOK_5, DataKind.INTRADAY_BARS})


class ComponentKind(str, enum.Enum):
    """One kind per hook specification."""

    FACTOR = "factor"
    ENGINE = "engine"
    RISK_RULE = "risk_rule"
    ROUTER = "router"
    BROKER = "broker"
    DATA_SOURCE = "data_source"
    BACKTESTER = "backtester"
    FEED = "feed"
    COMBINER = "combiner"
    PORTFOLIO = "portfolio"
    VENUE = "venue"


class Params(BaseModel):
    """Base class for component params: frozen, unknown keys rejected, NaN/inf rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class NoParams(Params):
    """Params model of a component that takes none."""


ParamsT = TypeVar("ParamsT", bound=Params)

ALL_PHASES = frozenset(Phase)


class Component(Generic[ParamsT]):
    """Base of every component. Subclasses set the class attributes below."""

    kind: ClassVar[ComponentKind]
    name: ClassVar[str]
    version: ClassVar[str] = "0.0.0"
    Params: ClassVar[type[Params]] = NoParams
    requires: ClassVar[frozenset[DataKind]] = frozenset()
    phases: ClassVar[frozenset[Phase]] = ALL_PHASES

    def __init__(self, params: ParamsT | None = None) -> None:
        self.params: ParamsT = params if params is not None else self.Params()  # type: ignore[assignment]

    @classmethod
    def warmup_days(cls, params: Params) -> int:
        """Trading days of history needed before the first value (0 when none)."""
        return 0

    @classmethod
    def summary(cls) -> str:
        """First line of the class docstring."""
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"

    #: Methods the kernel calls only when the class defines them (documentation and README table).
    optional_methods: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def required_methods(cls) -> tuple[str, ...]:
        """The methods every class of this kind must implement (the base's abstract methods)."""
        return tuple(sorted(getattr(cls, "__abstractmethods__", ())))

    @classmethod
    def contract_problems(cls) -> list[str]:
        """What this class lacks to meet its kind's contract (empty when it meets it)."""
        missing = sorted(getattr(cls, "__abstractmethods__", ()))
        return [f"required method {', '.join(missing)} not implemented"] if missing else []


class Factor(Component[ParamsT], abc.ABC):
    """A factor: computes named components and a score on a ``symbols × dates`` panel.

    Implement ``compute(panel) -> FactorResult`` (see :mod:`jgod_core.data.panel`).
    """

    kind = ComponentKind.FACTOR

    @abc.abstractmethod
    def compute(self, panel: Any) -> Any:
        """Return a ``FactorResult`` for every symbol and date of ``panel``."""


class Engine(Component[ParamsT]):
    """An engine: consumes factors or data and emits signals, plans or diagnostics.

    No method is required of every engine: a daily engine is declared in a pipeline for its
    params and data needs, and a specialised engine (e.g. an intraday signal) subclasses a
    kernel base that states its own contract.
    """

    kind = ComponentKind.ENGINE


class RiskRule(Component[ParamsT], abc.ABC):
    """A pre-trade risk rule: judges an order and returns a verdict.

    Optional: ``stages`` (``PARENT``/``CHILD``, the order stages the rule judges; both when absent),
    ``evaluate(order, context)`` (a richer verdict used instead of ``check`` when defined) and
    ``pacing()`` (``(max submits, window seconds)``: the paper and live loops space their releases
    to it, so a rate limit is obeyed instead of tripped).
    """

    kind = ComponentKind.RISK_RULE
    optional_methods = ("stages", "evaluate", "pacing")

    @abc.abstractmethod
    def check(self, order: Any, context: Any) -> Any:
        """Judge ``order`` (an :class:`jgod_core.Order` or child) in ``context`` (a
        :class:`jgod_core.RiskContext`); return a :class:`jgod_core.Verdict`."""


class Router(Component[ParamsT], abc.ABC):
    """An execution router: turns a parent order into child orders (slices, schedules).

    ``schedule(approved, market)`` takes only a parent approval minted by the risk engine
    (enforced for every subclass, see :mod:`jgod_core.risk.engine`).
    """

    kind = ComponentKind.ROUTER
    #: The router used when a pipeline names none (at most one installed router may declare it).
    is_default: ClassVar[bool] = False

    @abc.abstractmethod
    def schedule(self, approved: Any, market: Any = None) -> Any:
        """Split the parent approval into a list of :class:`jgod_core.ChildOrder` (each is
        judged again by the risk engine before it may reach a broker)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "schedule" in cls.__dict__:
            from jgod_core.risk.engine import guard_schedule

            cls.schedule = guard_schedule(cls.__dict__["schedule"])


class Broker(Component[ParamsT], abc.ABC):
    """A broker: receives child orders from the risk engine and reports fills.

    ``submit(approved)`` takes only a child approval minted by the risk engine (enforced for
    every subclass, see :mod:`jgod_core.risk.engine`).
    """

    kind = ComponentKind.BROKER
    #: Fills in-process, never at a venue: ``jgod paper`` needs such a broker, ``jgod trade`` refuses it.
    simulated: ClassVar[bool] = False
    #: The broker used when a pipeline names none (at most one installed broker may declare it).
    is_default: ClassVar[bool] = False

    def sends_real_orders(self) -> bool:
        """Whether orders sent now reach a real account (journal and audit mark them ``is_real_trade``).
        A venue broker with a simulation environment overrides this with its params."""
        return not self.simulated

    optional_methods = ("cancel", "open_orders", "drain_fills", "account", "expire_day", "match_prints",
                        "clock_ns", "working")

    @abc.abstractmethod
    def submit(self, approved: Any) -> Any:
        """Send one child approval to the venue; return the :class:`jgod_core.Fill` list known now."""

    @abc.abstractmethod
    def cancel_all(self, reason: str = "") -> Any:
        """Cancel every working order (the kill switch calls this); return their client ids."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "submit" in cls.__dict__:
            from jgod_core.risk.engine import guard_submit

            cls.submit = guard_submit(cls.__dict__["submit"])


class DataSource(Component[ParamsT]):
    """A data source: loads or fetches market data into the store.

    Required: at least one of ``load(store, progress)`` (a whole bundled dataset) and
    ``fetch(client, dataset, symbol, start, end)`` (a connector queried per symbol and range).
    Optional: ``ensure_loaded(store, progress)`` (load only when missing).
    """

    kind = ComponentKind.DATA_SOURCE
    optional_methods = ("load", "fetch", "ensure_loaded")

    @classmethod
    def contract_problems(cls) -> list[str]:
        """A data source must load or fetch: one of the two must be defined."""
        problems = super().contract_problems()
        if not callable(getattr(cls, "load", None)) and not callable(getattr(cls, "fetch", None)):
            problems.append("defines neither load(store, progress) nor fetch(client, dataset, symbol, start, end)")
        return problems


@dataclass(frozen=True)
class ExecutionAssumptions:
    """How a backtester fills a decision made at the close of day ``t``.

    ``lag_days``: trading days from the decision close to the fill (≥ 1, never the same day);
    ``fill_price``: the panel field filled at (``"open"`` or ``"close"`` of the fill day). The
    defaults are what a run without a backtester assumes for its forward returns.
    """

    lag_days: int = 1
    fill_price: str = "open"


class Backtester(Component[ParamsT], abc.ABC):
    """A backtester: turns target weights and prices into trades, equity and costs.

    Optional: ``prepare(panel)`` (per-panel arrays computed once before ``run``).
    """

    kind = ComponentKind.BACKTESTER
    optional_methods = ("prepare",)

    @abc.abstractmethod
    def run(self, panel: Any, target_weights: Any, first_day: int = 0) -> Any:
        """Trade ``target_weights`` (symbols × dates) over ``panel`` from day ``first_day``;
        return a result with ``trades``, ``equity`` and ``initial_cash``."""

    @abc.abstractmethod
    def execution_assumptions(self) -> ExecutionAssumptions:
        """When and at which price a decision at a close trades (the run's forward returns for
        the IC use the same lag and price, so analysis and backtest agree)."""


class Feed(Component[ParamsT], abc.ABC):
    """A realtime feed: an asyncio source of market events (ticks, quotes, snapshots).

    Optional: ``events(date)`` (a whole recorded day at once), ``reference_price(date)``,
    ``decode(message)``, ``backoff`` and ``contiguous_seq`` (reconnect policy of the feed state machine).
    """

    kind = ComponentKind.FEED
    phases = frozenset({Phase.INTRADAY})
    optional_methods = ("events", "reference_price", "decode", "backoff", "contiguous_seq")

    @abc.abstractmethod
    def symbols(self) -> Any:
        """The symbols this feed subscribes to."""

    @abc.abstractmethod
    def transport(self, clock: Any, day: Any = None, source: str = "") -> Any:
        """An async transport with ``connect``, ``subscribe``, ``receive``, ``snapshot``, ``close``."""


class Combiner(Component[ParamsT], abc.ABC):
    """A combiner: turns the factor steps' scores into one score per symbol and date, and signals.

    A pipeline's ``combine:`` section names it (``plugin:``, its params beside it); without
    ``plugin:`` the one installed combiner declaring ``default = True`` is used.
    Optional: ``factor_references(params)`` (factor steps named by the params, checked by ``jgod validate``).
    """

    kind = ComponentKind.COMBINER
    #: True for the combiner a ``combine:`` section without ``plugin:`` means (one per installation).
    default: ClassVar[bool] = False
    optional_methods = ("factor_references",)

    @abc.abstractmethod
    def combine(self, scores: Any, weights: Any) -> Any:
        """Combine ``scores`` (step name → ``(n, t)`` score) with ``weights`` (step name → YAML
        weight) into a :class:`jgod_core.data.panel.Combination`. The value on date ``t`` may
        read factor values of dates ``≤ t`` only: the combiner adds no look-ahead."""

    @abc.abstractmethod
    def signals(self, combination: Any, symbols: Any, dates: Any, date_slice: slice) -> Any:
        """The trading signals of ``combination`` on the dates of ``date_slice``: a pandas frame
        ``date, symbol, score, direction, confidence, reason`` (one row per scored symbol and date)."""

    @classmethod
    def factor_references(cls, params: Params) -> list[tuple[tuple, str, str]]:
        """``(location under the section, step name, what names it)`` of every factor step the
        params name, e.g. ``(("interactions", 0, "term"), "f_c", "interaction term")``."""
        return []


class PortfolioConstructor(Component[ParamsT], abc.ABC):
    """A portfolio constructor: turns the combined score into target weights on decision days.

    A pipeline's ``portfolio:`` section names it (``plugin:``, its params beside it); without
    ``plugin:`` the one installed constructor declaring ``default = True`` is used.
    """

    kind = ComponentKind.PORTFOLIO
    #: True for the constructor a ``portfolio:`` section without ``plugin:`` means (one per installation).
    default: ClassVar[bool] = False

    @abc.abstractmethod
    def target_weights(self, combination: Any, panel: Any, first_day: int, last_day: int) -> Any:
        """Target weights ``(n, t)`` of the panel's symbols: a decision at the close of ``t`` is a
        column with a finite value, only for ``first_day ≤ t ≤ last_day``; NaN keeps a symbol's
        standing target. Column ``t`` reads the combination and the panel up to ``t`` only (the
        backtester adds the execution lag)."""


class Venue(Component[ParamsT], abc.ABC):
    """A trading venue: the calendar, instruments, tick ladder, price bands, fees and settlement of
    one market. The kernel asks the venue these facts and knows no exchange's constants; the
    value types and how a venue is chosen are in :mod:`jgod_core.venue`.

    Prices are floats on the venue's ladder; money is whole currency units; ``as_of`` is the
    date whose rules apply (None: the latest recorded rules).
    """

    kind = ComponentKind.VENUE

    # -- calendar ------------------------------------------------------------------------------

    @property
    @abc.abstractmethod
    def timezone(self) -> str:
        """The IANA name of the venue's zone (e.g. ``Asia/Taipei``): naive local times are read in it."""

    @abc.abstractmethod
    def trading_days(self, start: Any, end: Any) -> Any:
        """The venue's trading days in ``[start, end]`` as a ``datetime64[D]`` array."""

    @abc.abstractmethod
    def is_trading_day(self, day: Any) -> bool:
        """True when the venue has a session on ``day``."""

    @abc.abstractmethod
    def session_hours(self, day: Any) -> tuple[Any, Any]:
        """``(open, close)`` of the regular session on ``day``, as local wall-clock ``datetime.time``."""

    # -- instruments and prices ----------------------------------------------------------------

    @abc.abstractmethod
    def instrument(self, symbol: str, asset_class: Any = None) -> Any:
        """The :class:`jgod_core.venue.Instrument` ``symbol`` trades as (``asset_class``: as the order
        declares it; None: inferred from the symbol). An unknown futures contract is a user error."""

    @abc.abstractmethod
    def tick_size(self, instrument: Any, price: float, as_of: Any = None) -> float:
        """The tick of ``instrument`` at ``price`` under the rules in force on ``as_of``."""

    @abc.abstractmethod
    def round_price(self, instrument: Any, price: float, mode: str = "nearest", as_of: Any = None) -> float:
        """``price`` on the tick ladder of ``instrument`` on ``as_of``; ``mode``: nearest, down or up."""

    @abc.abstractmethod
    def price_band(self, instrument: Any, reference: float, as_of: Any = None) -> tuple[float, float]:
        """``(limit down, limit up)`` around the ``reference`` price on ``as_of``, rounded inward onto the ladder."""

    def is_on_tick(self, instrument: Any, price: float, as_of: Any = None) -> bool:
        """True when ``price`` lies on the ladder of ``instrument`` on ``as_of``."""
        return abs(self.round_price(instrument, price, "nearest", as_of) - price) <= 1e-9

    # -- costs and settlement ------------------------------------------------------------------

    @property
    @abc.abstractmethod
    def commission_rate(self) -> float:
        """The broker commission as a fraction of the notional (before any minimum)."""

    @abc.abstractmethod
    def commission(self, notional: float) -> float:
        """Commission billed on ``notional``, whole currency units (0 for no notional)."""

    @abc.abstractmethod
    def tax(self, instrument: Any, side: Any, notional: float) -> float:
        """Transaction tax on one side (:class:`jgod_core.execution.orders.Side`) of a trade of ``notional``
        in ``instrument``, whole currency units."""

    @abc.abstractmethod
    def settlement_days(self, instrument: Any) -> int:
        """Trading days between a trade of ``instrument`` and its cash settlement (0: the same day)."""

    @abc.abstractmethod
    def daily_bar_slippage(self, instrument: Any, quantity: float, price: float, closes: Any, volumes: Any,
                           impact_coef: float = 0.5) -> Any:
        """Predicted slippage of ``quantity`` units at ``price`` from trailing daily ``closes`` and
        ``volumes`` (an estimate with a ``slippage`` fraction); ``ValueError`` when the window is too thin."""


BASE_CLASS_BY_KIND: dict[ComponentKind, type[Component]] = {
    ComponentKind.FACTOR: Factor,
    ComponentKind.ENGINE: Engine,
    ComponentKind.RISK_RULE: RiskRule,
    ComponentKind.ROUTER: Router,
    ComponentKind.BROKER: Broker,
    ComponentKind.DATA_SOURCE: DataSource,
    ComponentKind.BACKTESTER: Backtester,
    ComponentKind.FEED: Feed,
    ComponentKind.COMBINER: Combiner,
    ComponentKind.PORTFOLIO: PortfolioConstructor,
    ComponentKind.VENUE: Venue,
}
