"""Backtest benchmark: the same orders through ``tw_backtest`` and vectorbt ``Portfolio.from_orders``.

Seeded synthetic panel (synthetic only for size), 1,800 symbols × 2,600 days by default: random
-walk prices on the tick ladder, rare halts, a top-50 long-only book rebalanced weekly from
seeded scores (through :func:`jgod_plugins.portfolio.top_n.target_weights`).

- J-GOD: ``TaiwanBacktest.run`` (lots, ladder, ±10 % limits, halts, costs, T+2), warm: best of
  ``--repeat`` runs after one JIT run;
- vectorbt: ``Portfolio.from_orders`` fed the exact fills J-GOD produced (signed shares at the
  fill price on the fill day, cash shared across the book, sells first), warm the same way.
  Equal trade counts are required (the script fails otherwise);
- cold start, reported separately: a fresh interpreter importing the backtester and running a
  tiny case, with the numba on-disk cache as it is (normal second use) and with an empty cache
  (first use after install: import + JIT compile).

Run: ``python benchmarks/bench_backtest.py [--symbols 1800 --days 2600 --repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from jgod_core.data.panel import Panel
from jgod_plugins.backtest.tw_backtest import TaiwanBacktest, TaiwanBacktestParams
from jgod_plugins.portfolio.top_n import TopNParams, rebalance_days, target_weights
from jgod_plugins.tw_market import rules as market_rules

COLD_SNIPPET = """
import time
t0 = time.perf_counter()
import numpy as np
from jgod_core.data.panel import Panel
from jgod_plugins.backtest.tw_backtest import TaiwanBacktest
t1 = time.perf_counter()
d = np.array(["2024-01-02", "2024-01-03", "2024-01-04"], dtype="datetime64[D]")
px = np.array([[10.0, 10.5, 10.2]])
p = Panel(("1101",), d, {"open": px, "close": px, "halted": np.zeros((1, 3))})
w = np.array([[0.5, np.nan, np.nan]])
TaiwanBacktest().run(p, w)
t2 = time.perf_counter()
print(f"{t1 - t0:.4f} {t2 - t1:.4f}")
"""


def synthetic_panel(n: int, t: int, seed: int = 7) -> Panel:
    rng = np.random.default_rng(seed)
    ret = rng.normal(0.0002, 0.02, (n, t))
    close = 10 * np.exp(np.cumsum(ret, axis=1)) * rng.uniform(1, 60, (n, 1))
    open_ = close * np.exp(rng.normal(0, 0.01, (n, t)))
    etf = np.zeros((n, t), dtype=bool)
    close = market_rules.round_to_tick(close, etf)
    open_ = market_rules.round_to_tick(open_, etf)
    halted = rng.random((n, t)) < 0.002
    open_[halted] = np.nan
    close[halted] = np.nan
    dates = np.busday_offset(np.datetime64("2015-01-05"), np.arange(t), roll="forward")
    symbols = tuple(f"{1000 + i:04d}" for i in range(n))
    industries = np.array([f"group{i % 30}" for i in range(n)], dtype=object)
    return Panel(symbols, dates, {"open": open_, "close": close, "halted": halted.astype(float)},
                 attributes={"industry": industries, "security_type": np.array(["stock"] * n, dtype=object)})


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def cold_start(fresh_cache: bool) -> tuple[float, float]:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        if fresh_cache:
            env["NUMBA_CACHE_DIR"] = cache
        out = subprocess.run([sys.executable, "-c", COLD_SNIPPET], env=env, capture_output=True, text=True, check=True)
    imp, first = (float(x) for x in out.stdout.split())
    return imp, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=1800)
    parser.add_argument("--days", type=int, default=2600)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    console = Console()

    panel = synthetic_panel(args.symbols, args.days)
    n, t = panel.shape
    rng = np.random.default_rng(11)
    score = rng.normal(size=(n, t))
    weights = target_weights(score, TopNParams(top_n=50, max_weight=0.02, sector_cap=0.3, gross_exposure=0.95),
                             rebalance_days(t, 0, t - 1, 5), panel.attributes["industry"])
    params = TaiwanBacktestParams(initial_cash=5e9, commission_discount=0.6)
    bt = TaiwanBacktest(params)
    result = bt.run(panel, weights)  # JIT warm-up
    jgod_s = best_of(lambda: bt.run(panel, weights), args.repeat)
    trades = result.trades

    try:
        import vectorbt as vbt
    except ImportError as exc:  # vectorbt 1.x needs pandas 3; 0.28.x works with pandas 2 / numpy 2
        console.print(f"[red]vectorbt is not importable ({exc}); install `vectorbt<1` and `plotly<6`")
        raise SystemExit(1) from None

    index = pd.DatetimeIndex(panel.dates.astype("datetime64[ns]"))
    columns = list(panel.symbols)
    close = pd.DataFrame(panel.fields["close"].T, index=index, columns=columns).ffill().bfill()
    size = pd.DataFrame(np.nan, index=index, columns=columns)
    price = pd.DataFrame(np.nan, index=index, columns=columns)
    signed = np.where(trades["side"] == "buy", 1.0, -1.0) * trades["shares"].to_numpy()
    rows = index.get_indexer(trades["date"])
    cols = pd.Index(columns).get_indexer(trades["symbol"])
    size.values[rows, cols] = signed
    price.values[rows, cols] = trades["price"].to_numpy()
    fees = market_rules.COMMISSION_RATE * params.commission_discount

    def run_vbt():
        return vbt.Portfolio.from_orders(close, size=size, price=price, size_type="amount", direction="both",
                                         fees=fees, init_cash=params.initial_cash, cash_sharing=True,
                                         group_by=True, call_seq="auto", freq="1D")

    pf = run_vbt()  # JIT warm-up
    vbt_s = best_of(run_vbt, args.repeat)
    vbt_trades = int(pf.orders.count().sum()) if hasattr(pf.orders.count(), "sum") else int(pf.orders.count())
    if vbt_trades != len(trades):
        console.print(f"[red]trade counts differ: J-GOD {len(trades)}, vectorbt {vbt_trades}")
        raise SystemExit(1) from None

    cold_cached = cold_start(fresh_cache=False)
    cold_fresh = cold_start(fresh_cache=True)

    table = Table(title=f"backtest, {n} symbols × {t} days = {n * t:,} cells, {len(trades):,} trades")
    for col in ("engine", "warm seconds", "ns / cell", "vs J-GOD"):
        table.add_column(col, justify="right")
    table.add_row("J-GOD tw_backtest", f"{jgod_s:.4f}", f"{jgod_s / (n * t) * 1e9:.2f}", "1.0×")
    table.add_row(f"vectorbt {vbt.__version__} from_orders", f"{vbt_s:.4f}", f"{vbt_s / (n * t) * 1e9:.2f}",
                  f"{vbt_s / jgod_s:.1f}× slower" if vbt_s >= jgod_s else f"{jgod_s / vbt_s:.1f}× faster")
    console.print(table)
    console.print(f"trade counts equal: {len(trades):,} (vectorbt orders {vbt_trades:,})")
    console.print(f"cold start, numba cache warm: import {cold_cached[0]:.2f} s + first run {cold_cached[1]:.2f} s")
    console.print(f"cold start, empty numba cache (import + JIT): import {cold_fresh[0]:.2f} s + "
                  f"first run {cold_fresh[1]:.2f} s")


if __name__ == "__main__":
    main()
