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
"""

from __future__ import annotations

import abc
import enum
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


class Factor(Component[ParamsT], abc.ABC):
    """A factor: computes named components and a score on a ``symbols × dates`` panel.

    Implement ``compute(panel) -> FactorResult`` (see :mod:`jgod_core.pipeline.panel`).
    """

    kind = ComponentKind.FACTOR

    @abc.abstractmethod
    def compute(self, panel: Any) -> Any:
        """Return a ``FactorResult`` for every symbol and date of ``panel``."""


class Engine(Component[ParamsT]):
    """An engine: consumes factors or data and emits signals, plans or diagnostics."""

    kind = ComponentKind.ENGINE


class RiskRule(Component[ParamsT]):
    """A pre-trade risk rule: judges an order and returns a verdict."""

    kind = ComponentKind.RISK_RULE


class Router(Component[ParamsT]):
    """An execution router: turns a parent order into child orders (slices, schedules).

    ``schedule(approved, market)`` takes only a parent approval minted by the risk engine
    (enforced for every subclass, see :mod:`jgod_core.risk.engine`).
    """

    kind = ComponentKind.ROUTER

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "schedule" in cls.__dict__:
            from jgod_core.risk.engine import guard_schedule

            cls.schedule = guard_schedule(cls.__dict__["schedule"])


class Broker(Component[ParamsT]):
    """A broker: receives child orders from the risk engine and reports fills.

    ``submit(approved)`` takes only a child approval minted by the risk engine (enforced for
    every subclass, see :mod:`jgod_core.risk.engine`).
    """

    kind = ComponentKind.BROKER

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "submit" in cls.__dict__:
            from jgod_core.risk.engine import guard_submit

            cls.submit = guard_submit(cls.__dict__["submit"])


class DataSource(Component[ParamsT]):
    """A data source: loads or fetches market data into the store."""

    kind = ComponentKind.DATA_SOURCE


class Backtester(Component[ParamsT]):
    """A backtester: turns target weights and prices into trades, equity and costs."""

    kind = ComponentKind.BACKTESTER


class Feed(Component[ParamsT]):
    """A realtime feed: an asyncio source of market events (ticks, quotes, snapshots)."""

    kind = ComponentKind.FEED
    phases = frozenset({Phase.INTRADAY})


BASE_CLASS_BY_KIND: dict[ComponentKind, type[Component]] = {
    ComponentKind.FACTOR: Factor,
    ComponentKind.ENGINE: Engine,
    ComponentKind.RISK_RULE: RiskRule,
    ComponentKind.ROUTER: Router,
    ComponentKind.BROKER: Broker,
    ComponentKind.DATA_SOURCE: DataSource,
    ComponentKind.BACKTESTER: Backtester,
    ComponentKind.FEED: Feed,
}
