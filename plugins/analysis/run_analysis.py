"""The analysis of one run: performance of the backtest, IC of every factor step and of the
combined score, and the factor analytics (decay, quintiles, rank autocorrelation).

Computed once per run (:func:`analysis_of` keeps it in ``result.extras``) from what the runner
hands the hooks: the equity and trades, the combination's standardised scores and combined
score, the panel, the decision dates and the backtester's execution assumptions (the forward
returns use the same lag and fill price as the fills). Formulas: :mod:`jgod_plugins.analysis.metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from jgod_plugins.analysis import metrics as perf

COMBINED = "combined"
EXTRAS_KEY = "jgod_plugins.analysis"


@dataclass(frozen=True)
class RunAnalysis:
    """Performance metrics, daily IC (``date, factor, ic, rank_ic``), IC statistics per score,
    and the factor analytics of one run."""

    performance: dict[str, float]
    ic: pd.DataFrame
    ic_stats: dict[str, dict[str, float]]
    analytics: perf.FactorAnalytics


def analysis_of(result: Any) -> RunAnalysis:
    """The :class:`RunAnalysis` of a :class:`jgod_core.pipeline.runner.RunResult` (computed on first use)."""
    cached = result.extras.get(EXTRAS_KEY)
    if cached is None:
        cached = result.extras[EXTRAS_KEY] = _analyse(result)
    return cached


def _analyse(result: Any) -> RunAnalysis:
    panel, run_slice, combo = result.panel, result.decision_slice, result.combination
    lag, fill = result.execution.lag_days, result.execution.fill_price
    performance = (perf.performance(result.equity, result.trades, result.initial_cash)
                   if result.backtested else {})
    forward = perf.forward_returns(panel, lag=lag, horizon=1, price=fill)
    scores = {**{n: combo.standardized[n] for n in result.factor_weights}, COMBINED: combo.score}
    in_run = {k: v[:, run_slice] for k, v in scores.items()}
    ic = perf.information_coefficients(in_run, forward[:, run_slice], panel.dates[run_slice])
    analytics = perf.factor_analytics(in_run, panel, run_slice, lag=lag, price=fill, quantile_score=COMBINED)
    return RunAnalysis(performance, ic, perf.ic_summary(ic), analytics)


def summary_entries(result: Any) -> dict[str, Any]:
    """The run's ``summary.json`` entries ``metrics``, ``factors``, ``combined`` and ``quantile_analysis``."""
    a = analysis_of(result)
    return {
        "metrics": a.performance,
        "factors": {name: {"weight": weight, **a.ic_stats.get(name, {}), **a.analytics.factor_summary(name)}
                    for name, weight in result.factor_weights.items()},
        COMBINED: {**a.ic_stats.get(COMBINED, {}), **a.analytics.factor_summary(COMBINED)},
        "quantile_analysis": {"score": COMBINED, **a.analytics.quantiles},
    }
