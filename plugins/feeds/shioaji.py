"""Shioaji (Sinopac) live feed: stock and futures ticks and 5-level bid/ask through the real package."""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal
from typing import Any, Literal, Sequence

from pydantic import Field

from jgod_core import DataKind, Feed, Params
from jgod_core.errors import SecretError
from jgod_core.realtime.events import MarketEvent
from jgod_core.realtime.layout import BOOK, TRADE

_NS = 1_000_000_000


class ShioajiFeedParams(Params):
    stocks: list[str] = Field(default_factory=list, description="Stock codes to subscribe (ticks and bid/ask).")
    futures: list[str] = Field(default_factory=list, description="Futures codes, e.g. 'TXFR1' (near month).")
    api_key_env: str = Field("SHIOAJI_API_KEY", description="Environment variable holding the API key.")
    secret_key_env: str = Field("SHIOAJI_SECRET_KEY", description="Environment variable holding the secret key.")
    simulation: bool = Field(True, description="Log in to Sinopac's simulation environment.")
    stale_after_seconds: float = Field(10.0, gt=0, le=3600, description="No event for this long → stale.")
    tradable: bool = Field(True, description="False: the feed only feeds components.")
    role: Literal["none", "futures", "index", "global"] = Field("none", description="F_Exec role of the "
                                                                                    "first futures code.")


def _ns(value: Any) -> int:
    """A Shioaji datetime (naive, Asia/Taipei) as epoch ns."""
    import pandas as pd

    return int(pd.Timestamp(value).tz_localize("Asia/Taipei").value)


def decode_tick(exchange: Any, tick: Any, receive_ns: int) -> list[MarketEvent]:
    """A ``TickSTKv1`` / ``TickFOPv1`` → one trade (tick_type 1 = buy aggressor, 2 = sell)."""
    side = {1: 1, 2: -1}.get(int(getattr(tick, "tick_type", 0) or 0), 0)
    return [MarketEvent("shioaji", str(tick.code), TRADE, _ns(tick.datetime), receive_ns,
                        price=float(Decimal(str(tick.close))), size=float(tick.volume), side=side)]


def decode_bidask(exchange: Any, bidask: Any, receive_ns: int) -> list[MarketEvent]:
    """A ``BidAskSTKv1`` / ``BidAskFOPv1`` → one 5-level book (prices may be decimal strings)."""
    def five(values: Sequence[Any]) -> list[float]:
        out = [float(Decimal(str(v))) for v in list(values)[:5]]
        return out + [0.0] * (5 - len(out))

    book = five(bidask.bid_price) + five(bidask.bid_volume) + five(bidask.ask_price) + five(bidask.ask_volume)
    return [MarketEvent("shioaji", str(bidask.code), BOOK, _ns(bidask.datetime), receive_ns, book=tuple(book))]


class ShioajiTransport:
    """Transport over the shioaji package: callbacks from its thread are queued onto the loop."""

    def __init__(self, params: ShioajiFeedParams, clock_ns) -> None:
        self.params = params
        self._clock_ns = clock_ns
        self.api = None
        self.queue: asyncio.Queue = asyncio.Queue()
        self.loop: asyncio.AbstractEventLoop | None = None

    def _credentials(self) -> tuple[str, str]:
        key, secret = os.environ.get(self.params.api_key_env), os.environ.get(self.params.secret_key_env)
        if not key or not secret:
            raise SecretError(f"Shioaji credentials missing: set {self.params.api_key_env} and "
                              f"{self.params.secret_key_env} in the environment")
        return key, secret

    async def connect(self) -> None:
        import shioaji as sj

        key, secret = self._credentials()
        self.loop = asyncio.get_running_loop()
        self.api = sj.Shioaji(simulation=self.params.simulation)
        await asyncio.to_thread(self.api.login, api_key=key, secret_key=secret)
        put = self._put
        self.api.quote.set_on_tick_stk_v1_callback(lambda ex, t: put(decode_tick(ex, t, self._clock_ns())))
        self.api.quote.set_on_bidask_stk_v1_callback(lambda ex, b: put(decode_bidask(ex, b, self._clock_ns())))
        self.api.quote.set_on_tick_fop_v1_callback(lambda ex, t: put(decode_tick(ex, t, self._clock_ns())))
        self.api.quote.set_on_bidask_fop_v1_callback(lambda ex, b: put(decode_bidask(ex, b, self._clock_ns())))

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
        return [MarketEvent("shioaji", symbol, TRADE, int(s.ts), now, price=float(s.close), size=0.0)
                for s in shots if float(s.close) > 0]

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
