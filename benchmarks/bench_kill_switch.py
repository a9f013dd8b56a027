"""Kill-switch benchmark: trigger → HALTED latency (p50/p99) while a strategy thread keeps sending orders.

Each trial: a fresh risk engine (tick ladder, price band, board lot, duplicate id) with its trading
state and audit chain in a SQLite store, a paper broker holding ``--working`` working child orders
(no bar today, so nothing fills), and a strategy thread sending 2330 orders through
engine → slicer → engine → ``engine.send`` as fast as it can. After a random 1–5 ms the main thread
calls ``engine.halt()``. Measured:

- latency from the trigger to the return of ``halt`` (state persisted, audit written, every
  working order cancelled) — p50 / p99 / max over ``--trials``;
- orders the broker received after the HALTED timestamp (must be 0);
- working orders left after the halt (must be 0);
- baseline in the same run: the time of one order through the gate and to the broker
  (median), so the halt is reported as a ratio of it.

The orders are made up for size (synthetic only for load); prices are on the real ladder.

Run: ``python benchmarks/bench_kill_switch.py [--trials 200 --working 200 --store-dir /tmp]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine

from jgod_core.execution.audit import AuditLog
from jgod_core.execution.orders import Order, Side, TradingState
from jgod_core.risk.engine import RiskContext, RiskEngine, TradingStateStore
from jgod_core.storage.models import AuditRecord, Base, TradingStateChange
from jgod_plugins.execution.paper import PaperBroker
from jgod_plugins.execution.slicer import SlicerRouter
from jgod_plugins.risk.board_lot import BoardLotRule
from jgod_plugins.risk.duplicate_order import DuplicateOrderRule
from jgod_plugins.risk.price_band import PriceBandRule
from jgod_plugins.risk.tick_ladder import TickLadderRule

NOW = dt.datetime(2024, 3, 1, 9, 0)


class TimedBroker(PaperBroker):
    """The paper broker, stamping each receipt with ``perf_counter``."""

    name = "timed_paper"

    def __init__(self, params=None):
        super().__init__(params)
        self.received_at: list[float] = []

    def submit(self, approved):
        self.received_at.append(time.perf_counter())
        return super().submit(approved)


def _engine(store_dir: Path, k: int) -> RiskEngine:
    db = create_engine(f"sqlite:///{store_dir / f'kill_{k}.sqlite'}")
    Base.metadata.create_all(db, tables=[TradingStateChange.__table__, AuditRecord.__table__])
    return RiskEngine([TickLadderRule(), PriceBandRule(), BoardLotRule(), DuplicateOrderRule()],
                      state_store=TradingStateStore(db), audit=AuditLog(db))


def _send_one(engine, broker, ctx, n: int, router) -> None:
    parent = Order(f"o{n}", "2330", Side.BUY, 1000, Decimal("600"), Decimal("600"))
    decision = engine.check(parent, ctx)
    if decision.approved is None:
        return
    for child in router.schedule(decision.approved):
        approved = engine.check_child(decision.approved, child, ctx).approved
        if approved is not None:
            engine.send(approved, broker)


def trial(store_dir: Path, k: int, working: int, rng: random.Random) -> dict:
    engine = _engine(store_dir, k)
    broker = TimedBroker()
    broker.set_day({})  # no bar: every order stays working
    ctx = RiskContext(NOW)
    router = SlicerRouter()
    for n in range(working):
        _send_one(engine, broker, ctx, n, router)
    stop = threading.Event()
    counter = [working]

    def strategy():
        while not stop.is_set():
            counter[0] += 1
            _send_one(engine, broker, ctx, counter[0], router)

    thread = threading.Thread(target=strategy)
    thread.start()
    time.sleep(rng.uniform(0.001, 0.005))
    start = time.perf_counter()
    engine.halt("benchmark kill switch", brokers=[broker])
    halted_at = time.perf_counter()
    stop.set()
    thread.join()
    after = sum(1 for t in broker.received_at if t > halted_at)
    return {"latency_ms": (halted_at - start) * 1e3, "sent_after_halt": after,
            "left_working": len(broker.open_orders()), "state": engine.state, "sent": len(broker.received_at)}


def baseline_ms(store_dir: Path, n: int = 2000) -> float:
    engine = _engine(store_dir, 99_999)
    broker = TimedBroker()
    broker.set_day({})
    ctx = RiskContext(NOW)
    router = SlicerRouter()
    times = []
    for k in range(n):
        t0 = time.perf_counter()
        _send_one(engine, broker, ctx, k, router)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--working", type=int, default=200)
    parser.add_argument("--store-dir", type=Path, default=None, help="Where the SQLite stores go (default: a temp dir).")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(dir=args.store_dir) as tmp:
        store_dir = Path(tmp)
        base = baseline_ms(store_dir)
        results = [trial(store_dir, k, args.working, rng) for k in range(args.trials)]
    lat = np.array([r["latency_ms"] for r in results])
    table = Table(title=f"kill switch: {args.trials} trials, {args.working} working orders each")
    for col in ("measure", "value"):
        table.add_column(col)
    table.add_row("halt latency p50 / p99 / max (ms)", f"{np.percentile(lat, 50):.2f} / {np.percentile(lat, 99):.2f} / "
                                                        f"{lat.max():.2f}")
    table.add_row("one order through the gate to the broker, median (ms, baseline)", f"{base:.3f}")
    table.add_row("p99 halt / baseline order", f"{np.percentile(lat, 99) / base:.1f}×")
    table.add_row("orders received after HALTED (all trials)", str(sum(r["sent_after_halt"] for r in results)))
    table.add_row("working orders left after halt (all trials)", str(sum(r["left_working"] for r in results)))
    table.add_row("trials ending HALTED", f"{sum(r['state'] is TradingState.HALTED for r in results)}/{len(results)}")
    table.add_row("p99 ≤ 100 ms", "yes" if np.percentile(lat, 99) <= 100 else "NO")
    Console().print(table)


if __name__ == "__main__":
    main()
