"""asyncio feed sessions: connection state machine, backoff, resubscribe, sequence and gap repair.

A :class:`FeedSession` drives one :class:`Transport` (the socket boundary: Shioaji callbacks,
a Polygon websocket, a replay server, a test double) through the states

    DISCONNECTED → CONNECTING → CONNECTED → (ERROR → RETRY → CONNECTING …)

with exponential backoff and jitter between attempts. After every (re)connect it subscribes
again to every symbol, and marks every symbol *resyncing*: a symbol resumes trading only after
a fresh snapshot from the transport has been applied. While connected, each message is decoded
into :class:`MarketEvent` objects and passed through a :class:`SequenceGuard` (duplicates and
out-of-order events dropped, a gap → snapshot refresh) before it reaches the sink.

Time, sleep and randomness are injected so tests can drive 50 disconnects in milliseconds.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable, Protocol, Sequence

from pydantic import Field

from jgod_core.data.events import MarketEvent
from jgod_core.plugin.components import Params

log = logging.getLogger("jgod.realtime.feed")


class ConnectionState(str, enum.Enum):
    """State of a :class:`FeedSession`; :data:`ALLOWED` lists the transitions out of each."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    ERROR = "error"
    RETRY = "retry"


ALLOWED = {
    ConnectionState.DISCONNECTED: {ConnectionState.CONNECTING},
    ConnectionState.CONNECTING: {ConnectionState.CONNECTED, ConnectionState.ERROR, ConnectionState.DISCONNECTED},
    ConnectionState.CONNECTED: {ConnectionState.ERROR, ConnectionState.DISCONNECTED},
    ConnectionState.ERROR: {ConnectionState.RETRY, ConnectionState.DISCONNECTED},
    ConnectionState.RETRY: {ConnectionState.CONNECTING, ConnectionState.DISCONNECTED},
}


