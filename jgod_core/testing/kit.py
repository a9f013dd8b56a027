"""The test kit for plugin authors: real sample data, risk contexts, market views, virtual clocks.

Importable without pytest (``from jgod_core.testing.kit import make_panel``); the pytest plugin
:mod:`jgod_core.testing.pytest_plugin` exposes the same factories as fixtures. Nothing here makes
data up: panels are slices of the shipped real sample, loaded through the registry's ``sample``
data source into a store the kit owns, and read back by the point-in-time loader exactly as a
pipeline run reads them.

- :func:`make_panel` — ``panel = make_panel(["2330", "2317"], "2019-01-02", "2020-12-31")``
- :func:`sample_store` — ``run_pipeline(path, store=sample_store())`` (the sample, loaded once)
- :func:`market_view` — ``view = market_view(panel, "2020-03-19")`` (nothing after that date)
- :func:`risk_context` — ``ctx = risk_context(market=view, positions={"2330": 2000})``
- :func:`real_order` — ``order = real_order(panel, "2330", "2020-03-19", lots=2)`` (its real close)
- :func:`virtual_clock` — ``clock = virtual_clock("2026-05-28 09:00")`` (an asyncio loop on virtual time)
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:
    from jgod_core.data.panel import Panel
    from jgod_core.execution.orders import Order
    from jgod_core.realtime.clock import LoopClock
    from jgod_core.risk.engine import RiskContext

__all__ = [
    "SAMPLE_SYMBOLS",
    "SAMPLE_START",
    "SAMPLE_END",
    "make_panel",
    "sample_store",
    "market_view",
    "risk_context",
    "real_order",
    "virtual_clock",
]

#: Default universe of :func:`make_panel`: 12 TWSE symbols of the sample, with the ETF 0050 and
#: three symbols that have halted days in the default period (1216, 2327, 2474).
SAMPLE_SYMBOLS: tuple[str, ...] = ("0050", "1101", "1216", "2303", "2317", "2327", "2330", "2382", "2474", "2603",
                                   "2881", "2882")
#: Default period of :func:`make_panel` (895 trading days; TAIEX and TX start on 2017-05-16 in the sample).
SAMPLE_START = "2017-05-16"
SAMPLE_END = "2020-12-31"
#: The time :func:`risk_context` uses when given none (a Taiwan session open).
DEFAULT_NOW = dt.datetime(2024, 3, 1, 9, 0)

_lock = threading.Lock()
_stores: dict[str, Any] = {}
_panels: dict[tuple, "Panel"] = {}


# -- the shipped sample -------------------------------------------------------------------------


def sample_store(kernel: Any = None) -> Any:
    """An opened store holding the shipped real sample, loaded once and reused.

    The sample is loaded through the ``sample`` data source of the registry (``kernel``: the
    kernel to take it from; default: every installed plugin) into a SQLite store the kit owns,
    under ``$JGOD_DATA_DIR/testing/`` when that is set, else the per-user cache directory. The
    directory is keyed by the data source's distribution version and the store schema, built
    in a temporary directory and renamed into place, so concurrent test processes never see a
    half-loaded store and later sessions open it in well under a second. Never the user's own
    store: what it holds is the sample and nothing else.
    """
    from jgod_core.errors import JGodError
    from jgod_core.plugin.components import ComponentKind
    from jgod_core.storage import migrate, open_store

    if kernel is None:
        from jgod_core.plugin.manager import load_kernel

        kernel = load_kernel()
    entry = kernel.registry.get(ComponentKind.DATA_SOURCE, "sample")
    if entry is None:
        raise JGodError("no data source named 'sample' is installed (is the built-in data plugin blocked?); "
                        "make_panel and sample_store read the shipped sample through it")
    key = _safe(f"sample-{entry.distribution}-{entry.distribution_version}-{entry.version}-{migrate.head_revision()}")
    with _lock:
        if key in _stores:
            return _stores[key]
        root = _cache_root()
        final = root / key
        if not (final / "jgod.sqlite").is_file():
            _build_store(entry.cls, root, final)
        store = open_store(f"sqlite:///{final / 'jgod.sqlite'}")
        _stores[key] = store
        return store


def _cache_root() -> Path:
    data_dir = os.environ.get("JGOD_DATA_DIR")
    if data_dir:
        return Path(data_dir) / "testing"
    import platformdirs

    return Path(platformdirs.user_cache_dir("jgod")) / "testing"


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def _build_store(source_cls: type, root: Path, final: Path) -> None:
    """Load the sample into ``root/tmp-…`` and rename it to ``final`` (another process may win the race)."""
    from jgod_core.storage import open_store

    root.mkdir(parents=True, exist_ok=True)
    building = root / f"tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    building.mkdir()
    try:
        store = open_store(f"sqlite:///{building / 'jgod.sqlite'}")
        source = source_cls()
        loader = getattr(source, "ensure_loaded", None) or source.load
        loader(store, progress=False)
        store.engine.dispose()
        try:
            building.rename(final)
        except OSError:
            if not (final / "jgod.sqlite").is_file():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)


def make_panel(symbols: Sequence[str] | None = None, start: str | dt.date | None = None,
               end: str | dt.date | None = None, *, lookback_days: int = 0, store: Any = None) -> "Panel":
    """A real slice of the shipped sample as a :class:`jgod_core.Panel`, as a pipeline run builds it.

    ``symbols`` default to :data:`SAMPLE_SYMBOLS`, ``start``/``end`` (``YYYY-MM-DD`` or dates) to
    :data:`SAMPLE_START` .. :data:`SAMPLE_END`; ``lookback_days`` trading days before ``start``
    are included, as ``data.lookback_days`` does in a pipeline. Read by
    :func:`jgod_core.data.load_panel` from :func:`sample_store` (or ``store``): point in time,
    fields ``open high low close volume halted monthly_revenue``, the market series and the
    security-master attributes, with ``panel.missing`` saying what the sample lacks (e.g.
    ``adj_factor``). Each call returns a new panel with its own arrays (change them freely).
    """
    from jgod_core.data import load_panel
    from jgod_core.data.panel import Panel

    wanted = tuple(SAMPLE_SYMBOLS if symbols is None else symbols)
    start = SAMPLE_START if start is None else start
    end = SAMPLE_END if end is None else end
    source = store if store is not None else sample_store()
    key = (id(source), wanted, str(start), str(end), int(lookback_days))
    with _lock:
        panel = _panels.get(key)
    if panel is None:
        panel = load_panel(source, symbols=list(wanted), start=start, end=end, lookback_days=lookback_days)
        with _lock:
            _panels[key] = panel
    return Panel(panel.symbols, panel.dates.copy(), {k: v.copy() for k, v in panel.fields.items()},
                 {k: v.copy() for k, v in panel.series.items()}, {k: v.copy() for k, v in panel.attributes.items()},
                 dict(panel.missing))


def _position(panel: "Panel", date: str | dt.date | np.datetime64 | None) -> int:
    """Position of the last panel date on or before ``date`` (the last date when None)."""
    if date is None:
        return len(panel.dates) - 1
    position = int(np.searchsorted(panel.dates, np.datetime64(str(date)[:10], "D"), side="right")) - 1
    if position < 0:
        raise ValueError(f"{date} is before the panel's first date {panel.dates[0]}")
    return position


# -- risk and execution -------------------------------------------------------------------------


def market_view(panel: "Panel | None" = None, date: str | dt.date | np.datetime64 | None = None,
                books: Mapping[str, Any] | None = None) -> Any:
    """A :class:`jgod_core.risk.market_view.PanelMarketView` of ``panel`` as of ``date`` (inclusive).

    ``panel`` defaults to :func:`make_panel` (the real sample slice), ``date`` to its last date; a
    date that is not a trading day means the last one before it. Rules and routers see trailing
    bars and series ending there, never after. ``books`` attaches recorded 5-level books per symbol.
    """
    from jgod_core.risk.market_view import PanelMarketView

    panel = make_panel() if panel is None else panel
    return PanelMarketView(panel, _position(panel, date), dict(books or {}))


def risk_context(now: dt.datetime | str | None = None, market: Any = None, *,
                 positions: Mapping[str, int] | None = None, mark_prices: Mapping[str, float] | None = None,
                 equity: float = 10_000_000.0, day_start_equity: float | None = None, **fields: Any) -> "RiskContext":
    """A :class:`jgod_core.RiskContext` for judging orders in a test.

    ``now`` defaults to :data:`DEFAULT_NOW` (naive Taipei time, as the engine uses); ``market`` is a
    market view (:func:`market_view`) or None; ``equity`` NT$ (``day_start_equity`` defaults to it,
    so no day loss); ``positions`` signed shares; any other ``RiskContext`` field (``stage``,
    ``state``, ``blocked``, ``last_data``, ``multipliers`` …) by keyword.
    """
    from jgod_core.risk.engine import RiskContext

    if now is None:
        now = getattr(market, "date", None)
        now = DEFAULT_NOW if now is None else dt.datetime.combine(np.datetime64(now, "D").item(), dt.time(9, 0))
    elif isinstance(now, str):
        now = dt.datetime.fromisoformat(now)
    return RiskContext(now, market=market, positions=dict(positions or {}), mark_prices=dict(mark_prices or {}),
                       equity=float(equity), day_start_equity=float(equity if day_start_equity is None
                                                                     else day_start_equity), **fields)


def real_order(panel: "Panel | None" = None, symbol: str = "2330", date: str | dt.date | None = None, *,
               side: str = "buy", lots: int = 1, client_order_id: str = "KIT-1") -> "Order":
    """A small limit order at the sample's real prices: ``lots`` board lots of ``symbol``.

    The limit is the symbol's real close on ``date`` (default: the panel's last date with a close
    of ``symbol``), the reference price the close of the trading day before (what the exchange's
    ±10 % band is measured from); ``is_etf`` from the security master. Prices come from the
    exchange, so they lie on the tick ladder.
    """
    from jgod_core.execution.orders import Order, Side

    panel = make_panel() if panel is None else panel
    if symbol not in panel.symbols:
        raise ValueError(f"{symbol} is not in the panel ({', '.join(panel.symbols)})")
    row = panel.symbols.index(symbol)
    close = panel.field("close")[row]
    position = _position(panel, date)
    valid = np.flatnonzero(np.isfinite(close[: position + 1]))
    if len(valid) < 2:
        raise ValueError(f"{symbol} has no two closes on or before {panel.dates[position]}")
    day, previous = valid[-1], valid[-2]
    security_type = panel.attributes.get("security_type")
    is_etf = security_type is not None and str(security_type[row]).lower() == "etf"
    return Order(client_order_id, symbol, Side(side), int(lots) * 1000, Decimal(repr(float(close[day]))),
                 Decimal(repr(float(close[previous]))), is_etf=is_etf,
                 created_at=dt.datetime.combine(panel.dates[day].item(), dt.time(9, 0)))


def day_bar(panel: "Panel", symbol: str, date: str | dt.date | None = None) -> dict[str, Any]:
    """The real daily bar of ``symbol`` on ``date`` as a paper broker's ``set_day`` takes it
    (open, high, low, close, volume, reference = previous close, is_etf)."""
    order = real_order(panel, symbol, date)
    row = panel.symbols.index(symbol)
    j = _position(panel, order.created_at.date())
    bar = {name: float(panel.field(name)[row, j]) for name in ("open", "high", "low", "close", "volume")}
    return {**bar, "reference": float(order.reference_price), "is_etf": order.is_etf, "ts": order.created_at}


# -- time -----------------------------------------------------------------------------------------


def virtual_clock(start: str | dt.datetime | int = "2026-05-28 09:00", tz: str = "Asia/Taipei") -> "LoopClock":
    """A :class:`jgod_core.realtime.clock.LoopClock` on a new virtual-time event loop.

    ``start``: epoch nanoseconds, or a datetime / ``"YYYY-MM-DD HH:MM"`` in ``tz`` (naive values are
    taken in ``tz``). ``clock.now_ns()`` starts there; ``clock.loop.run_until_complete(...)`` runs a
    coroutine, and every ``asyncio.sleep`` jumps straight to its deadline, so an hour of session
    takes no wall time. Close ``clock.loop`` when done (the ``virtual_clock`` fixture does).
    """
    import pandas as pd

    from jgod_core.realtime.clock import LoopClock, VirtualTimeLoop

    if isinstance(start, (int, np.integer)):
        start_ns = int(start)
    else:
        stamp = pd.Timestamp(start)
        start_ns = (stamp.tz_localize(tz) if stamp.tzinfo is None else stamp).value
    return LoopClock(VirtualTimeLoop(), start_ns)


def _close_loops(clocks: Iterable["LoopClock"]) -> None:
    for clock in clocks:
        if not clock.loop.is_closed():
            clock.loop.close()
