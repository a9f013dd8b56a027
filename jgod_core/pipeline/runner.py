"""Running a pipeline end to end: data → factors → combination → backtest → metrics → report.

``run_pipeline(path)`` is the notebook API (pandas results, ``_repr_html_`` shows the report);
``run_cli`` is what ``jgod run`` calls. Outputs of a run directory:

- ``summary.json``: pipeline sha256, data range, universe, metrics, per-factor IC / rank IC
  (mean, t-stat, Newey–West t-stat), rank IC decay over 1/5/20-day horizons, rank
  autocorrelation, quintile analysis of the combined score (``jgod_plugins.analysis.metrics``), missing
  components, warnings;
- ``factors.parquet``: ``date, symbol, factor, component, value`` (missing components in the
  parquet metadata key ``jgod.missing``);
- ``signals.parquet``: ``date, symbol, score, direction, confidence, reason``;
- ``trades.parquet``: ``date, symbol, side, shares, price, commission, tax``;
- ``equity.parquet``: ``date, equity, cash, unsettled, gross, net``;
- ``report.html``: self-contained (figures embedded as base64 PNG).

Files are written to a temporary directory first and moved in only when the run succeeded.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.panel import Panel as RichPanel
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from jgod_plugins.portfolio import combine as combination
from jgod_plugins.analysis import metrics as perf
from jgod_core.pipeline.assembly import Pipeline, Step
from jgod_core.plugin.components import Phase
from jgod_core.errors import JGodError, MissingDataError
from jgod_core.pipeline.panel import FactorResult, Panel

OUTPUT_FILES = ("summary.json", "factors.parquet", "signals.parquet", "trades.parquet", "equity.parquet",
                "report.html")
COMBINED = "combined"


class RunError(JGodError):
    """A pipeline run could not produce results (no data, nothing to combine …)."""


@dataclass
class RunResult:
    """Everything a run produced, as pandas objects (the notebook API)."""

    pipeline: Pipeline
    panel: Panel
    factors: pd.DataFrame
    signals: pd.DataFrame
    trades: pd.DataFrame
    equity: pd.DataFrame
    metrics: dict[str, Any]
    ic: pd.DataFrame
    summary: dict[str, Any]
    target_weights: pd.DataFrame
    missing: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    report_html: str = ""
    out: Path | None = None
    analytics: perf.FactorAnalytics | None = None

    def _repr_html_(self) -> str:
        return self.report_html or f"<pre>{json.dumps(self.metrics, indent=1)}</pre>"

    def __repr__(self) -> str:
        m = self.metrics
        return (f"RunResult({self.pipeline.config.name}: {len(self.trades)} trades, "
                f"CAGR {m.get('cagr', float('nan')):.2%}, Sharpe {m.get('sharpe', float('nan')):.2f})")


# -- progress ----------------------------------------------------------------------------------


class _Steps:
    """Rich progress bars (or nothing) for the long steps of a run."""

    def __init__(self, console: Console | None, enabled: bool) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(), console=self.console, disable=not enabled, transient=False,
        )

    @contextmanager
    def task(self, description: str, total: int = 1) -> Iterator[Any]:
        task_id = self.progress.add_task(description, total=total)
        yield lambda n=1: self.progress.advance(task_id, n)
        self.progress.update(task_id, completed=total)

    def warn(self, title: str, text: str) -> None:
        self.console.print(RichPanel(text, title=f"[bold red]WARNING: {title}", border_style="red"))


# -- data --------------------------------------------------------------------------------------


def _load_panel(pipeline: Pipeline, store: Any, steps: _Steps, progress: bool) -> Panel:
    """The run's panel from the store, after the data source filled it: a source's
    ``ensure_loaded(store, progress)`` loads only what is missing, else its ``load`` runs."""
    from jgod_core.data import load_panel
    from jgod_core.storage import open_store

    cfg = pipeline.config
    if store is None:
        url = cfg.data.store
        if url is not None and url.startswith("${"):
            from jgod_core.config.models import resolve_secret

            url = resolve_secret(url)
        store = open_store(url=url)
    source = pipeline.data_source.build()
    with steps.task(f"data source {source.name}"):
        loader = getattr(source, "ensure_loaded", None)
        if callable(loader):
            loader(store, progress=progress)
        elif callable(getattr(source, "load", None)):
            source.load(store, progress=progress)
    symbols = _requested_symbols(pipeline)
    with steps.task("loading panel"):
        panel = load_panel(store, symbols=symbols, start=cfg.data.start, end=cfg.data.end,
                           lookback_days=cfg.data.lookback_days)
    return panel


def _requested_symbols(pipeline: Pipeline) -> list[str] | None:
    universe = pipeline.config.universe
    if not universe.symbols:
        return None
    excluded = set(universe.exclude)
    return [s for s in universe.symbols if s not in excluded]


def _decision_range(panel: Panel, start: dt.date | None, end: dt.date | None) -> tuple[int, int]:
    dates = panel.dates
    first = int(np.searchsorted(dates, np.datetime64(start, "D"), side="left")) if start else 0
    last = int(np.searchsorted(dates, np.datetime64(end, "D"), side="right")) - 1 if end else len(dates) - 1
    if len(dates) == 0 or first > last:
        raise RunError(f"no trading days with data between {start} and {end}; "
                       f"the data read for this run (look-back included) spans {_span(panel)}")
    return first, last


def _span(panel: Panel) -> str:
    if len(panel.dates) == 0:
        return "no dates"
    return f"{panel.dates[0]} .. {panel.dates[-1]}"


def universe_coverage(panel: Panel, requested: list[str] | None, first: int, last: int,
                      exclude: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """``(absent, partial)``: symbols with no bar in the period, and symbols listed for only part of it."""
    absent: dict[str, str] = {}
    partial: dict[str, str] = {}
    wanted = requested if requested is not None else [s for s in panel.symbols if s not in exclude]
    index = {s: i for i, s in enumerate(panel.symbols)}
    close = panel.fields.get("close")
    days = last - first + 1
    for sym in wanted:
        i = index.get(sym)
        if i is None or close is None:
            absent[sym] = "no daily bars in the store"
            continue
        have = np.isfinite(close[i, first:last + 1])
        if not have.any():
            absent[sym] = "no daily bars in the run period"
        else:
            valid = np.nonzero(have)[0]
            if valid[0] > 0 or valid[-1] < days - 1:  # listed late or delisted; single halts are not gaps
                d0, d1 = panel.dates[first + valid[0]], panel.dates[first + valid[-1]]
                partial[sym] = f"bars on {int(have.sum())} of {days} trading days, only {d0} .. {d1}"
    return absent, partial


# -- factors -----------------------------------------------------------------------------------


def _run_factors(pipeline: Pipeline, panel: Panel, steps: _Steps) -> tuple[dict[str, FactorResult],
                                                                              dict[str, dict[str, str]],
                                                                              dict[str, float]]:
    results: dict[str, FactorResult] = {}
    missing: dict[str, dict[str, str]] = {}
    weights: dict[str, float] = {}
    factor_steps: list[Step] = pipeline.factor_steps
    with steps.task("factors", total=max(len(factor_steps), 1)) as advance:
        for step in factor_steps:
            if step.phase == Phase.INTRADAY:
                missing[step.name] = {"*": "intraday factor: needs live data, not run by the daily backtest"}
                advance()
                continue
            try:
                result = step.build().compute(panel)
            except MissingDataError as exc:
                missing[step.name] = {"*": str(exc)}
                advance()
                continue
            results[step.name] = result
            weights[step.name] = float(step.weight if step.weight is not None else 1.0)
            if result.missing:
                missing[step.name] = dict(result.missing)
            advance()
    return results, missing, weights


def factors_long(results: dict[str, FactorResult], panel: Panel, date_slice: slice) -> pd.DataFrame:
    """``date, symbol, factor, component, value`` of every step over the run's decision dates."""
    window = panel.window(date_slice.start, date_slice.stop)
    frames = []
    for step_name, result in results.items():
        cut = FactorResult(
            step_name,
            result.score[:, date_slice],
            {k: (v[:, date_slice] if v.ndim == 2 else v[date_slice]) for k, v in result.components.items()},
            result.missing,
        )
        frames.append(cut.to_long(window))
    if not frames:
        return pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "symbol": pd.Series(dtype=object),
                             "factor": pd.Series(dtype=object), "component": pd.Series(dtype=object),
                             "value": pd.Series(dtype=float)})
    return pd.concat(frames, ignore_index=True)