class BackoffParams(Params):
    """Reconnect delays: ``min(max_seconds, initial_seconds × multiplier^k) + U(0, jitter_seconds)``."""

    initial_seconds: float = Field(2.0, gt=0, le=600, description="Delay before the first retry.")
    multiplier: float = Field(1.5, ge=1.0, le=10, description="Growth of the delay per failed attempt.")
    max_seconds: float = Field(30.0, gt=0, le=3600, description="Cap of the delay (before jitter).")
    jitter_seconds: float = Field(0.1, ge=0, le=60, description="Uniform random delay added to each retry.")
    max_attempts: int | None = Field(None, ge=1, le=1_000_000, description="Give up after this many failed "
                                                                             "attempts in a row (None = never).")

    def base_delay(self, attempt: int) -> float:
        """Delay before retry ``attempt`` (0-based count of failures in a row), without jitter."""
        return min(self.max_seconds, self.initial_seconds * self.multiplier ** attempt)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Delay before retry ``attempt``: :meth:`base_delay` plus uniform jitter drawn from ``rng``."""
        return self.base_delay(attempt) + (rng.uniform(0.0, self.jitter_seconds) if self.jitter_seconds else 0.0)


class Transport(Protocol):
    """The socket boundary of a feed. Every method may raise ``ConnectionError``/``OSError``."""

    async def connect(self) -> None: ...

    async def subscribe(self, symbols: Sequence[str]) -> None: ...

    async def receive(self) -> Any:
        """The next raw message (blocks); raises ``ConnectionError`` when the link drops."""

    async def snapshot(self, symbol: str) -> list[MarketEvent]:
        """Current state of ``symbol`` (e.g. a REST book); its ``seq`` re-anchors the sequence."""

    async def close(self) -> None: ...


# -- sequences --------------------------------------------------------------------------------


class SeqVerdict(str, enum.Enum):
    """What :meth:`SequenceGuard.check` decided about one event (only ``ACCEPT`` reaches the sink)."""

    ACCEPT = "accept"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"
    GAP = "gap"
    RESYNCING = "resyncing"


@dataclass
class SequenceGuard:
    """Per-symbol sequence checks of one feed (one sequence per symbol and event kind).

    ``seq == last + 1`` (or no seq) is accepted; ``seq == last`` is a duplicate and
    ``seq < last`` out of order (both dropped); ``seq > last + 1`` is a gap: the event is
    dropped and the symbol is *resyncing* until :meth:`anchor` applies a snapshot. While
    resyncing, events are dropped (they would build state on a hole).
    ``contiguous=False`` is for feeds whose numbers increase but skip (e.g. depth update ids,
    trade ids shared across symbols): then only duplicates and regressions are checked.
    """

    contiguous: bool = True
    last: dict[tuple[str, int], int] = field(default_factory=dict)  # (symbol, kind) → last seq
    resyncing: set[str] = field(default_factory=set)
    reanchor: set[tuple[str, int]] = field(default_factory=set)  # next seq > last is accepted without gap check
    counts: dict[str, int] = field(default_factory=lambda: {v.value: 0 for v in SeqVerdict})

    def check(self, event: MarketEvent) -> SeqVerdict:
        """The verdict on ``event`` (counted in :attr:`counts`); a gap marks its symbol resyncing."""
        verdict = self._check(event)
        self.counts[verdict.value] += 1
        return verdict

    def _check(self, event: MarketEvent) -> SeqVerdict:
        sym = event.symbol
        if sym in self.resyncing:
            return SeqVerdict.RESYNCING
        if event.seq < 0:
            return SeqVerdict.ACCEPT
        key = (sym, event.kind)
        last = self.last.get(key)
        if last is None:
            self.last[key] = event.seq
            return SeqVerdict.ACCEPT
        if event.seq == last:
            return SeqVerdict.DUPLICATE
        if event.seq < last:
            return SeqVerdict.OUT_OF_ORDER
        if key in self.reanchor:
            self.reanchor.discard(key)
        elif self.contiguous and event.seq > last + 1:
            self.resyncing.add(sym)
            return SeqVerdict.GAP
        self.last[key] = event.seq
        return SeqVerdict.ACCEPT

    def last_seq(self, symbol: str, kind: int) -> int | None:
        """The last accepted ``seq`` of ``symbol``'s events of ``kind`` (None before the first)."""
        return self.last.get((symbol, kind))

    def mark_resync(self, symbols: Iterable[str]) -> None:
        """Drop ``symbols``' events until :meth:`anchor` applies a snapshot of each."""
        self.resyncing.update(symbols)

    def anchor(self, symbol: str, seqs: dict[int, int]) -> None:
        """A snapshot was applied: resume after its ``kind → seq``. A kind it does not cover
        re-anchors on its next event newer than the last one seen (older ones stay duplicates)."""
        self.resyncing.discard(symbol)
        for key in [k for k in self.last if k[0] == symbol]:
            if seqs.get(key[1], -1) < 0:
                self.reanchor.add(key)
        for kind, seq in seqs.items():
            if seq >= 0:
                self.last[(symbol, kind)] = seq
                self.reanchor.discard((symbol, kind))


# -- the session ------------------------------------------------------------------------------


@dataclass
class FeedEvent:
    """A log line of the session (state changes, gaps, resyncs), kept for tests and `jgod status`."""

    wall_time: float
    what: str
    detail: str = ""


