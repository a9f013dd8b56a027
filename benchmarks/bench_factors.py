"""Factor-panel benchmark: all five factors on 1,800 symbols × 2,600 days.

Compares, in the same run and on the same seeded synthetic panel (synthetic only for size):

- J-GOD: ``f_c, f_s, f_d, f_stat, f_exec`` ``compute(panel)`` (warm, after one JIT run; the cold
  first call is reported separately). Every timed run gets a new ``Panel`` instance over the same
  arrays, so the inputs the factors share (masked prices, returns, betas; memoised per panel
  instance) are computed inside the timer, once per run, as in a pipeline run;
- pandas wide: the independent pandas implementation of every component and score used by the
  tests (``tests/plugins/factors/reference.py``), frames prepared outside the timer;
- per factor: each J-GOD factor alone on a new panel (so it pays for every shared input it
  reads) against its pandas-wide reference, and the shared inputs alone;
- pandas groupby-rolling: the per-symbol rolling components (LAC, LAC z-score, VWAP deviation,
  volume spike, heat volume means, micro-reversal bar size) on a long frame with
  ``groupby("symbol").rolling``; this covers a subset of the work, so its ratio flatters pandas;
- bandwidth floor: a numba loop that writes every per-symbol output array J-GOD produces by
  copying an input array (same bytes read and written, no arithmetic), twice: into freshly
  allocated arrays (what any implementation returning new arrays pays, page faults included)
  and into reused, already-touched buffers (the pure memory-bandwidth floor).

``--reuse-freed-memory`` sets glibc's ``mallopt`` so freed large arrays stay in the heap and
are reused without fresh page faults; it applies to every contender in the run.

Run: ``python benchmarks/bench_factors.py [--symbols 1800 --days 2600]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from numba import njit
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from jgod_core.data.panel import Panel
from jgod_plugins.factors import factor_classes
from jgod_plugins.factors.drive import DEFAULT_THEME_GROUPS
from jgod_plugins.sdk.factors import beta_zscore, factor_inputs, typical_price

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("factor_reference", ROOT / "tests/plugins/factors/reference.py")
reference = sys.modules.setdefault("factor_reference", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(reference)

INDUSTRIES = [g for groups in DEFAULT_THEME_GROUPS.values() for g in groups] + ["其他業"]


def synthetic_panel(n: int, t: int, seed: int = 20240601) -> Panel:
    """Seeded random-walk OHLCV with halts, industries, TAIEX/TX/VIX/ES series; symbol 0 is 0050."""
    rng = np.random.default_rng(seed)
    market = rng.normal(0.0003, 0.011, t)
    beta = rng.uniform(0.4, 1.6, (n, 1))
    ret = beta * market + rng.normal(0, 0.018, (n, t))
    close = 50 * np.exp(np.cumsum(ret, axis=1)) * rng.uniform(0.2, 20, (n, 1))
    open_ = close * np.exp(rng.normal(0, 0.008, (n, t)))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.006, (n, t))))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.006, (n, t))))
    volume = np.round(np.exp(rng.normal(13, 1.0, (n, 1)) + rng.normal(0, 0.5, (n, t))))
    halted = rng.random((n, t)) < 0.002
    for arr in (open_, high, low, close):
        arr[halted] = np.nan
    volume[halted] = 0.0
    taiex = 10000 * np.exp(np.cumsum(market))
    series = {
        "taiex_close": taiex,
        "tx_close": taiex + np.cumsum(rng.normal(0, 5, t)) * 0.1 + rng.normal(-20, 15, t),
        "vix_close": 18 * np.exp(np.cumsum(rng.normal(0, 0.05, t)) * 0.3),
        "es_close": 3000 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, t))),
    }
    symbols = ("0050",) + tuple(f"{1101 + i:04d}" for i in range(1, n))
    dates = np.arange(np.datetime64("2015-01-05"), np.datetime64("2015-01-05") + t)
    fields = {"open": open_, "high": high, "low": low, "close": close, "volume": volume,
              "halted": halted.astype(float)}
    industry = np.array([INDUSTRIES[k] for k in rng.integers(0, len(INDUSTRIES), n)], dtype=object)
    return Panel(symbols, dates, fields, series, {"industry": industry})


def new_instance(panel: Panel) -> Panel:
    """The same arrays in a new ``Panel``: nothing derived from them is memoised yet."""
    return Panel(panel.symbols, panel.dates, panel.fields, panel.series, panel.attributes, panel.missing)


def run_jgod(panel: Panel) -> dict:
    fresh = new_instance(panel)
    return {f.name: f().compute(fresh) for f in factor_classes()}


def run_jgod_factor(factor, panel: Panel):
    return factor().compute(new_instance(panel))


def run_shared_inputs(panel: Panel) -> None:
    fresh = new_instance(panel)
    params = factor_classes()[0].Params()
    factor_inputs(fresh)
    typical_price(fresh)
    beta_zscore(fresh, params)


def time_pandas_wide_factors(frames, panel: Panel) -> dict[str, float]:
    """Seconds of each factor's pandas-wide reference (the same calls as ``run_pandas_wide``)."""
    calls = run_pandas_wide(frames, panel, lazy=True)
    return {name: timed(call)[0] for name, call in calls.items()}


