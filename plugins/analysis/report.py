"""The run report: one self-contained HTML file (figures embedded as base64 PNG, no CDN, no JS).

Sections (:func:`run_sections`, the analysis plugin's ``jgod_report_sections``): headline
metrics, equity curve and drawdown, per-factor IC over time (rolling mean of the daily rank IC),
per-factor IC table (plain and Newey–West t, rank autocorrelation), rank IC decay over forward
horizons, quintile returns of the combined score, factor correlation heat map (pooled
standardised scores), a five-factor radar of the latest day's strongest names, latest signals,
missing components and the universe's coverage. :func:`render_page` lays every plugin's
sections out with ``templates/report.html.j2`` (title, data warnings, then the sections).

Figures are drawn with matplotlib's object API (a :class:`~matplotlib.figure.Figure` on its own
Agg canvas): importing this module neither selects a backend nor touches pyplot's global state.
"""

from __future__ import annotations

import base64
import io
import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from jgod_core.pipeline.outputs import ReportSection
from jgod_plugins.analysis.metrics import drawdown_series
from jgod_plugins.analysis.run_analysis import analysis_of

if TYPE_CHECKING:
    from jgod_core.pipeline.runner import RunResult

IC_ROLLING_DAYS = 63
RADAR_NAMES = 3



@lru_cache(maxsize=1)
def templates() -> jinja2.Environment:
    """The plugin's jinja2 templates (``templates/*.j2``), HTML-escaped unless marked safe."""
    return jinja2.Environment(loader=jinja2.PackageLoader("jgod_plugins.analysis", "templates"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


def _figure(**kwargs: Any) -> Figure:
    """A figure on its own Agg canvas (no pyplot, no global backend)."""
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _note(text: str) -> str:
    return str(templates().from_string('<p class="note">{{ text }}</p>').render(text=text))


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return "n/a"
        return f"{value:,.4f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _table(rows: list[list[Any]], header: list[str]) -> str:
    """A table whose first column is left-aligned (``templates/table.html.j2``)."""
    return templates().get_template("table.html.j2").render(header=header, rows=[[_fmt(c) for c in r] for r in rows])


def equity_figure(equity: pd.DataFrame, benchmark: pd.Series | None = None) -> str:
    """Equity curve (NT$) above its drawdown; ``benchmark`` (an index level series) rebased to
    the starting equity for comparison."""
    if equity.empty:
        return '<p class="note">no backtest configured</p>'
    curve = equity.set_index("date")["equity"]
    fig = _figure(figsize=(10, 5.5))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot(curve.index, curve.to_numpy() / 1e6, color="#1f5fa8", label="strategy")
    if benchmark is not None:
        aligned = benchmark.reindex(curve.index).ffill().dropna()
        if not aligned.empty:
            rebased = aligned / aligned.iloc[0] * curve.loc[aligned.index[0]]
            top.plot(rebased.index, rebased.to_numpy() / 1e6, color="#888", lw=1, label=f"{benchmark.name} (rebased)")
            top.legend(loc="upper left", fontsize=8)
    top.set_ylabel("equity, NT$ million")
    top.grid(alpha=0.3)
    dd = drawdown_series(curve)
    bottom.fill_between(dd.index, dd.to_numpy() * 100, 0, color="#c0392b", alpha=0.5)
    bottom.set_ylabel("drawdown %")
    bottom.grid(alpha=0.3)
    return _png(fig)


def ic_figure(ic: pd.DataFrame) -> str:
    """Rolling mean of each factor's daily rank IC."""
    if ic.empty or ic["rank_ic"].notna().sum() == 0:
        return '<p class="note">no IC could be computed</p>'
    rolling = {}
    for name, group in ic.groupby("factor", sort=False):
        series = group.set_index("date")["rank_ic"].rolling(IC_ROLLING_DAYS, min_periods=IC_ROLLING_DAYS // 2).mean()
        if series.notna().any():
            rolling[name] = series
    if not rolling:
        return (f'<p class="note">too few dates for a {IC_ROLLING_DAYS}-day rolling IC '
                f'(at least {IC_ROLLING_DAYS // 2} with an IC are needed)</p>')
    fig = _figure(figsize=(10, 3.8))
    ax = fig.subplots()
    for name, series in rolling.items():
        ax.plot(series.index, series.to_numpy(), label=str(name), lw=2.2 if name == "combined" else 1.2)
    ax.axhline(0, color="#555", lw=0.8)
    ax.set_ylabel(f"rank IC, {IC_ROLLING_DAYS}-day mean")
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    ax.grid(alpha=0.3)
    return _png(fig)


def decay_figure(decay: pd.DataFrame) -> str:
    """Mean rank IC of each factor at each forward horizon (grouped bars)."""
    if decay.empty or decay["rank_ic_mean"].notna().sum() == 0:
        return '<p class="note">no IC decay could be computed</p>'
    table = decay.pivot(index="factor", columns="horizon", values="rank_ic_mean").reindex(decay["factor"].unique())
    fig = _figure(figsize=(10, 3.2))
    ax = fig.subplots()
    width = 0.8 / len(table.columns)
    x = np.arange(len(table))
    for k, horizon in enumerate(table.columns):
        ax.bar(x + (k - (len(table.columns) - 1) / 2) * width, table[horizon].to_numpy(), width, label=f"{horizon}d")
    ax.set_xticks(x, table.index)
    ax.axhline(0, color="#555", lw=0.8)
    ax.set_ylabel("mean rank IC")
    ax.legend(title="forward horizon", fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return _png(fig)


def quantile_figure(frame: pd.DataFrame, horizon: int) -> str:
    """Mean forward return per score quintile (bars) and the rolling mean of the top − bottom spread."""
    if frame.empty or frame["spread"].notna().sum() == 0:
        return '<p class="note">no quantile returns could be computed</p>'
    buckets = [c for c in frame.columns if c != "spread"]
    fig = _figure(figsize=(10, 3.2))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
    means = frame[buckets].mean() * 1e4
    left.bar(buckets, means.to_numpy(), color=["#c0392b" if v < 0 else "#1f5fa8" for v in means])
    left.set_ylabel(f"mean {horizon}-day return, bps")
    left.grid(alpha=0.3, axis="y")
    rolling = frame["spread"].rolling(IC_ROLLING_DAYS, min_periods=IC_ROLLING_DAYS // 2).mean() * 1e4
    right.plot(rolling.index, rolling.to_numpy(), color="#1f5fa8")
    right.axhline(0, color="#555", lw=0.8)
    right.set_ylabel(f"q{len(buckets)} − q1, {IC_ROLLING_DAYS}-day mean, bps")
    right.grid(alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def _analytics_sections(result: "RunResult") -> list[ReportSection]:
    """The IC decay and quantile sections."""
    a = analysis_of(result).analytics
    horizons = sorted(a.decay["horizon"].unique())
    cells = a.decay.set_index(["factor", "horizon"])
    rows = [[name] + [v for h in horizons for v in (cells.loc[(name, h), "rank_ic_mean"],
                                                    cells.loc[(name, h), "rank_ic_hac_t_stat"])]
            for name in a.decay["factor"].unique()]
    header = ["factor"] + [x for h in horizons for x in (f"rank IC {h}d", f"NW t {h}d")]
    decay = ReportSection("IC decay", "\n".join([
        _table(rows, header),
        _note("Rank IC of the score at the close of t with the return from the fill at t+lag "
              "to the fill h trading days later; Newey–West t with max(⌊4(T/100)^(2/9)⌋, h−1) lags."),
        decay_figure(a.decay)]), id="ic-decay")
    q = a.quantiles
    horizon = q.get("horizon_days")
    q_rows = [[name, value * 1e4] for name, value in q.get("mean_return_by_quantile", {}).items()]
    q_rows += [["top − bottom (bps)", q.get("spread_mean", float("nan")) * 1e4], ["spread t", q.get("spread_t_stat")],
               ["spread Newey–West t", q.get("spread_hac_t_stat")], ["Newey–West lags", q.get("hac_lags")],
               ["dates", q.get("dates")]]
    quintiles = ReportSection(f"Quintiles of the combined score ({horizon}-day forward return)", "\n".join([
        _table(q_rows, ["quintile (1 = lowest score)", "mean return, bps"]),
        _note("Per date, the symbols with a score and a forward return are cut into quintiles "
              "(as pandas.qcut); equal-weighted mean return per quintile, then averaged over dates."),
        quantile_figure(a.quantile_returns, horizon)]), id="quintiles")
    return [decay, quintiles]


def correlation_figure(standardized: dict[str, np.ndarray]) -> tuple[str, pd.DataFrame]:
    """Heat map of pooled (symbol-date) correlations between standardised factor scores."""
    frame = pd.DataFrame({k: v.ravel() for k, v in standardized.items()})
    corr = frame.corr()
    if corr.empty:
        return '<p class="note">no factor scores</p>', corr
    fig = _figure(figsize=(1.1 * len(corr) + 2.5, 1.0 * len(corr) + 1.5))
    ax = fig.subplots()
    im = ax.imshow(corr.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(corr)), corr.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(corr)), corr.index)
    for (r, c), v in np.ndenumerate(corr.to_numpy()):
        if np.isfinite(v):
            ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=8)
    fig.colorbar(im, ax=ax, shrink=0.8)
    return _png(fig), corr


def radar_figure(standardized: dict[str, np.ndarray], score: np.ndarray, symbols: list[str],
                 date: Any) -> str:
    """Radar of each factor's standardised score on the latest date for the top-scored names."""
    names = list(standardized)
    if len(names) < 3 or score.size == 0:
        return '<p class="note">a radar needs at least three factors</p>'
    last = score[:, -1]
    order = [i for i in np.argsort(-np.nan_to_num(last, nan=-np.inf)) if np.isfinite(last[i])][:RADAR_NAMES]
    if not order:
        return '<p class="note">no scores on the latest date</p>'
    angles = np.linspace(0, 2 * np.pi, len(names), endpoint=False)
    fig = _figure(figsize=(5.5, 5.5))
    ax = fig.add_subplot(111, polar=True)
    for i in order:
        values = np.array([standardized[k][i, -1] for k in names], dtype=float)
        values = np.clip(np.nan_to_num(values, nan=0.0), -3, 3)
        closed = np.concatenate([values, values[:1]])
        ax.plot(np.concatenate([angles, angles[:1]]), closed, label=f"{symbols[i]} ({last[i]:+.2f})")
        ax.fill(np.concatenate([angles, angles[:1]]), closed, alpha=0.1)
    ax.set_xticks(angles, names)
    ax.set_ylim(-3, 3)
    ax.set_title(f"standardised factor scores, {date}", fontsize=10)
    ax.legend(loc="lower right", bbox_to_anchor=(1.25, -0.1), fontsize=8)
    return _png(fig)


def _benchmark(panel) -> pd.Series | None:
    """TAIEX price index on the panel's dates, when loaded (dividends not included, like the run)."""
    if "taiex_close" not in panel.series:
        return None
    index = pd.DatetimeIndex(panel.dates.astype("datetime64[ns]"))
    return pd.Series(panel.series["taiex_close"], index=index, name="TAIEX price index")


def run_sections(result: "RunResult") -> list[ReportSection]:
    """The analysis plugin's sections of a run's report, in order."""
    s = result.summary
    run_slice, combo = result.decision_slice, result.combination
    standardized = {k: v[:, run_slice] for k, v in combo.standardized.items()}
    score = combo.score[:, run_slice]
    symbols = list(result.panel.symbols)
    last_date = str(result.panel.dates[run_slice][-1]) if score.shape[1] else "n/a"
    sections = [
        ReportSection("Metrics", _table([[k, v] for k, v in result.metrics.items()], ["metric", "value"]),
                      id="metrics"),
        ReportSection("Equity and drawdown", equity_figure(result.equity, _benchmark(result.panel)), id="equity"),
    ]
    columns = ("ic_mean", "ic_t_stat", "ic_hac_t_stat", "rank_ic_mean", "rank_ic_t_stat", "rank_ic_hac_t_stat",
               "hac_lags", "rank_autocorrelation", "dates")
    rows = [[name, st.get("weight"), *(st.get(k) for k in columns)] for name, st in s["factors"].items()]
    c = s.get("combined", {})
    rows.append(["combined score", None, *(c.get(k) for k in columns)])
    sections.append(ReportSection("Information coefficients", "\n".join([
        _table(rows, ["factor", "weight", "IC mean", "IC t", "IC NW t", "rank IC mean", "rank IC t",
                      "rank IC NW t", "NW lags", "rank autocorr", "dates"]),
        _note("IC: cross-sectional correlation of the standardised score at the close of t "
              "with the return from the fill at t+lag to the next day's fill. NW t: Newey–West (HAC) t-stat, "
              "robust to the autocorrelation of the daily IC. Rank autocorr: mean day-over-day Spearman "
              "correlation of the factor's score (near 1: slow ranking, low implied turnover)."),
        ic_figure(analysis_of(result).ic)]), id="information-coefficients"))
    sections.extend(_analytics_sections(result))
    heat, _ = correlation_figure(standardized)
    sections.append(ReportSection("Factor correlation", heat, id="factor-correlation"))
    sections.append(ReportSection("Five-factor radar, latest day", radar_figure(standardized, score, symbols, last_date),
                                  id="radar"))
    latest = result.signals[result.signals["date"] == result.signals["date"].max()] if len(result.signals) else None
    if latest is not None and len(latest):
        top = latest.reindex(latest["score"].abs().sort_values(ascending=False).index).head(15)
        sections.append(ReportSection(f"Signals on {last_date}", _table(
            [[r.symbol, r.score, r.direction, r.confidence, r.reason] for r in top.itertuples()],
            ["symbol", "score", "direction", "confidence", "strongest terms"]), id="signals"))
    missing_rows = [[f, comp, why] for f, comps in result.missing.items() for comp, why in comps.items()]
    sections.append(ReportSection("Missing components", _table(missing_rows, ["factor", "component", "reason"])
                                  if missing_rows else "<p>none: every component had its inputs</p>", id="missing"))
    uni_rows = [[sym, "absent", why] for sym, why in s["universe"]["missing"].items()]
    uni_rows += [[sym, "partial", why] for sym, why in s["universe"]["partial"].items()]
    sections.append(ReportSection("Universe", _table(uni_rows, ["symbol", "coverage", "detail"]) if uni_rows
                                  else "<p>complete</p>", id="universe"))
    return sections


def render_page(result: "RunResult", sections: list[ReportSection]) -> str:
    """``report.html`` of a run: title, pipeline and period, data warnings, then ``sections``."""
    return templates().get_template("report.html.j2").render(summary=result.summary, warnings=result.warnings,
                                                             sections=sections)