class FeedSession:
    """Runs one feed until :meth:`stop` (or ``max_attempts`` failures in a row)."""

    def __init__(
        self,
        name: str,
        transport: Transport,
        decode: Callable[[Any], list[MarketEvent]],
        symbols: Sequence[str],
        sink: Callable[[MarketEvent], None],
        backoff: BackoffParams | None = None,
        *,
        contiguous_seq: bool = True,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        wall_clock: Callable[[], float] = time.time,
        on_state: Callable[[str, ConnectionState], None] | None = None,
    ) -> None:
        self.name = name
        self.transport = transport
        self.decode = decode
        self.symbols = tuple(symbols)
        self.sink = sink
        self.backoff = backoff or BackoffParams()
        self.guard = SequenceGuard(contiguous=contiguous_seq)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._wall = wall_clock
        self._on_state = on_state
        self.state = ConnectionState.DISCONNECTED
        self.history: list[FeedEvent] = []
        self.retry_delays: list[float] = []
        self.reconnects = 0
        self.connects = 0
        self._stopping = False
        self._failures = 0

    # -- state machine --------------------------------------------------------------------------

    def _move(self, new: ConnectionState, detail: str = "") -> None:
        if new not in ALLOWED[self.state]:
            raise RuntimeError(f"feed {self.name}: {self.state.value} → {new.value} is not a valid transition")
        self.state = new
        self.history.append(FeedEvent(self._wall(), f"state:{new.value}", detail))
        if new in (ConnectionState.ERROR, ConnectionState.RETRY):
            log.warning("feed %s: %s %s", self.name, new.value, detail)
        else:
            log.info("feed %s: %s %s", self.name, new.value, detail)
        if self._on_state is not None:
            self._on_state(self.name, new)

    def tradable(self, symbol: str) -> bool:
        """True when the feed is connected and ``symbol`` is not waiting for a snapshot."""
        return self.state is ConnectionState.CONNECTED and symbol not in self.guard.resyncing

    def stop(self) -> None:
        """Ask :meth:`run` to stop: it closes the transport and returns once the pending receive or retry wait ends."""
        self._stopping = True

    # -- running --------------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, stream, and reconnect on errors until stopped (or cancelled: then it closes too)."""
        try:
            await self._run()
        except asyncio.CancelledError:
            self._stopping = True
            await self._close_if_open()
            raise

    async def _run(self) -> None:
        while not self._stopping:
            self._move(ConnectionState.CONNECTING)
            try:
                await self.transport.connect()
                await self.transport.subscribe(self.symbols)
                self.connects += 1
                if self.connects > 1:
                    self.reconnects += 1
                self._failures = 0
                self.guard.mark_resync(self.symbols)
                self._move(ConnectionState.CONNECTED, f"subscribed {len(self.symbols)} symbols")
                await self._resync(self.symbols)
                await self._stream()
            except (ConnectionError, OSError, asyncio.TimeoutError) as exc:
                if self._stopping:
                    break
                self._move(ConnectionState.ERROR, f"{type(exc).__name__}: {exc}")
                await self._safe_close()
                self._failures += 1
                if self.backoff.max_attempts is not None and self._failures >= self.backoff.max_attempts:
                    self._move(ConnectionState.DISCONNECTED, f"gave up after {self._failures} failed attempts")
                    return
                delay = self.backoff.delay(self._failures - 1, self._rng)
                self.retry_delays.append(delay)
                self._move(ConnectionState.RETRY, f"in {delay:.3f} s (attempt {self._failures})")
                await self._sleep(delay)
        await self._close_if_open()

    async def _close_if_open(self) -> None:
        if self.state is not ConnectionState.DISCONNECTED:
            await self._safe_close()
            self._move(ConnectionState.DISCONNECTED, "stopped")

    async def _safe_close(self) -> None:
        try:
            await self.transport.close()
        except (ConnectionError, OSError):
            pass

    async def _resync(self, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            events = await self.transport.snapshot(symbol)
            seqs: dict[int, int] = {}
            for ev in events:
                self.sink(ev)
                seqs[ev.kind] = max(seqs.get(ev.kind, -1), ev.seq)
            self.guard.anchor(symbol, seqs)
            seq = max(seqs.values(), default=-1)
            self.history.append(FeedEvent(self._wall(), "resynced", f"{symbol} at seq {seq}"))
            log.info("feed %s: %s resynced from snapshot at seq %s", self.name, symbol, seq)

    async def _stream(self) -> None:
        while not self._stopping:
            message = await self.transport.receive()
            gaps: list[str] = []
            for event in self.decode(message):
                verdict = self.guard.check(event)
                if verdict is SeqVerdict.ACCEPT:
                    self.sink(event)
                elif verdict is SeqVerdict.GAP:
                    gaps.append(event.symbol)
                    last = self.guard.last_seq(event.symbol, event.kind)
                    self.history.append(FeedEvent(self._wall(), "gap", f"{event.symbol} seq {event.seq} after {last}"))
                    log.warning("feed %s: sequence gap on %s (seq %s after %s); refreshing from snapshot",
                                self.name, event.symbol, event.seq, last)
            if gaps:
                await self._resync(dict.fromkeys(gaps))