# -- the run -----------------------------------------------------------------------------------


def run_pipeline(pipeline_or_path: Pipeline | str | Path, out: str | Path | None = None, store: Any = None,
                 progress: bool = True, console: Console | None = None, panel: Panel | None = None) -> RunResult:
    """Run a pipeline on the store (the embedded real sample by default) and return pandas results.

    ``out``: write the run directory there too. ``panel``: run on this panel instead of the store
    (tests, notebooks with their own data).
    """
    from jgod_core.config.validate import load_pipeline

    pipeline = pipeline_or_path if isinstance(pipeline_or_path, Pipeline) else load_pipeline(pipeline_or_path)
    cfg = pipeline.config
    steps = _Steps(console, progress)
    warnings: list[str] = [f"{d.loc}: {d.message}" for d in pipeline.warnings]
    with steps.progress:
        if panel is None:
            panel = _load_panel(pipeline, store, steps, progress)
        if panel.shape[0] == 0 or panel.shape[1] == 0:
            raise RunError("the store returned no daily bars for this universe and period")
        first, last = _decision_range(panel, cfg.data.start, cfg.data.end)
        run_slice = slice(first, last + 1)

        requested = _requested_symbols(pipeline)
        absent, partial = universe_coverage(panel, requested, first, last, set(cfg.universe.exclude))
        results, missing, weights = _run_factors(pipeline, panel, steps)
        if not results:
            raise RunError(("no factor could be computed: " + "; ".join(f"{k}: {v.get('*', v)}" for k, v in missing.items()))
                           if missing else "the pipeline has no factor step")

        with steps.task("combining"):
            scores = {name: r.score for name, r in results.items()}
            combo = combination.combine(scores, weights, cfg.combine)
            signals = combination.signals_frame(combo, panel.symbols, panel.dates, cfg.combine, run_slice)
            halted = panel.fields.get("halted")
            close = panel.field("close")
            eligible = np.isfinite(close) & ((halted == 0) if halted is not None else True)
            decisions = combination.rebalance_days(panel.shape[1], first, last, cfg.portfolio.rebalance_days)
            weights_grid = combination.target_weights(
                combo.score, cfg.portfolio, decisions, panel.attributes.get("industry"), eligible,
                cfg.combine.min_abs_score,
            )

        trades, equity, initial_cash, lag, fill = _backtest(pipeline, panel, weights_grid, first, last, steps)

        with steps.task("metrics"):
            metrics = perf.performance(equity, trades, initial_cash) if equity is not None else {}
            forward = perf.forward_returns(panel, lag=lag, horizon=1, price=fill)
            ic_scores = {**{n: combo.standardized[n] for n in results}, COMBINED: combo.score}
            ic = perf.information_coefficients(
                {k: v[:, run_slice] for k, v in ic_scores.items()}, forward[:, run_slice], panel.dates[run_slice])
            ic_stats = perf.ic_summary(ic)
            analytics = perf.factor_analytics({k: v[:, run_slice] for k, v in ic_scores.items()}, panel, run_slice,
                                              lag=lag, price=fill, quantile_score=COMBINED)

        def warn(msg: str, title: str | None = None) -> None:
            """Keep ``msg`` for the summary; show it boxed under ``title``, or as a note."""
            warnings.append(msg)
            if title is not None:
                steps.warn(title, msg)
            else:
                steps.console.print(f"[yellow]note[/yellow]: {msg}")

        if absent:
            text = ", ".join(f"{s} ({why})" for s, why in absent.items())
            warn(f"data missing for {len(absent)} symbol(s) of the universe: {text}", "incomplete universe")
        if partial:
            warn("partial data (listed for only part of the period): " + "; ".join(
                f"{s}: {why}" for s, why in partial.items()))
        if missing:
            warn("missing factor components: " + "; ".join(
                f"{f}.{c}: {why}" for f, comps in missing.items() for c, why in comps.items()))
        if equity is not None and "adj_factor" not in panel.fields:
            warn("equity is on raw prices: cash dividends are not credited and splits are not adjusted "
                 f"({panel.why_missing('adj_factor')})")
        if equity is not None and len(trades) == 0:
            warn("the backtest made NO trades: " + _why_no_trades(signals, weights_grid[:, run_slice]), "zero trades")

        factors = factors_long(results, panel, run_slice)
        weights_frame = _weights_frame(weights_grid, panel, run_slice)
        summary = _summary(pipeline, panel, run_slice, requested, absent, partial, metrics, ic_stats, weights,
                           missing, warnings, len(trades), analytics)
        result = RunResult(pipeline, panel, factors, signals, trades, equity if equity is not None else
                           pd.DataFrame(columns=["date", "equity", "cash", "unsettled", "gross", "net"]),
                           metrics, ic, summary, weights_frame, missing, warnings, analytics=analytics)
        with steps.task("report"):
            from jgod_plugins.analysis.report import render_report

            result.report_html = render_report(result, combo, run_slice)
        if out is not None:
            with steps.task("writing outputs"):
                result.out = write_outputs(result, Path(out))
    return result


