"""Polygon.io live feed: US index futures / index aggregates over the websocket (polygon-api-client)."""

from __future__ import annotations

import asyncio
import os
from typing import Any, Literal, Sequence

from pydantic import Field

from jgod_core import DataKind, Feed, Params
from jgod_core.errors import SecretError
from jgod_core.realtime.events import MarketEvent
from jgod_core.realtime.layout import INDEX, TRADE

_MS = 1_000_000


class PolygonFeedParams(Params):
    subscriptions: list[str] = Field(default_factory=lambda: ["A.ESZ5"], description="Polygon channels, e.g. "
                                                                                       "'A.ESZ5' (per-second aggs).")
    market: Literal["stocks", "indices", "futures"] = Field("futures", description="Polygon websocket market.")
    api_key_env: str = Field("POLYGON_API_KEY", description="Environment variable holding the API key.")
    stale_after_seconds: float = Field(10.0, gt=0, le=3600, description="No event for this long → stale.")
    tradable: bool = Field(False, description="US futures are inputs, not traded here.")
    role: Literal["none", "futures", "index", "global"] = Field("global", description="F_Exec role.")


def decode_messages(messages: Sequence[Any], receive_ns: int) -> list[MarketEvent]:
    """Polygon websocket models → events. Aggregates carry their end time ``end_timestamp`` (ms)."""
    events = []
    for m in messages:
        symbol = getattr(m, "symbol", None) or getattr(m, "ticker", None)
        if symbol is None:
            continue
        end_ms = getattr(m, "end_timestamp", None)
        close = getattr(m, "close", None)
        if end_ms is not None and close is not None:
            events.append(MarketEvent("polygon", symbol, INDEX, int(end_ms) * _MS, receive_ns, price=float(close)))
            continue
        price, ts = getattr(m, "price", None), getattr(m, "timestamp", None)
        if price is not None and ts is not None:
            events.append(MarketEvent("polygon", symbol, TRADE, int(ts) * _MS, receive_ns, price=float(price),
                                      size=float(getattr(m, "size", 0) or 0)))
    return events


class PolygonTransport:
    """Transport over ``polygon.WebSocketClient``: its handler pushes message lists onto a queue."""

    def __init__(self, params: PolygonFeedParams, clock_ns) -> None:
        self.params = params
        self._clock_ns = clock_ns
        self.queue: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self.client = None

    async def connect(self) -> None:
        from polygon import WebSocketClient

        key = os.environ.get(self.params.api_key_env)
        if not key:
            raise SecretError(f"Polygon API key missing: set {self.params.api_key_env} in the environment")
        self.client = WebSocketClient(api_key=key, market=self.params.market, subscriptions=[])

    async def subscribe(self, symbols: Sequence[str]) -> None:
        self.client.subscribe(*self.params.subscriptions)

        async def handle(messages):
            await self.queue.put(decode_messages(messages, self._clock_ns()))

        self._task = asyncio.create_task(self.client.connect(handle))

    async def receive(self) -> list[MarketEvent]:
        if self._task is not None and self._task.done():
            raise ConnectionError(f"polygon websocket closed: {self._task.exception()!r}")
        return await self.queue.get()

    async def snapshot(self, symbol: str) -> list[MarketEvent]:
        return []  # aggregates carry full state: the next one re-anchors the symbol

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
        if self._task is not None:
            self._task.cancel()


class PolygonFeed(Feed):
    """Live Polygon.io aggregates (e.g. S&P 500 futures) as the global reference of F_Exec.

    The API key comes from the environment variable named in the params.
    """

    name = "polygon"
    version = "1.0.0"
    Params = PolygonFeedParams

    def data_kinds(self) -> frozenset[DataKind]:
        return frozenset({DataKind.INTRADAY_TICKS})

    def symbols(self) -> list[str]:
        return [s.split(".", 1)[-1] for s in self.params.subscriptions]

    def transport(self, clock, day=None, source: str = "polygon") -> PolygonTransport:
        """The live transport; events are stamped with ``clock.now_ns()`` on receipt."""
        return PolygonTransport(self.params, clock.now_ns)

    @staticmethod
    def decode(message: list[MarketEvent]) -> list[MarketEvent]:
        return message