def run_pandas_wide(frames, panel: Panel, lazy: bool = False) -> dict:
    group_theme = {g: t for t, groups in DEFAULT_THEME_GROUPS.items() for g in groups}
    theme_of = {s: group_theme.get(g) for s, g in zip(panel.symbols, panel.attributes["industry"])}
    calls = {
        "f_c": lambda: reference.f_c(frames, factor_classes()[0].Params()),
        "f_s": lambda: reference.f_s(frames, factor_classes()[1].Params()),
        "f_d": lambda: reference.f_d(frames, factor_classes()[2].Params(), theme_of),
        "f_stat": lambda: reference.f_stat(frames, factor_classes()[3].Params()),
        "f_exec": lambda: reference.f_exec(frames, factor_classes()[4].Params()),
    }
    return calls if lazy else {name: call() for name, call in calls.items()}


def long_frame(frames) -> pd.DataFrame:
    cols = {name: getattr(frames, name).stack(future_stack=True) for name in ("open", "high", "low", "close", "volume")}
    long = pd.DataFrame(cols)
    long.index.names = ["date", "symbol"]
    return long.swaplevel().sort_index()


def run_pandas_groupby(long: pd.DataFrame) -> dict:
    """The per-symbol rolling components with groupby-rolling (defaults of the factor params)."""
    mp = reference.mp
    by = long.groupby(level="symbol", group_keys=False)
    tp = (long["high"] + long["low"] + long["close"]) / 3
    v = long["volume"]

    def roll(s: pd.Series, window: int, how: str) -> pd.Series:
        out = getattr(s.groupby(level="symbol").rolling(window, min_periods=mp(window, 0.9)), how)()
        return out.droplevel(0)

    lac = roll(tp * v, 60, "sum") / roll(v.where(tp.notna()), 60, "sum")
    dev = long["close"] - lac
    z = (dev - roll(dev, 252, "mean")) / roll(dev, 252, "std")
    vwap_dev = long["close"] / (roll(tp * v, 20, "sum") / roll(v.where(tp.notna()), 20, "sum")) - 1
    spike = v / roll(by["volume"].shift(1), 20, "mean")
    recent, baseline = roll(v, 5, "mean"), roll(v, 60, "mean")
    body = (long["close"] / long["open"] - 1).abs()
    size = roll(body.groupby(level="symbol").shift(1), 20, "mean")
    return {"lac": lac, "lac_deviation_z": z.replace([np.inf, -np.inf], np.nan), "vwap_deviation": vwap_dev,
            "volume_spike": spike, "recent": recent, "baseline": baseline, "size": size}


@njit(cache=True)
def _copy(dst, src):
    n, t = dst.shape
    for i in range(n):
        for j in range(t):
            dst[i, j] = src[i, j]


def run_floor(panel: Panel, outputs: list[np.ndarray]) -> None:
    inputs = [panel.fields[k] for k in ("open", "high", "low", "close", "volume", "halted")]
    for k, out in enumerate(outputs):
        _copy(out, inputs[k % len(inputs)])


def run_floor_fresh(panel: Panel, count: int) -> list[np.ndarray]:
    outputs = [np.empty(panel.shape) for _ in range(count)]
    run_floor(panel, outputs)
    return outputs


def keep_freed_memory() -> None:
    """Ask glibc to serve large arrays from the heap and not return freed memory to the OS."""
    import ctypes

    libc = ctypes.CDLL("libc.so.6")
    m_trim_threshold, m_mmap_threshold = -1, -3
    if not (libc.mallopt(m_mmap_threshold, 1 << 30) and libc.mallopt(m_trim_threshold, (1 << 31) - 1)):
        raise SystemExit("mallopt refused the thresholds")


