"""The Taiwan venue ``tw``: TWSE stocks and ETFs and TAIFEX index futures, as the kernel asks them.

Each answer comes from this plugin's modules, whose docstrings give the rule and its source:

- calendar: exchange_calendars ``XTAI`` in ``Asia/Taipei`` (:mod:`.calendar`); the regular session
  is the calendar's (09:00–13:30); a day the calendar lacks (a make-up Saturday session present
  in the data) gets the calendar's regular hours;
- instruments: stocks and ETFs in 1,000-share board lots, TX / MTX futures in whole contracts
  with their multipliers; an unknown futures contract is an error (:mod:`.instruments`);
- ticks and ±10 % price bands (±7 % before 2015-06-01), versioned by date (:mod:`.rules`);
- costs: commission 0.1425 % with a NT$20 minimum, sell tax 0.3 % (stocks) / 0.1 % (ETFs),
  futures tax 0.002 % of the contract value on each side (:mod:`.rules`); T+2 settlement of
  securities, same-day for futures (:mod:`.settlement`); the daily-bar slippage estimate
  (:mod:`.impact`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from jgod_core.plugin.components import NoParams, Venue
from jgod_core.venue import AssetClass, Instrument
from jgod_plugins.tw_market import calendar, impact, instruments, rules
from jgod_plugins.tw_market.settlement import SETTLEMENT_DAYS


class TaiwanVenue(Venue[NoParams]):
    """TWSE / TAIFEX: the XTAI calendar, board lots, the tick ladder, price limits, fees and T+2."""

    name = "tw"
    version = "1.0.0"
    Params = NoParams

    # -- calendar ------------------------------------------------------------------------------

    @property
    def timezone(self) -> str:
        return calendar.TIMEZONE

    def trading_days(self, start: Any, end: Any) -> np.ndarray:
        return calendar.trading_days(start, end)

    def is_trading_day(self, day: Any) -> bool:
        return calendar.is_trading_day(day)

    def session_hours(self, day: Any) -> tuple[dt.time, dt.time]:
        cal = calendar.xtai()
        ts = pd.Timestamp(day).normalize()
        if cal.first_session <= ts <= cal.last_session and cal.is_session(ts):
            return (cal.session_open(ts).tz_convert(self.timezone).time(),
                    cal.session_close(ts).tz_convert(self.timezone).time())
        return _in_force(cal.open_times, ts), _in_force(cal.close_times, ts)

    # -- instruments and prices ----------------------------------------------------------------

    def instrument(self, symbol: str, asset_class: Any = None) -> Instrument:
        asset = instruments.asset_class_of(symbol) if asset_class is None else AssetClass(asset_class)
        if asset is AssetClass.FUTURE:
            return Instrument(symbol, asset, 1, instruments.require_contract(symbol).multiplier)
        return Instrument(symbol, asset, rules.BOARD_LOT_SHARES, 1)

    def tick_size(self, instrument: Instrument, price: float, as_of: Any = None) -> float:
        return instruments.tick_at(_OrderLike(instrument), price, as_of)

    def round_price(self, instrument: Instrument, price: float, mode: str = "nearest", as_of: Any = None) -> float:
        return instruments.round_price(_OrderLike(instrument), price, mode, as_of)

    def is_on_tick(self, instrument: Instrument, price: float, as_of: Any = None) -> bool:
        return instruments.on_tick(_OrderLike(instrument), price, as_of)

    def price_band(self, instrument: Instrument, reference: float, as_of: Any = None) -> tuple[float, float]:
        return instruments.price_band(_OrderLike(instrument), reference, as_of)

    # -- costs and settlement ------------------------------------------------------------------

    @property
    def commission_rate(self) -> float:
        return rules.COMMISSION_RATE

    def commission(self, notional: float) -> float:
        return float(rules.commission(notional))

    def tax(self, instrument: Instrument, side: Any, notional: float) -> float:
        if instrument.is_future:
            return float(rules.futures_tax(notional))
        return float(rules.sell_tax(notional, instrument.is_etf)) if _is_sell(side) else 0.0

    def settlement_days(self, instrument: Instrument) -> int:
        return 0 if instrument.is_future else SETTLEMENT_DAYS

    def daily_bar_slippage(self, instrument: Instrument, quantity: float, price: float, closes: Any, volumes: Any,
                           impact_coef: float = 0.5) -> impact.DailyCostEstimate:
        return impact.daily_bar_slippage(quantity, price, closes, volumes, instrument.is_etf, impact_coef)


class _OrderLike:
    """The three attributes the order-level rules of :mod:`.instruments` read, from an instrument."""

    __slots__ = ("symbol", "asset", "is_etf")

    def __init__(self, instrument: Instrument) -> None:
        self.symbol = instrument.symbol
        self.asset = instrument.asset_class
        self.is_etf = instrument.is_etf


def _is_sell(side: Any) -> bool:
    return str(getattr(side, "value", side)).lower() == "sell"


def _in_force(times: tuple[tuple[Any, dt.time], ...], day: pd.Timestamp) -> dt.time:
    """The time of an exchange_calendars ``open_times`` / ``close_times`` table in force on ``day``."""
    current = times[0][1]
    for start, time in times:
        if start is None or pd.Timestamp(start) <= day:
            current = time
    return current
