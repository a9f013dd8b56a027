"""Running a pipeline end to end: data → factors → combiner → portfolio → backtest → metrics → report.

``run_pipeline(path)`` is the notebook API (pandas results, ``_repr_html_`` shows the report);
``run_cli`` is what ``jgod run`` calls. The runner only orchestrates: the combination, the target
weights and the fills are components of the pipeline (``combine:``, ``portfolio:``, ``backtest:``),
the metrics and the report come from plugins through hooks (:mod:`jgod_core.pipeline.outputs`).
Outputs of a run directory:

- ``summary.json``: pipeline sha256, data range, universe, then every plugin's run metrics
  (``jgod_run_metrics``; the built-in analysis plugin adds performance metrics, per-factor IC /
  rank IC with Newey–West t-stats, IC decay, rank autocorrelation and the quintile analysis of
  the combined score), missing components, warnings, trades and the backtester's params;
- ``factors.parquet``: ``date, symbol, factor, component, value`` (missing components in the
  parquet metadata key ``jgod.missing``);
- ``signals.parquet``: ``date, symbol, score, direction, confidence, reason``;
- ``trades.parquet``: ``date, symbol, side, shares, price, commission, tax``;
- ``equity.parquet``: ``date, equity, cash, unsettled, gross, net``;
- ``report.html``: self-contained (figures embedded as base64 PNG): every plugin's
  ``jgod_report_sections``, laid out by the first ``jgod_render_report``.

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

from jgod_core.config.assembly import Pipeline, Step
from jgod_core.data.panel import Combination, FactorResult, Panel
from jgod_core.errors import JGodError, MissingDataError
from jgod_core.pipeline.outputs import RunInfo, collect_metrics, collect_sections, render_report
from jgod_core.plugin.components import ExecutionAssumptions, Phase
from jgod_core.venue import venue_for

OUTPUT_FILES = ("summary.json", "factors.parquet", "signals.parquet", "trades.parquet", "equity.parquet",
                "report.html")


class RunError(JGodError):
    """A pipeline run could not produce results (no data, nothing to combine …)."""


@dataclass
class RunResult:
    """Everything a run produced, as pandas objects (the notebook API).

    ``combination``, ``factor_weights`` (step → YAML weight), ``decision_slice`` (the run's dates
    in the panel), ``execution`` (the backtester's lag and fill price), ``initial_cash`` and
    ``backtested`` are what the metric and report hooks compute from; ``extras`` is where a
    plugin keeps what it derived (the analysis plugin: its IC tables).
    """

    pipeline: Pipeline
    panel: Panel
    factors: pd.DataFrame
    signals: pd.DataFrame
    trades: pd.DataFrame
    equity: pd.DataFrame
    target_weights: pd.DataFrame
    combination: Combination
    factor_weights: dict[str, float]
    decision_slice: slice
    execution: ExecutionAssumptions
    initial_cash: float = float("nan")
    backtested: bool = False
    summary: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    report_html: str = ""
    out: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, Any]:
        """The summary's ``metrics`` entry (performance of the backtest), ``{}`` when none."""
        return self.summary.get("metrics") or {}

    def _repr_html_(self) -> str:
        return self.report_html or f"<pre>{json.dumps(self.metrics, indent=1)}</pre>"

    def __repr__(self) -> str:
        m = self.metrics
        return (f"RunResult({self.pipeline.config.name}: {len(self.trades)} trades, "
                f"CAGR {_number(m.get('cagr')):.2%}, Sharpe {_number(m.get('sharpe')):.2f})")


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


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
                           lookback_days=cfg.data.lookback_days, venue=venue_for(pipeline))
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
    hook = pipeline.kernel.hook
    run = RunInfo(Path(out) if out is not None else None, dt.datetime.now(dt.timezone.utc))
    hook.jgod_run_started(pipeline=pipeline, run=run)
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
        combiner, portfolio = _required(pipeline.combiner, "combine"), _required(pipeline.portfolio, "portfolio")

        with steps.task(f"combining ({combiner.entry.name}, {portfolio.entry.name})"):
            scores = {name: r.score for name, r in results.items()}
            combining = combiner.build()
            combo = combining.combine(scores, weights)
            signals = combining.signals(combo, panel.symbols, panel.dates, run_slice)
            weights_grid = portfolio.build().target_weights(combo, panel, first, last)

        trades, equity, initial_cash, execution = _backtest(pipeline, panel, weights_grid, first, last, steps)

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

        result = RunResult(
            pipeline, panel, factors_long(results, panel, run_slice), signals, trades,
            equity if equity is not None else
            pd.DataFrame(columns=["date", "equity", "cash", "unsettled", "gross", "net"]),
            _weights_frame(weights_grid, panel, run_slice), combo, weights, run_slice, execution,
            initial_cash=initial_cash, backtested=equity is not None, missing=missing, warnings=warnings,
        )
        with steps.task("metrics"):
            contributed = collect_metrics(hook, result)
        result.summary = _summary(pipeline, panel, run_slice, requested, absent, partial, contributed, missing,
                                  warnings, len(trades))
        with steps.task("report"):
            result.report_html = render_report(hook, result, collect_sections(hook, result),
                                               f"J-GOD run {cfg.name}")
        if out is not None:
            with steps.task("writing outputs"):
                result.out = write_outputs(result, Path(out))
    hook.jgod_run_finished(pipeline=pipeline, run=run, result=result)
    return result


def _required(step: Step | None, section: str) -> Step:
    """The pipeline's combiner / portfolio step; a :class:`RunError` when none is installed."""
    if step is None:
        raise RunError(f"no component for the pipeline's `{section}:` section: none is installed as the default; "
                       f"install one (see `jgod plugins`) and name it with `{section}: {{plugin: ...}}`")
    return step


def _backtest(pipeline: Pipeline, panel: Panel, weights_grid: np.ndarray, first: int, last: int, steps: _Steps):
    """``(trades, equity or None, initial cash, execution assumptions)`` of the pipeline's backtester."""
    step = pipeline.backtester
    if step is None:
        return pd.DataFrame(columns=["date", "symbol", "side", "shares", "price", "commission", "tax"]), None, \
            float("nan"), ExecutionAssumptions()
    backtester = step.build()
    window = panel.window(0, last + 1)
    with steps.task(f"backtest {backtester.name}"):
        result = backtester.run(window, weights_grid[:, : last + 1], first_day=first)
    return result.trades, result.equity, result.initial_cash, backtester.execution_assumptions()


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


def _summary(pipeline, panel, run_slice, requested, absent, partial, contributed: dict[str, Any], missing,
             warnings, n_trades) -> dict[str, Any]:
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
        **contributed,
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


_HEADLINE = ("cagr", "annual_volatility", "sharpe", "sortino", "max_drawdown", "trades", "costs_paid")


def run_cli(pipeline: Pipeline, out: Path, console: Console) -> RunResult:
    """``jgod run``: run with progress bars, write ``out``, print the headline metrics."""
    result = run_pipeline(pipeline, out=out, progress=True, console=console)
    m = result.metrics
    if m and all(isinstance(m.get(k), (int, float)) for k in _HEADLINE):
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
