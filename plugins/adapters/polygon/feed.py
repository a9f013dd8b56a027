"""Polygon.io live feed: US index futures / index aggregates over the websocket (polygon-api-client)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal, Sequence

from pydantic import Field

from jgod_core import DataKind, Feed, Params
from jgod_core.config.models import require_env
from jgod_core.data.events import INDEX, TRADE, MarketEvent

_MS = 1_000_000


class PolygonFeedParams(Params):
    """Channels, market, credentials and staleness of the Polygon websocket feed."""

    subscriptions: list[str] = Field(default_factory=lambda: ["A.ESZ5"], description="Polygon channels, e.g. "
                                                                                       "'A.ESZ5' (per-second aggs).")
    market: Literal["stocks", "indices", "futures"] = Field("futures", description="Polygon websocket market.")
    api_key_env: str = Field("POLYGON_API_KEY", description="Environment variable holding the API key.")
    host: str | None = Field(None, max_length=200, description="Websocket host[:port] (default: the client's "
                                                                "real-time feed, socket.polygon.io).")
    secure: bool = Field(True, description="wss:// (False: ws://, for a local recording server).")
    stale_after_seconds: float = Field(10.0, gt=0, le=3600, description="No event for this long → stale.")
    tradable: bool = Field(False, description="US futures are inputs, not traded here.")
    role: Literal["none", "futures", "index", "global"] = Field("global", description="F_Exec role.")


def decode_messages(messages: Sequence[Any], receive_ns: int, source: str = "polygon") -> list[MarketEvent]:
    """Parsed Polygon websocket models (``polygon.websocket.models``) → events; times are epoch ms.

    - aggregates (``A``/``AM``: ``EquityAgg``, ``FuturesAgg``) → a reference price (their close),
      stamped at ``end_timestamp`` (an aggregate is known only when its window ends);
    - trades (``T``: ``EquityTrade``, ``FuturesTrade``) → a trade, side unknown, ``seq`` = the
      feed-wide ``sequence_number`` (it skips between symbols);
    - index values (``V``: ``IndexValue``) → a reference price.
    Other models (quotes, status) give nothing.
    """
    events = []
    for m in messages:
        symbol = getattr(m, "symbol", None) or getattr(m, "ticker", None)
        if symbol is None:
            continue
        end_ms, close = getattr(m, "end_timestamp", None), getattr(m, "close", None)
        if end_ms is not None and close is not None:
            events.append(MarketEvent(source, symbol, INDEX, int(end_ms) * _MS, receive_ns, price=float(close)))
            continue
        ts = getattr(m, "timestamp", None)
        value = getattr(m, "value", None)
        if value is not None and ts is not None:
            events.append(MarketEvent(source, symbol, INDEX, int(ts) * _MS, receive_ns, price=float(value)))
            continue
        price = getattr(m, "price", None)
        if price is not None and ts is not None:
            seq = getattr(m, "sequence_number", None)
            events.append(MarketEvent(source, symbol, TRADE, int(ts) * _MS, receive_ns, -1 if seq is None else int(seq),
                                      price=float(price), size=float(getattr(m, "size", 0) or 0)))
    return events


class PolygonTransport:
    """Transport over ``polygon.WebSocketClient``: its handler pushes decoded events onto a queue.

    The client does its own auth and (re)subscription; when its connection task ends (closed,
    auth failed, reconnects exhausted) :meth:`receive` raises ``ConnectionError`` so the feed
    session's backoff takes over with a fresh client.
    """

    def __init__(self, params: PolygonFeedParams, clock_ns, source: str = "polygon") -> None:
        self.params = params
        self._clock_ns = clock_ns
        self.source = source
        self.queue: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self.client = None

    async def connect(self) -> None:
        from polygon import WebSocketClient

        (key,) = require_env(self.params.api_key_env, purpose="Polygon API key")
        kwargs: dict[str, Any] = {"api_key": key, "market": self.params.market, "subscriptions": [],
                                  "secure": self.params.secure, "max_reconnects": 0}
        if self.params.host:
            kwargs["feed"] = self.params.host
        self.client = WebSocketClient(**kwargs)

    async def subscribe(self, symbols: Sequence[str]) -> None:
        self.client.subscribe(*self.params.subscriptions)

        async def handle(messages):
            await self.queue.put(decode_messages(messages, self._clock_ns(), self.source))

        self._task = asyncio.create_task(self.client.connect(handle))

    async def receive(self) -> list[MarketEvent]:
        if self.queue.empty() and self._task is not None:
            getter = asyncio.ensure_future(self.queue.get())
            await asyncio.wait({getter, self._task}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                return getter.result()
            getter.cancel()
            exc = self._task.exception() if not self._task.cancelled() else None
            raise ConnectionError(f"polygon websocket closed: {exc!r}")
        return await self.queue.get()

    async def snapshot(self, symbol: str) -> list[MarketEvent]:
        return []  # aggregates carry full state: the next one re-anchors the symbol

    async def close(self) -> None:
        if self.client is not None:
            try:
                await self.client.close()
            except Exception:  # noqa: BLE001 - a half-open socket may fail to close; we drop it anyway
                pass
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

    contiguous_seq = False  # trade sequence numbers are feed-wide

    def transport(self, clock, day=None, source: str = "polygon") -> PolygonTransport:
        """The live transport; events are stamped with ``clock.now_ns()`` on receipt."""
        return PolygonTransport(self.params, clock.now_ns, source)

    @staticmethod
    def decode(message: list[MarketEvent]) -> list[MarketEvent]:
        return message