def _backtest(pipeline: Pipeline, panel: Panel, weights_grid: np.ndarray, first: int, last: int, steps: _Steps):
    step = pipeline.backtester
    if step is None:
        return pd.DataFrame(columns=["date", "symbol", "side", "shares", "price", "commission", "tax"]), None, \
            float("nan"), 1, "open"
    backtester = step.build()
    window = panel.window(0, last + 1)
    with steps.task(f"backtest {backtester.name}"):
        result = backtester.run(window, weights_grid[:, : last + 1], first_day=first)
    params = backtester.params
    return (result.trades, result.equity, result.initial_cash, int(getattr(params, "execution_lag_days", 1)),
            str(getattr(params, "fill_price", "open")))


def _why_no_trades(signals: pd.DataFrame, weights: np.ndarray) -> str:
    if signals.empty:
        return "no symbol has a combined score in the period (factor warm-up longer than the data?)"
    held = np.nan_to_num(np.abs(weights)).sum(axis=0)
    if not (held > 0).any():
        return ("no symbol qualified for a position (no positive scores in long-only mode, "
                "or min_abs_score too high)")
    return "orders never filled (limit-up/down, halts or no cash); check the period and lag"


def _weights_frame(weights: np.ndarray, panel: Panel, run_slice: slice) -> pd.DataFrame:
    w = weights[:, run_slice]
    dates = pd.DatetimeIndex(panel.dates[run_slice].astype("datetime64[ns]"))
    frame = pd.DataFrame(w.T, index=dates, columns=list(panel.symbols))
    frame.index.name = "date"
    return frame.dropna(how="all")


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _summary(pipeline, panel, run_slice, requested, absent, partial, metrics, ic_stats, weights, missing,
             warnings, n_trades, analytics: perf.FactorAnalytics) -> dict[str, Any]:
    cfg = pipeline.config
    dates = panel.dates[run_slice]
    return _clean({
        "pipeline": {"name": cfg.name, "path": str(pipeline.path), "sha256": pipeline.sha256},
        "data": {
            "source": cfg.data.source,
            "start": str(dates[0]), "end": str(dates[-1]), "trading_days": int(len(dates)),
            "loaded_from": str(panel.dates[0]), "lookback_days": cfg.data.lookback_days,
        },
        "universe": {
            "requested": requested if requested is not None else "all",
            "symbols": [s for s in panel.symbols if s not in absent],
            "missing": absent,
            "partial": partial,
        },
        "metrics": metrics,
        "factors": {name: {"weight": weights.get(name), **ic_stats.get(name, {}), **analytics.factor_summary(name)}
                    for name in weights},
        "combined": {**ic_stats.get(COMBINED, {}), **analytics.factor_summary(COMBINED)},
        "quantile_analysis": {"score": COMBINED, **analytics.quantiles},
        "interactions": [{"term": i.term, "weight": i.weight} for i in cfg.combine.interactions],
        "missing_components": missing,
        "warnings": warnings,
        "trades": n_trades,
        "backtest": ({"plugin": pipeline.backtester.entry.name, **pipeline.backtester.params.model_dump()}
                     if pipeline.backtester else None),
    })


