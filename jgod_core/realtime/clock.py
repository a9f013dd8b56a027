"""The clock of the live loop: epoch nanoseconds read from the running asyncio loop.

Every part of the live loop (feed transports, backoff sleeps, the decision timer) sleeps with
``asyncio.sleep`` and reads the time from one :class:`LoopClock`, so the same code runs

- on the wall clock (:meth:`LoopClock.wall`: the loop's monotonic time anchored to
  ``time.time_ns()`` once, at start), or
- on virtual time (:class:`VirtualTimeLoop`): an event loop whose clock jumps straight to the
  next timer whenever nothing is ready and no I/O is pending. A 4½-hour session with its
  reconnect backoffs runs in the time its callbacks take, deterministically; tests and
  accelerated replays never sleep for real.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from typing import Any


class LoopClock:
    """Epoch ns = ``base_ns`` + the loop's time; sleeps on the loop's timers."""

    def __init__(self, loop: asyncio.AbstractEventLoop, base_ns: int) -> None:
        self.loop = loop
        self.base_ns = base_ns

    @classmethod
    def wall(cls, loop: asyncio.AbstractEventLoop) -> "LoopClock":
        """The wall clock, anchored once so it never jumps back within a session."""
        return cls(loop, time.time_ns() - round(loop.time() * 1e9))

    def now_ns(self) -> int:
        """Epoch nanoseconds now on this clock (virtual or wall, per the loop)."""
        return self.base_ns + round(self.loop.time() * 1e9)

    async def sleep_until(self, t_ns: int) -> None:
        """Return at (or just after) epoch ``t_ns``; at once when it is past."""
        delay = (t_ns - self.now_ns()) / 1e9
        if delay > 0:
            await asyncio.sleep(delay)


class _VirtualSelector:
    """Wraps the loop's selector: a wait with nothing to do advances virtual time instead."""

    def __init__(self, selector: selectors.BaseSelector, loop: "VirtualTimeLoop") -> None:
        self._selector = selector
        self._loop = loop

    def select(self, timeout: float | None = None) -> list:
        if timeout is None:  # nothing scheduled: only I/O or another thread can wake us
            return self._selector.select(None)
        events = self._selector.select(0)
        if not events and timeout > 0:
            self._loop.advance(timeout)
        return events

    def __getattr__(self, name: str) -> Any:
        return getattr(self._selector, name)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on virtual time starting at 0.0 s (pair it with ``LoopClock(loop, start_ns)``).

    Pending I/O (sockets, the self-pipe of ``call_soon_threadsafe``) is still polled on every
    iteration, so local servers and callbacks from threads keep working; only idle waits are
    skipped.
    """

    def __init__(self) -> None:
        super().__init__()
        self._virtual_s = 0.0
        self._selector = _VirtualSelector(self._selector, self)

    def time(self) -> float:
        """The loop's virtual time in seconds (what asyncio schedules against)."""
        return self._virtual_s

    def advance(self, seconds: float) -> None:
        """Move virtual time forward by ``seconds``."""
        self._virtual_s += seconds