def timed(fn, *args, repeat: int = 1):
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def max_differences(jgod: dict, wide: dict) -> tuple[float, float, int]:
    worst_abs, worst_rel, compared = 0.0, 0.0, 0
    for factor, result in jgod.items():
        computed = {"score": result.score, **result.components}
        for name, want in wide[factor].items():
            want = want.to_numpy().T if isinstance(want, pd.DataFrame) else want.to_numpy()
            got = computed[name]
            if np.isnan(got).any() != np.isnan(want).any() or not np.array_equal(np.isnan(got), np.isnan(want)):
                raise AssertionError(f"{factor}.{name}: NaN pattern differs from pandas")
            diff = np.abs(got - want)
            worst_abs = max(worst_abs, float(np.nanmax(diff, initial=0.0)))
            with np.errstate(invalid="ignore", divide="ignore"):
                worst_rel = max(worst_rel, float(np.nanmax(diff / np.maximum(np.abs(want), 1.0), initial=0.0)))
            compared += 1
    return worst_abs, worst_rel, compared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=1800)
    parser.add_argument("--days", type=int, default=2600)
    parser.add_argument("--repeat", type=int, default=3, help="J-GOD and floor runs (best is kept)")
    parser.add_argument("--reuse-freed-memory", action="store_true", help="glibc mallopt for every contender")
    parser.add_argument("--no-per-factor-pandas", dest="per_factor_pandas", action="store_false",
                        help="skip the second pandas-wide run that times each factor's reference")
    args = parser.parse_args()
    if args.reuse_freed_memory:
        keep_freed_memory()
    console = Console()
    cells = args.symbols * args.days
    load_before = os.getloadavg()

    with Progress(console=console, transient=False) as progress:
        task = progress.add_task("building panel", total=9)
        panel = synthetic_panel(args.symbols, args.days)
        frames = reference.Frames.of(panel)
        progress.update(task, advance=1, description="J-GOD cold (import + JIT)")
        cold, _ = timed(run_jgod, panel)
        progress.update(task, advance=1, description="J-GOD warm")
        warm, jgod = timed(run_jgod, panel, repeat=args.repeat)
        progress.update(task, advance=1, description="J-GOD per factor")
        shared_time, _ = timed(run_shared_inputs, panel, repeat=args.repeat)
        jgod_factor_times = {f.name: timed(run_jgod_factor, f, panel, repeat=args.repeat)[0] for f in factor_classes()}
        progress.update(task, advance=1, description="pandas wide")
        wide_time, wide = timed(run_pandas_wide, frames, panel)
        wide_factor_times = time_pandas_wide_factors(frames, panel) if args.per_factor_pandas else {}
        progress.update(task, advance=1, description="pandas groupby-rolling (subset)")
        long = long_frame(frames)
        groupby_time, grouped = timed(run_pandas_groupby, long)
        progress.update(task, advance=1, description="bandwidth floor")
        per_symbol = [a for r in jgod.values() for a in [r.score, *r.components.values()] if a.ndim == 2]
        outputs = [np.empty_like(a) for a in per_symbol]
        run_floor(panel, outputs)  # compile
        floor, _ = timed(run_floor, panel, outputs, repeat=args.repeat)
        floor_fresh, _ = timed(run_floor_fresh, panel, len(outputs), repeat=args.repeat)
        progress.update(task, advance=1, description="comparing")
        worst_abs, worst_rel, compared = max_differences(jgod, wide)
        lac_gb = grouped["lac"].unstack("symbol").reindex(columns=list(panel.symbols)).to_numpy().T
        lac_ours = jgod["f_c"].components["lac"]
        gb_diff = float(np.nanmax(np.abs(np.where(np.isnan(lac_ours), np.nan, lac_gb) - lac_ours)))
        progress.update(task, advance=2, description="done")

    moved = sum(a.nbytes for a in outputs) * 2
    table = Table(title=f"five factors on {args.symbols} symbols × {args.days} days ({cells:,} cells)")
    for col in ("implementation", "seconds", "ns / cell", "J-GOD speed-up"):
        table.add_column(col, justify="right" if col != "implementation" else "left")
    rows = [("J-GOD warm", warm), ("J-GOD cold (first call, JIT)", cold), ("pandas wide", wide_time),
            ("pandas groupby-rolling (subset)", groupby_time), ("floor: copy into fresh arrays", floor_fresh),
            ("floor: copy into reused buffers", floor)]
    for label, seconds in rows:
        table.add_row(label, f"{seconds:.3f}", f"{seconds / cells * 1e9:.1f}", f"{seconds / warm:.1f}×")
    console.print(table)
    per_factor = Table(title="per factor (J-GOD alone on a new panel: pays for the shared inputs it reads)")
    for col in ("factor", "J-GOD s", "ns / cell", "pandas wide s", "J-GOD speed-up"):
        per_factor.add_column(col, justify="right" if col != "factor" else "left")
    for name, seconds in jgod_factor_times.items():
        pandas_seconds = wide_factor_times.get(name)
        per_factor.add_row(name, f"{seconds:.3f}", f"{seconds / cells * 1e9:.1f}",
                           "-" if pandas_seconds is None else f"{pandas_seconds:.3f}",
                           "-" if pandas_seconds is None else f"{pandas_seconds / seconds:.1f}×")
    per_factor.add_row("shared inputs alone", f"{shared_time:.3f}", f"{shared_time / cells * 1e9:.1f}", "-", "-")
    console.print(per_factor)
    console.print(f"floor moves {moved / 1e9:.2f} GB ({len(outputs)} per-symbol outputs read+written) "
                  f"= {moved / floor / 1e9:.1f} GB/s into reused buffers; J-GOD warm takes "
                  f"{warm / floor_fresh:.1f}× the fresh-array floor and {warm / floor:.1f}× the reused-buffer floor")
    console.print(f"J-GOD vs pandas wide: {compared} arrays, max abs diff {worst_abs:.3g}, "
                  f"max diff relative to max(|value|, 1) {worst_rel:.3g}; identical NaN patterns")
    console.print(f"J-GOD vs pandas groupby-rolling LAC: max abs diff {gb_diff:.3g}")
    console.print(f"load average (1, 5, 15 min) before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
                  f"after {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
