"""Combiner and portfolio components named by the pipeline, and the run hooks (metrics, report
sections, lifecycle), with components registered by a test plugin, on the real sample."""

from __future__ import annotations

import json
import subprocess
import sys
import types
import warnings

import numpy as np
import pandas as pd
import pytest
from pydantic import Field

from jgod_core import PluginPolicy, load_kernel
from jgod_core.config.validate import load_pipeline
from jgod_core.data.panel import Combination
from jgod_core.pipeline.outputs import OutputConflictError, ReportSection, collect_metrics
from jgod_core.pipeline.runner import run_pipeline
from jgod_core.plugin.components import Combiner, Params, PortfolioConstructor
from jgod_core.plugin.spec import hookimpl

PIPELINE = """\
version: 1
name: third_party
data:
  source: sample
  start: 2024-01-02
  end: 2024-03-29
  lookback_days: 60
phases:
  post_market:
    schedule: "14:00"
    steps:
      - {plugin: f_stat, weight: 1.0}
      - {plugin: f_s, weight: 0.5}
combine:
  plugin: mean_of_scores
  scale: 2.0
portfolio:
  plugin: hold_best
backtest:
  plugin: tw_backtest
"""


class MeanParams(Params):
    scale: float = Field(1.0, gt=0, le=10, description="Multiplier of the mean score.")


