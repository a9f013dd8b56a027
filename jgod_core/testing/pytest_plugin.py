"""The pytest fixtures of :mod:`jgod_core.testing` (loaded through its ``pytest11`` entry point).

- ``jgod_kernel``: the kernel with every installed plugin;
- ``make_kernel(*plugins)``: a kernel with extra in-process plugins (temporary registration);
- ``pipeline_from_yaml(text)``: a validated pipeline built from a YAML string;
- ``make_panel(symbols=None, start=None, end=None)``: a real slice of the shipped sample
  (:func:`jgod_core.testing.kit.make_panel`);
- ``market_view(panel=None, date=None)`` and ``risk_context(now=None, market=None, ...)``:
  the point-in-time market and the context risk rules judge orders in;
- ``virtual_clock(start)``: a clock on a virtual-time event loop, closed after the test.

The factory fixtures return the kit's functions, so ``make_panel`` as a fixture and
``from jgod_core.testing import make_panel`` are the same thing.
"""

from __future__ import annotations

import textwrap
from typing import Any, Callable, Iterator

import pytest

from jgod_core.config.validate import load_pipeline_text
from jgod_core.plugin.manager import Kernel, PluginPolicy, load_kernel
from jgod_core.testing import kit


@pytest.fixture(scope="session")
def jgod_kernel() -> Kernel:
    """The kernel with every installed plugin (built-ins and third-party)."""
    return load_kernel(PluginPolicy())


@pytest.fixture
def make_kernel() -> Callable[..., Kernel]:
    """Build a kernel with extra plugins: ``make_kernel(("name", module_or_object), ...)``."""

    def make(*plugins: tuple[str, Any], policy: PluginPolicy | None = None) -> Kernel:
        return load_kernel(policy or PluginPolicy(), extra_plugins=plugins)

    return make


@pytest.fixture
def pipeline_from_yaml(jgod_kernel: Kernel):
    """Build a validated pipeline from a YAML string (dedented)."""

    def build(text: str, kernel: Kernel | None = None):
        return load_pipeline_text(textwrap.dedent(text), "<test>", kernel or jgod_kernel)

    return build


@pytest.fixture(name="make_panel")
def make_panel_fixture() -> Callable[..., Any]:
    """``make_panel(symbols=None, start=None, end=None, *, lookback_days=0)``: a real sample slice."""
    return kit.make_panel


@pytest.fixture(name="market_view")
def market_view_fixture() -> Callable[..., Any]:
    """``market_view(panel=None, date=None, books=None)``: the market as of a date, nothing after it."""
    return kit.market_view


@pytest.fixture(name="risk_context")
def risk_context_fixture() -> Callable[..., Any]:
    """``risk_context(now=None, market=None, *, positions=None, equity=1e7, **fields)``: a RiskContext."""
    return kit.risk_context


@pytest.fixture(name="virtual_clock")
def virtual_clock_fixture() -> Iterator[Callable[..., Any]]:
    """``virtual_clock(start="2026-05-28 09:00")``: a LoopClock on virtual time; loops closed at teardown."""
    clocks: list[Any] = []

    def make(start: Any = "2026-05-28 09:00", tz: str = "Asia/Taipei") -> Any:
        clock = kit.virtual_clock(start, tz)
        clocks.append(clock)
        return clock

    yield make
    kit._close_loops(clocks)
