"""Health of the realtime loop: latency exchange → decision per source, staleness, clock skew.

- Latency per source = decision time − exchange time − the source's clock offset. The offset
  is configured, or (``auto``) estimated as the smallest receive − exchange difference seen in
  the first ``offset_samples`` events: it removes a constant skew between the exchange's clock
  and ours (the real Binance recording's exchange stamps run ~1.3 s ahead of its receive
  stamps), leaving transport + processing delay. Latency above ``latency_alert_ms`` is an alert.
- A symbol is stale when its last event is older than its feed's ``stale_after`` on the decision
  clock; a feed is stale when none of its symbols has an event that recent. Stale symbols and
  symbols of a disconnected or resyncing feed get no new orders (:meth:`can_trade`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from pydantic import Field

from jgod_core.plugin.components import Params

log = logging.getLogger("jgod.realtime.health")


class HealthParams(Params):
    """Thresholds of the feed health monitor."""

    latency_alert_ms: float = Field(100.0, gt=0, le=60_000, description="Latency above this raises an alert.")
    offset_samples: int = Field(100, ge=1, le=1_000_000, description="Events used to estimate a clock offset.")


@dataclass
class Alert:
    """One health alert (or recovery) of a source, stamped on the exchange clock."""

    exchange_ns: int
    source: str
    kind: str  # latency | stale | clock_skew | blocked | recovered
    message: str


@dataclass
class _Source:
    stale_after_ns: int
    offset_ns: int | None = None
    offset_fixed: bool = False
    seen: int = 0
    min_delay_ns: int | None = None
    latency_alert: bool = False
    symbols: set[str] = field(default_factory=set)


class HealthMonitor:
    """Tracks latency and freshness; answers whether a symbol may get a new order now."""

    def __init__(self, params: HealthParams | None = None,
                 on_latency: Callable[[str, float], None] | None = None) -> None:
        self.params = params or HealthParams()
        self.sources: dict[str, _Source] = {}
        self.last_event_ns: dict[str, int] = {}
        self.symbol_source: dict[str, str] = {}
        self.blocked: dict[str, str] = {}  # symbol → reason (resync, disconnect)
        self.alerts: list[Alert] = []
        self._stale: set[str] = set()
        self._on_latency = on_latency

    def add_source(self, source: str, symbols: list[str], stale_after_seconds: float,
                   clock_offset_ms: float | None = None) -> None:
        """Watch ``source`` feeding ``symbols``: stale after ``stale_after_seconds`` without an
        event; its clock offset is fixed at ``clock_offset_ms`` when given, else estimated."""
        src = _Source(int(stale_after_seconds * 1e9))
        if clock_offset_ms is not None:
            src.offset_ns, src.offset_fixed = int(clock_offset_ms * 1e6), True
        src.symbols.update(symbols)
        self.sources[source] = src
        for s in symbols:
            self.symbol_source[s] = source

    def _alert(self, exchange_ns: int, source: str, kind: str, message: str) -> None:
        self.alerts.append(Alert(exchange_ns, source, kind, message))
        (log.info if kind == "recovered" else log.warning)("%s: %s", source, message)

    def on_event(self, source: str, symbol: str, exchange_ns: int, receive_ns: int) -> None:
        """Record that an event of ``symbol`` stamped ``exchange_ns`` arrived at ``receive_ns``."""
        src = self.sources[source]
        self.last_event_ns[symbol] = max(exchange_ns, self.last_event_ns.get(symbol, 0))
        if not src.offset_fixed and src.seen < self.params.offset_samples:
            delay = receive_ns - exchange_ns
            src.min_delay_ns = delay if src.min_delay_ns is None else min(src.min_delay_ns, delay)
            src.offset_ns = src.min_delay_ns
            if src.seen + 1 == self.params.offset_samples and abs(src.min_delay_ns) > 1e6 * self.params.latency_alert_ms:
                self._alert(exchange_ns, source, "clock_skew",
                            f"receive − exchange clock offset is {src.min_delay_ns / 1e6:.1f} ms; latency is measured "
                            f"net of it")
        src.seen += 1
        if symbol in self._stale:
            self._stale.discard(symbol)
            self._alert(exchange_ns, source, "recovered", f"{symbol} fresh again")

    def on_decision(self, source: str, exchange_ns: int, decision_ns: int) -> float:
        """Latency (ms) of a decision taken at ``decision_ns`` on an event stamped ``exchange_ns``."""
        src = self.sources[source]
        latency_ns = decision_ns - exchange_ns - (src.offset_ns or 0)
        latency_ms = latency_ns / 1e6
        if self._on_latency is not None:
            self._on_latency(source, latency_ms)
        over = latency_ms > self.params.latency_alert_ms
        if over and not src.latency_alert:
            self._alert(exchange_ns, source, "latency", f"latency {latency_ms:.1f} ms > "
                                                        f"{self.params.latency_alert_ms:g} ms")
        elif not over and src.latency_alert:
            self._alert(exchange_ns, source, "recovered", f"latency back to {latency_ms:.1f} ms")
        src.latency_alert = over
        return latency_ms

    def block(self, symbol: str, reason: str, now_ns: int = 0) -> None:
        """No new orders for ``symbol`` until :meth:`unblock` (its feed is down or resyncing)."""
        if self.blocked.get(symbol) != reason:
            self._alert(now_ns, self.symbol_source.get(symbol, "?"), "blocked", f"{symbol} blocked: {reason}")
        self.blocked[symbol] = reason

    def unblock(self, symbol: str, now_ns: int = 0) -> None:
        """Let ``symbol`` get orders again (a ``recovered`` alert when it was blocked)."""
        if self.blocked.pop(symbol, None) is not None:
            self._alert(now_ns, self.symbol_source.get(symbol, "?"), "recovered", f"{symbol} unblocked")

    def can_trade(self, symbol: str, now_ns: int) -> tuple[bool, str]:
        """Whether ``symbol`` may get a new order at ``now_ns`` (decision clock), and why not."""
        if symbol in self.blocked:
            return False, self.blocked[symbol]
        source = self.symbol_source.get(symbol)
        if source is None:
            return False, f"{symbol}: no feed provides it"
        last = self.last_event_ns.get(symbol)
        if last is None:
            return False, f"{symbol}: no event yet"
        age = now_ns - last
        if age > self.sources[source].stale_after_ns:
            if symbol not in self._stale:
                self._stale.add(symbol)
                self._alert(now_ns, source, "stale", f"{symbol} stale: last event {age / 1e9:.1f} s ago "
                                                     f"(limit {self.sources[source].stale_after_ns / 1e9:g} s)")
            return False, f"{symbol} stale for {age / 1e9:.1f} s"
        return True, ""