# -- writing -----------------------------------------------------------------------------------


def _write_parquet(frame: pd.DataFrame, path: Path, metadata: dict[str, str] | None = None) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               **{k.encode(): v.encode() for k, v in metadata.items()}})
    pq.write_table(table, path)


def write_outputs(result: RunResult, out: Path) -> Path:
    """Write the run directory; all files appear together or not at all (no partial writes)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "summary.json").write_text(json.dumps(result.summary, indent=1, ensure_ascii=False), encoding="utf-8")
        _write_parquet(result.factors, tmp / "factors.parquet",
                       {"jgod.missing": json.dumps(result.missing, ensure_ascii=False),
                        "jgod.pipeline_sha256": result.pipeline.sha256})
        _write_parquet(result.signals, tmp / "signals.parquet")
        _write_parquet(result.trades, tmp / "trades.parquet")
        _write_parquet(result.equity, tmp / "equity.parquet")
        (tmp / "report.html").write_text(result.report_html, encoding="utf-8")
        out.mkdir(parents=True, exist_ok=True)
        for name in OUTPUT_FILES:
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def run_cli(pipeline: Pipeline, out: Path, console: Console) -> RunResult:
    """``jgod run``: run with progress bars, write ``out``, print the headline metrics."""
    result = run_pipeline(pipeline, out=out, progress=True, console=console)
    m = result.metrics
    if m:
        console.print(
            f"[bold]{pipeline.config.name}[/bold] {result.summary['data']['start']} .. {result.summary['data']['end']}: "
            f"CAGR {m['cagr']:.2%}  vol {m['annual_volatility']:.2%}  Sharpe {m['sharpe']:.2f}  "
            f"Sortino {m['sortino']:.2f}  maxDD {m['max_drawdown']:.2%}  trades {m['trades']}  "
            f"costs NT${m['costs_paid']:,.0f}"
        )
    ic = result.summary.get("factors", {})
    for name, stats in ic.items():
        console.print(f"  {name:<12} w={stats.get('weight')!s:<6} rank IC {_fmt(stats.get('rank_ic_mean'))} "
                      f"(t {_fmt(stats.get('rank_ic_t_stat'), 2)}, Newey-West t "
                      f"{_fmt(stats.get('rank_ic_hac_t_stat'), 2)})")
    console.print(f"wrote {out}/ ({', '.join(OUTPUT_FILES)})")
    return result


def _fmt(value: Any, digits: int = 4) -> str:
    return "n/a" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"