class MeanOfScores(Combiner[MeanParams]):
    """Test combiner: ``scale`` × the mean of the raw factor scores (no standardisation)."""

    name = "mean_of_scores"
    Params = MeanParams

    def combine(self, scores, weights):
        stack = np.stack(list(scores.values()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a symbol-date without any score stays NaN
            score = np.nanmean(np.where(np.isfinite(stack), stack, np.nan), axis=0) * self.params.scale
        return Combination(score, dict(scores), dict(scores))

    def signals(self, combination, symbols, dates, date_slice):
        score = combination.score[:, date_slice]
        si, di = np.nonzero(np.isfinite(score))
        return pd.DataFrame({"date": pd.DatetimeIndex(dates[date_slice].astype("datetime64[ns]"))[di],
                             "symbol": np.asarray(symbols, dtype=object)[si], "score": score[si, di],
                             "direction": np.sign(score[si, di]).astype(np.int8), "confidence": 0.5,
                             "reason": "mean of scores"})


class HoldBest(PortfolioConstructor):
    """Test portfolio: all in the best-scored name, decided once on the first day."""

    name = "hold_best"

    def target_weights(self, combination, panel, first_day, last_day):
        weights = np.full(panel.shape, np.nan)
        column = combination.score[:, first_day]
        weights[:, first_day] = 0.0
        weights[int(np.nanargmax(column)), first_day] = 1.0
        return weights


def third_party_plugin(calls: list) -> types.SimpleNamespace:
    """A plugin object with the test components and a metric, a report section and the lifecycle hooks."""

    @hookimpl
    def jgod_register_components(register):
        register(MeanOfScores)
        register(HoldBest)

    @hookimpl
    def jgod_run_metrics(result):
        return {"held_names": int((result.target_weights.fillna(0) > 0).any().sum())}

    @hookimpl
    def jgod_report_sections(result):
        return [ReportSection("Third-party section", "<p>from the test plugin</p>", id="third-party")]

    @hookimpl
    def jgod_run_started(pipeline, run):
        calls.append(("started", pipeline.config.name, run.out))

    @hookimpl
    def jgod_run_finished(pipeline, run, result):
        calls.append(("finished", pipeline.config.name, result.summary["held_names"]))

    return types.SimpleNamespace(**{f.__name__: f for f in (jgod_register_components, jgod_run_metrics,
                                                             jgod_report_sections, jgod_run_started,
                                                             jgod_run_finished)})


@pytest.fixture(scope="module")
def store():
    from jgod_core.storage import open_store

    s = open_store()
    s.ensure_sample_loaded(progress=False)
    return s


@pytest.fixture(scope="module")
def third_party_run(store, tmp_path_factory):
    calls: list = []
    kernel = load_kernel(PluginPolicy(), [("third_party", third_party_plugin(calls))])
    root = tmp_path_factory.mktemp("third_party")
    path = root / "p.yaml"
    path.write_text(PIPELINE, encoding="utf-8")
    out = root / "out"
    result = run_pipeline(load_pipeline(path, kernel), out=out, store=store, progress=False)
    return result, out, calls


def test_pipeline_naming_a_third_party_combiner_and_portfolio_uses_them(third_party_run):
    result, out, _ = third_party_run
    assert (result.pipeline.combiner.entry.name, result.pipeline.portfolio.entry.name) == ("mean_of_scores", "hold_best")
    assert result.pipeline.combiner.params.scale == 2.0
    assert set(result.signals["reason"]) == {"mean of scores"}
    decisions = result.target_weights.dropna(how="all")
    assert len(decisions) == 1 and (decisions.iloc[0] == 1.0).sum() == 1
    best = result.combination.score[:, result.decision_slice.start]
    assert decisions.columns[decisions.iloc[0] == 1.0][0] == result.panel.symbols[int(np.nanargmax(best))]
    assert set(result.trades["symbol"]) == {decisions.columns[decisions.iloc[0] == 1.0][0]}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "interactions" not in summary  # the linear combiner's terms: this pipeline has none


def test_plugin_run_metric_appears_in_summary_json_beside_the_analysis_metrics(third_party_run):
    _, out, _ = third_party_run
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["held_names"] == 1
    assert isinstance(summary["metrics"]["sharpe"], float) and "rank_ic_mean" in summary["factors"]["f_stat"]
    keys = list(summary)
    assert keys[:3] == ["pipeline", "data", "universe"] and keys.index("metrics") < keys.index("held_names")


def test_plugin_report_section_appears_in_report_html_after_the_analysis_sections(third_party_run):
    _, out, _ = third_party_run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="third-party">' in html and "<p>from the test plugin</p>" in html
    assert html.index("Information coefficients") < html.index("Third-party section")
    assert html.count("data:image/png;base64,") >= 4


def test_lifecycle_hooks_are_called_once_around_the_run(third_party_run):
    _, out, calls = third_party_run
    assert calls == [("started", "third_party", out), ("finished", "third_party", 1)]


def test_two_plugins_contributing_one_summary_name_is_an_error_naming_both():
    def contributing(value):
        @hookimpl
        def jgod_run_metrics(result):
            return {"turnover_note": value}
        return types.SimpleNamespace(jgod_run_metrics=jgod_run_metrics)

    kernel = load_kernel(PluginPolicy(block=frozenset({"jgod"}), autoload=False),
                         [("first_metrics", contributing(1)), ("second_metrics", contributing(2))])
    with pytest.raises(OutputConflictError, match="'turnover_note' is contributed by plugin '(first|second)_metrics' and by plugin '(second|first)_metrics'"):
        collect_metrics(kernel.hook, object())


def test_plugin_metric_named_like_a_kernel_summary_key_is_an_error():
    @hookimpl
    def jgod_run_metrics(result):
        return {"warnings": []}

    kernel = load_kernel(PluginPolicy(block=frozenset({"jgod"}), autoload=False),
                         [("shadowing", types.SimpleNamespace(jgod_run_metrics=jgod_run_metrics))])
    with pytest.raises(OutputConflictError, match="'warnings' is contributed by the kernel and by plugin 'shadowing'"):
        collect_metrics(kernel.hook, object())


def test_report_module_leaves_the_matplotlib_backend_and_pyplot_alone_on_import():
    code = ("import sys, matplotlib; matplotlib.use('svg'); import jgod_plugins.analysis.report; "
            "import jgod_plugins.analysis.risk_report; "
            "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend(); "
            "assert 'matplotlib.pyplot' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
