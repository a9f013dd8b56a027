"""The venue protocol: what the kernel asks a market about, and which venue answers.

Orders, the paper and live loops, the risk view, the scheduler and the panel loader never read
an exchange's constants. They ask a :class:`~jgod_core.plugin.components.Venue` (a component
kind, ``venue``, provided by a plugin such as the built-in Taiwan venue ``tw``):

- **calendar**: ``timezone`` (IANA name), ``trading_days(start, end)``, ``is_trading_day(day)``,
  ``session_hours(day)``;
- **instruments**: ``instrument(symbol, asset_class)`` → :class:`Instrument` (asset class, lot
  size, multiplier); an unknown futures contract is a user error;
- **prices**: ``tick_size`` / ``round_price`` / ``is_on_tick`` at a price and date,
  ``price_band(instrument, reference, as_of)`` (limit down, limit up);
- **costs**: ``commission_rate``, ``commission(notional)``, ``tax(instrument, side, notional)``,
  ``settlement_days(instrument)`` and the ``daily_bar_slippage`` estimate.

Which venue: a pipeline may name one (``venue: tw`` at the top of its YAML, :func:`venue_for`);
otherwise the single installed venue is used, and none or several installed is an error.
Code without a pipeline at hand (an order built in a test, a trading command) asks
:func:`default_venue`: the venue made current with :func:`use_venue`, else the installed one.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterator

from jgod_core.errors import JGodError
from jgod_core.plugin.components import ComponentKind, Venue

if TYPE_CHECKING:
    from jgod_core.plugin.registry import ComponentRegistry

__all__ = ["AssetClass", "Instrument", "Venue", "VenueError", "default_venue", "resolve_venue", "use_venue",
           "venue_for"]


class AssetClass(str, enum.Enum):
    """What one unit of an order is: a share of a stock or an ETF, or a futures contract."""

    STOCK = "stock"
    ETF = "etf"
    FUTURE = "future"


@dataclass(frozen=True)
class Instrument:
    """What a venue says about one symbol: its asset class, the units of one tradable lot and the
    money value of one unit per 1.0 of price (so ``price × quantity × multiplier`` is money)."""

    symbol: str
    asset_class: AssetClass
    lot_size: int
    multiplier: int = 1

    @property
    def is_etf(self) -> bool:
        return self.asset_class is AssetClass.ETF

    @property
    def is_future(self) -> bool:
        return self.asset_class is AssetClass.FUTURE


class VenueError(JGodError):
    """No venue can answer: none or several installed and none named, or an unknown name."""


def resolve_venue(registry: "ComponentRegistry", name: str | None = None, where: str = "") -> Venue:
    """An instance of the venue ``name`` registered in ``registry``; without a name, of the single
    installed venue. ``where`` (``file:line:col``) locates the error when there is no answer."""
    installed = registry.names(ComponentKind.VENUE)
    prefix = f"{where}: error: " if where else ""
    if name is not None:
        entry = registry.get(ComponentKind.VENUE, name)
        if entry is None:
            close = registry.suggest(name, ComponentKind.VENUE)
            hint = f"; did you mean {close!r}?" if close else ""
            raise VenueError(f"{prefix}venue: no venue {name!r} is installed "
                             f"(installed: {', '.join(installed) or 'none'}){hint}")
        return entry.cls()
    if len(installed) == 1:
        return registry.get(ComponentKind.VENUE, installed[0]).cls()  # type: ignore[union-attr]
    if not installed:
        raise VenueError(f"{prefix}no venue is installed: install a venue plugin (the built-in Taiwan venue "
                         "is entry point builtin_tw_market) or check the plugin block-list")
    raise VenueError(f"{prefix}several venues are installed ({', '.join(installed)}): name one with "
                     f"`venue: {installed[0]}` at the top of the pipeline")


def _venue_line(path: str, text: str) -> str:
    """``path:line:col`` of the pipeline's top-level ``venue:`` key (``path`` alone when absent)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(r"venue\s*:", line):
            return f"{path}:{number}:1"
    return path


def venue_for(pipeline: Any) -> Venue:
    """The venue of a validated pipeline: the one its ``venue:`` names, else the single installed one
    (looked up in the pipeline's own plugin registry; cached on the pipeline)."""
    cached = getattr(pipeline, "_jgod_venue", None)
    if cached is not None:
        return cached
    kernel = getattr(pipeline, "kernel", None)
    if kernel is None:  # a stand-in without its own plugins (a test double): the process's venue
        return default_venue()
    name = getattr(pipeline.config, "venue", None)
    venue = resolve_venue(kernel.registry, name, _venue_line(str(pipeline.path), getattr(pipeline, "text", "")))
    try:
        pipeline._jgod_venue = venue
    except AttributeError:  # a frozen or slotted stand-in: no cache
        pass
    return venue


_CURRENT: contextvars.ContextVar[Venue | None] = contextvars.ContextVar("jgod_venue", default=None)


@lru_cache(maxsize=1)
def _installed_venue() -> Venue:
    from jgod_core.plugin.manager import load_kernel

    return resolve_venue(load_kernel().registry)


def default_venue() -> Venue:
    """The venue in use: the one made current by :func:`use_venue`, else the single installed venue
    (resolved once through the plugin registry, then cached)."""
    current = _CURRENT.get()
    return current if current is not None else _installed_venue()


@contextlib.contextmanager
def use_venue(venue: Venue) -> Iterator[Venue]:
    """Make ``venue`` the one :func:`default_venue` returns inside the ``with`` block (this thread
    or task only); orders built inside it ask this venue for their lots and multipliers."""
    token = _CURRENT.set(venue)
    try:
        yield venue
    finally:
        _CURRENT.reset(token)
