"""Shioaji (Sinopac) live feed: stock and futures ticks and 5-level bid/ask through the real package."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, Literal, Mapping, Sequence

from pydantic import Field

from jgod_core import DataKind, Feed, Params
from jgod_core.config.models import require_env
from jgod_core.data.events import BOOK, INDEX, TRADE, MarketEvent


class ShioajiFeedParams(Params):
    """Subscriptions, credentials (environment variable names), environment and staleness of the Shioaji feed."""

    stocks: list[str] = Field(default_factory=list, description="Stock codes to subscribe (ticks and bid/ask).")
    futures: list[str] = Field(default_factory=list, description="Futures codes, e.g. 'TXFR1' (near month).")
    api_key_env: str = Field("SHIOAJI_API_KEY", description="Environment variable holding the API key.")
    secret_key_env: str = Field("SHIOAJI_SECRET_KEY", description="Environment variable holding the secret key.")
    simulation: bool = Field(True, description="Log in to Sinopac's simulation environment.")
    stale_after_seconds: float = Field(10.0, gt=0, le=3600, description="No event for this long → stale.")
    tradable: bool = Field(True, description="False: the feed only feeds components.")
    role: Literal["none", "futures", "index", "global"] = Field("none", description="F_Exec role of the "
                                                                                    "first futures code.")


STOCK_LOT = 1000  # shares per board lot: board-lot stock ticks and books count lots


def _get(message: Any, name: str, default: Any = None) -> Any:
    """A field of a shioaji object (attribute) or of its JSON / ``to_dict`` form (key)."""
    if isinstance(message, Mapping):
        return message.get(name, default)
    return getattr(message, name, default)


def _exchange_ns(message: Any) -> int:
    """The exchange time (naive Asia/Taipei in shioaji) as epoch ns; objects carry ``datetime``,
    the JSON payloads ``date`` + ``time``."""
    import pandas as pd

    stamp = _get(message, "datetime")
    if stamp is None:
        stamp = f"{_get(message, 'date')} {_get(message, 'time')}"
    return int(pd.Timestamp(stamp).tz_localize("Asia/Taipei").value)


def _is_stock(message: Any) -> bool:
    """Stock messages (TickSTKv1, BidAskSTKv1) carry ``intraday_odd``; futures/options ones do not."""
    return _get(message, "intraday_odd") is not None


def _skip(message: Any) -> bool:
    """Trial matching (``simtrade``: indicative prices before the open/close, not trades) and odd-lot
    messages (another book and unit than the board-lot one this feed trades) are not events."""
    return bool(_get(message, "simtrade", False)) or bool(_get(message, "intraday_odd", False))


def _price(value: Any) -> float:
    return float(Decimal(str(value)))


def decode_tick(tick: Any, receive_ns: int, source: str = "shioaji") -> list[MarketEvent]:
    """A ``TickSTKv1`` / ``TickFOPv1`` (or its JSON) → one trade.

    ``tick_type`` 1 = buyer-initiated (+1), 2 = seller-initiated (−1), else unknown. Size in
    shares for stocks (``volume`` counts board lots) and contracts for futures.
    """
    if _skip(tick):
        return []
    side = {1: 1, 2: -1}.get(int(_get(tick, "tick_type", 0) or 0), 0)
    size = float(_get(tick, "volume")) * (STOCK_LOT if _is_stock(tick) else 1)
    return [MarketEvent(source, str(_get(tick, "code")), TRADE, _exchange_ns(tick), receive_ns,
                        price=_price(_get(tick, "close")), size=size, side=side)]


def decode_bidask(bidask: Any, receive_ns: int, source: str = "shioaji") -> list[MarketEvent]:
    """A ``BidAskSTKv1`` / ``BidAskFOPv1`` (or its JSON) → one 5-level book (sizes as in :func:`decode_tick`)."""
    if _skip(bidask):
        return []
    unit = STOCK_LOT if _is_stock(bidask) else 1

    def five(values: Sequence[Any], scale: float) -> list[float]:
        out = [_price(v) * scale for v in list(values)[:5]]
        return out + [0.0] * (5 - len(out))

    book = (five(_get(bidask, "bid_price"), 1) + five(_get(bidask, "bid_volume"), unit)
            + five(_get(bidask, "ask_price"), 1) + five(_get(bidask, "ask_volume"), unit))
    return [MarketEvent(source, str(_get(bidask, "code")), BOOK, _exchange_ns(bidask), receive_ns, book=tuple(book))]


def decode_snapshot(shot: Any, receive_ns: int, source: str = "shioaji") -> list[MarketEvent]:
    """A ``Snapshot`` (``api.snapshots``) → its last price as a reference event.

    ``Snapshot.ts`` counts nanoseconds of Taipei wall time as if it were UTC (the documented
    ``ts=1779114600000000000`` is the ``2026-05-18T14:30:00`` of the same snapshot's table form),
    so the true epoch is 8 hours earlier. A snapshot without a trade (close 0) gives nothing.
    """
    import pandas as pd

    close = _price(_get(shot, "close"))
    if not close > 0:
        return []
    exchange_ns = int(pd.Timestamp(int(_get(shot, "ts"))).tz_localize("Asia/Taipei").value)
    return [MarketEvent(source, str(_get(shot, "code")), INDEX, exchange_ns, receive_ns, price=close)]


class ShioajiTransport:
    """Transport over the shioaji package: callbacks from its thread are queued onto the loop."""

    def __init__(self, params: ShioajiFeedParams, clock_ns) -> None:
        self.params = params
        self._clock_ns = clock_ns
        self.api = None
        self.queue: asyncio.Queue = asyncio.Queue()
        self.loop: asyncio.AbstractEventLoop | None = None

    def _credentials(self) -> tuple[str, ...]:
        return require_env(self.params.api_key_env, self.params.secret_key_env, purpose="Shioaji credentials")

    async def connect(self) -> None:
        import shioaji as sj

        key, secret = self._credentials()
        self.loop = asyncio.get_running_loop()
        self.api = sj.Shioaji(simulation=self.params.simulation)
        await asyncio.to_thread(self.api.login, api_key=key, secret_key=secret)
        put = self._put
        self.api.quote.set_on_tick_stk_v1_callback(lambda _, t: put(decode_tick(t, self._clock_ns())))
        self.api.quote.set_on_bidask_stk_v1_callback(lambda _, b: put(decode_bidask(b, self._clock_ns())))
        self.api.quote.set_on_tick_fop_v1_callback(lambda _, t: put(decode_tick(t, self._clock_ns())))
        self.api.quote.set_on_bidask_fop_v1_callback(lambda _, b: put(decode_bidask(b, self._clock_ns())))

    def _put(self, events: list[MarketEvent]) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.queue.put_nowait, events)

    def _contract(self, code: str):
        if code in self.params.futures:
            return self.api.Contracts.Futures[code[:3]][code]
        return self.api.Contracts.Stocks[code]

    async def subscribe(self, symbols: Sequence[str]) -> None:
        import shioaji as sj

        for code in symbols:
            contract = self._contract(code)
            for quote_type in (sj.constant.QuoteType.Tick, sj.constant.QuoteType.BidAsk):
                self.api.quote.subscribe(contract, quote_type=quote_type, version=sj.constant.QuoteVersion.v1)

    async def receive(self) -> list[MarketEvent]:
        return await self.queue.get()

    async def snapshot(self, symbol: str) -> list[MarketEvent]:
        """The current snapshot (last price) of ``symbol`` from ``api.snapshots``."""
        shots = await asyncio.to_thread(self.api.snapshots, [self._contract(symbol)])
        now = self._clock_ns()
        return [event for shot in shots for event in decode_snapshot(shot, now)]

    async def close(self) -> None:
        if self.api is not None:
            await asyncio.to_thread(self.api.logout)
            self.api = None


class ShioajiFeed(Feed):
    """Live Sinopac ticks and 5-level bid/ask for stocks and TX futures (shioaji package).

    Credentials come from the environment variables named in the params, never from the file.
    Events carry the exchange timestamp of the tick and the local receive time.
    """

    name = "shioaji"
    version = "1.0.0"
    Params = ShioajiFeedParams

    def data_kinds(self) -> frozenset[DataKind]:
        return frozenset({DataKind.INTRADAY_TICKS, DataKind.ORDER_BOOK_5})

    def symbols(self) -> list[str]:
        return list(self.params.stocks) + list(self.params.futures)

    def transport(self, clock, day=None, source: str = "shioaji") -> ShioajiTransport:
        """The live transport; events are stamped with ``clock.now_ns()`` on receipt."""
        return ShioajiTransport(self.params, clock.now_ns)

    @staticmethod
    def decode(message: list[MarketEvent]) -> list[MarketEvent]:
        return message
