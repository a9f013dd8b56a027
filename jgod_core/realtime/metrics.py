"""Prometheus metrics of the realtime loop (prometheus-client), on a registry of its own.

Exposes: ``jgod_feed_latency_ms`` (histogram per source), ``jgod_events_total`` (per source
and kind), ``jgod_feed_reconnects_total``, ``jgod_feed_state`` (0 disconnected … 4 retry),
``jgod_trading_state`` (0 ACTIVE, 1 REDUCING, 2 HALTED), ``jgod_orders_total`` (per outcome),
``jgod_health_alerts_total`` (per kind). ``serve(port)`` starts the HTTP endpoint.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server

from jgod_core.realtime.feed import ConnectionState

_FEED_STATE = {s: i for i, s in enumerate(ConnectionState)}
_TRADING_STATE = {"ACTIVE": 0, "REDUCING": 1, "HALTED": 2}
LATENCY_BUCKETS_MS = (0.1, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000)


class RealtimeMetrics:
    """One set of realtime metrics (a registry per instance: no global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.latency = Histogram("jgod_feed_latency_ms", "Exchange → decision latency", ["source"],
                                 buckets=LATENCY_BUCKETS_MS, registry=r)
        self.events = Counter("jgod_events_total", "Market events processed", ["source", "kind"], registry=r)
        self.reconnects = Counter("jgod_feed_reconnects_total", "Feed reconnects", ["source"], registry=r)
        self.feed_state = Gauge("jgod_feed_state", "Feed connection state (0 disconnected, 1 connecting, "
                                                   "2 connected, 3 error, 4 retry)", ["source"], registry=r)
        self.trading_state = Gauge("jgod_trading_state", "Risk gate state (0 ACTIVE, 1 REDUCING, 2 HALTED)",
                                   registry=r)
        self.orders = Counter("jgod_orders_total", "Orders by outcome", ["outcome"], registry=r)
        self.alerts = Counter("jgod_health_alerts_total", "Health alerts", ["kind"], registry=r)

    def observe_latency(self, source: str, latency_ms: float) -> None:
        """Add one decision latency of ``source`` to its histogram."""
        self.latency.labels(source).observe(latency_ms)

    def set_feed_state(self, source: str, state: ConnectionState) -> None:
        """Publish the connection state of feed ``source``."""
        self.feed_state.labels(source).set(_FEED_STATE[state])

    def set_trading_state(self, state: str) -> None:
        """Publish the trading state (ACTIVE / REDUCING / HALTED)."""
        self.trading_state.set(_TRADING_STATE[state])

    def exposition(self) -> bytes:
        """The text exposition format (what the endpoint serves)."""
        return generate_latest(self.registry)

    def serve(self, port: int, addr: str = "127.0.0.1"):
        """Start the HTTP endpoint on ``addr:port``; returns the server and its thread."""
        return start_http_server(port, addr=addr, registry=self.registry)
