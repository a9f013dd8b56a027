"""What the intraday session needs of a pipeline's signal step: :class:`IntradaySignal`.

The session (:mod:`jgod_core.realtime.session`) moves events; it does not know what is computed
from them. One engine step of ``phases.intraday`` subclasses :class:`IntradaySignal` and supplies:

- the processor (:class:`IntradayProcessor`): the per-symbol state the session feeds each batch
  of events to, and whose :meth:`~IntradayProcessor.view` the intraday factor steps score;
- which factor steps it can feed (:meth:`IntradaySignal.accepts`);
- the decision cadence, the cut-off for new positions and the limit price of an order;
- the target position for a combined score (:meth:`IntradaySignal.target`).
"""

from __future__ import annotations

import abc
import datetime as dt
from typing import Any, Mapping, Protocol, Sequence

import numpy as np

from jgod_core.data.events import EventBatch
from jgod_core.plugin.components import Engine, Factor, Phase


class IntradayProcessor(Protocol):
    """The state an intraday signal builds for one session's symbols (fixed order, see ``symbols``)."""

    def process(self, batch: EventBatch) -> int:
        """Apply every event of ``batch`` in order (symbols are positions); return how many were ignored."""

    def last_price(self) -> np.ndarray:
        """Last traded price per symbol (0.0 before the first): marks positions and prices orders."""

    def view(self, exchange_ns: int) -> Any:
        """What the intraday factors' ``compute`` reads at decision time ``exchange_ns``; reads nothing
        after the events applied so far."""


class IntradaySignal(Engine, abc.ABC):
    """Base of the engine step that turns intraday factor scores into target positions.

    The intraday session selects the engine step of ``phases.intraday`` that subclasses this class;
    its factor steps score the processor's :meth:`~IntradayProcessor.view`, weighted by their step
    weights, and the signal turns the sum into a target per tradable symbol.
    """

    phases = frozenset({Phase.INTRADAY})

    @abc.abstractmethod
    def make_processor(self, symbols: Sequence[str], roles: Mapping[str, str],
                       factors: Sequence[Factor]) -> IntradayProcessor:
        """The processor of one session: ``symbols`` in the order of the event batches' positions,
        ``roles`` the symbol of each feed role (a feed's ``role`` param, e.g. ``{"futures": "TX"}``),
        ``factors`` the phase's factor components (their params may set the processor's windows)."""

    def accepts(self, factor: Factor) -> bool:
        """Whether ``factor`` can score this signal's processor view (default: an intraday-phase factor)."""
        return Phase.INTRADAY in factor.phases

    @abc.abstractmethod
    def decision_seconds(self) -> int:
        """A decision every this many exchange seconds (the decision grid)."""

    def decision_settle_ns(self) -> int:
        """Live loop: the decision of grid time t runs at t + this, for events still in transit (default 0)."""
        return 0

    @abc.abstractmethod
    def no_new_orders_after(self) -> dt.time:
        """Exchange local time after which no position may grow."""

    @abc.abstractmethod
    def limit_price(self, last_price: float, buy: bool) -> float:
        """The limit price of an order sent at ``last_price``."""

    @abc.abstractmethod
    def target(self, score: float, current: int) -> int:
        """The target position of a symbol whose combined score is ``score`` and position ``current``."""
