"""The Polygon feed through the real ``polygon.WebSocketClient`` against a local websocket server
replaying recorded protocol frames (``fixtures/polygon/ws_stocks_frames.json``, provenance inside)."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest
from websockets.asyncio.server import serve

from jgod_core.data.events import INDEX, TRADE
from jgod_core.errors import SecretError
from jgod_core.realtime.feed import BackoffParams, FeedSession
from jgod_plugins.adapters.polygon.feed import PolygonFeed

FRAMES = json.loads((Path(__file__).parents[3] / "fixtures" / "polygon" / "ws_stocks_frames.json").read_text())
MS = 1_000_000


class RecordingServer:
    """Speaks the Polygon protocol on 127.0.0.1: status, auth, subscribe → the recorded frames.

    ``drop_first`` closes the first connection (abnormally) after its frames, to test reconnects.
    """

    def __init__(self, drop_first: bool = False):
        self.drop_first = drop_first
        self.connections = 0
        self.auth_keys: list[str] = []
        self.subscriptions: list[set[str]] = []

    async def handler(self, ws):
        self.connections += 1
        await ws.send(FRAMES["connected"])
        async for raw in ws:
            msg = json.loads(raw)
            if msg.get("action") == "auth":
                self.auth_keys.append(msg["params"])
                await ws.send(FRAMES["auth_success"])
            elif msg.get("action") == "subscribe":
                self.subscriptions.append(set(msg["params"].split(",")))
                for frame in FRAMES["after_subscribe"]:
                    await ws.send(frame)
                if self.drop_first and self.connections == 1:
                    ws.transport.abort()  # a dropped TCP link, not a clean close
                    return


async def _run_feed(server: RecordingServer, want: int, **params):
    got = []
    async with serve(server.handler, "127.0.0.1", 0) as ws_server:
        port = ws_server.sockets[0].getsockname()[1]
        feed = PolygonFeed(PolygonFeed.Params(market="stocks", subscriptions=["T.AAPL", "AM.GTE"],
                                              host=f"127.0.0.1:{port}", secure=False, **params))
        clock = type("Clock", (), {"now_ns": staticmethod(lambda: 42)})()

        async def no_sleep(seconds):
            await asyncio.sleep(0)

        session = FeedSession("polygon", feed.transport(clock), feed.decode, feed.symbols(), got.append,
                              BackoffParams(max_attempts=3), contiguous_seq=feed.contiguous_seq, sleep=no_sleep,
                              rng=random.Random(1))
        task = asyncio.create_task(session.run())
        for _ in range(500):
            if len(got) >= want:
                break
            await asyncio.sleep(0.01)
        session.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return got, session


def test_recorded_polygon_frames_decode_to_trades_and_aggregate_closes(monkeypatch):
    monkeypatch.setenv("POLYGON_API_KEY", "test-key-from-env")
    server = RecordingServer()
    events, session = asyncio.run(_run_feed(server, want=4))
    assert server.auth_keys == ["test-key-from-env"]
    assert server.subscriptions == [{"T.AAPL", "AM.GTE"}]
    trades = [e for e in events if e.kind == TRADE]
    assert [(e.symbol, e.price, e.size, e.seq) for e in trades] == [
        ("AAPL", 161.87, 300.0, 4009402), ("AAPL", 161.87, 1.0, 4009408), ("AAPL", 161.87, 100.0, 4009434)]
    assert [e.exchange_ns for e in trades] == [1651684192462 * MS, 1651684192536 * MS, 1651684192717 * MS]
    (agg,) = [e for e in events if e.kind == INDEX]
    assert (agg.symbol, agg.price, agg.exchange_ns) == ("GTE", 0.4486, 1610144700000 * MS)  # at the window end
    assert all(e.receive_ns == 42 for e in events)
    assert session.reconnects == 0


def test_a_dropped_link_reconnects_resubscribes_and_drops_the_replayed_duplicates(monkeypatch):
    monkeypatch.setenv("POLYGON_API_KEY", "k")
    server = RecordingServer(drop_first=True)
    events, session = asyncio.run(_run_feed(server, want=5))
    assert server.connections == 2 and session.reconnects == 1
    assert server.subscriptions == [{"T.AAPL", "AM.GTE"}] * 2
    # the second connection replays the same trades: their sequence numbers are not new
    assert [e.seq for e in events if e.kind == TRADE] == [4009402, 4009408, 4009434]
    assert session.guard.counts["duplicate"] + session.guard.counts["out_of_order"] >= 2


def test_missing_api_key_is_a_clear_secret_error(monkeypatch):
    monkeypatch.delenv("POLYGON_API_KEY", raising=False)
    feed = PolygonFeed(PolygonFeed.Params())
    clock = type("Clock", (), {"now_ns": staticmethod(lambda: 0)})()
    with pytest.raises(SecretError, match="POLYGON_API_KEY"):
        asyncio.run(feed.transport(clock).connect())
