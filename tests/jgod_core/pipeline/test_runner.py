"""The runner end to end on the real sample: outputs, equity recomputation, no look-ahead, YAML edits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from jgod_core.cli import main as jgod
from jgod_core.config.validate import load_pipeline
from jgod_core.data.panel import Panel
from jgod_core.pipeline.runner import run_pipeline

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "pipelines" / "tw_five_factor.yaml"
PERIOD = ("2023-01-03", "2024-06-28")


def short_pipeline_text(start: str = PERIOD[0], end: str = PERIOD[1], symbols: str = "[]",
                        f_c_weight: float = 1.0, min_abs_score: float = 0.0, f_exec_enabled: bool = True) -> str:
    """The shipped pipeline over a shorter period (keeps the test fast)."""
    text = SHIPPED.read_text(encoding="utf-8")
    text = re.sub(r"start: \S+", f"start: {start}", text, count=1)
    text = re.sub(r"end: \S+", f"end: {end}", text, count=1)
    text = text.replace("symbols: []", f"symbols: {symbols}", 1)
    text = text.replace("- plugin: f_c      # cycle / chips: LAC deviation z-score, regime\n        weight: 1.0",
                        f"- plugin: f_c\n        weight: {f_c_weight}")
    text = text.replace("min_abs_score: 0.0", f"min_abs_score: {min_abs_score}")
    if not f_exec_enabled:
        text = text.replace("- plugin: f_exec   # cross-market: TX basis residual, US futures beta residual",
                            "- plugin: f_exec\n        enabled: false")
    return text


@pytest.fixture(scope="module")
def store():
    from jgod_core.storage import open_store

    s = open_store()
    s.ensure_sample_loaded(progress=False)
    return s


@pytest.fixture(scope="module")
def short_run(store, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "short"
    path = out.parent / "short.yaml"
    path.write_text(short_pipeline_text(), encoding="utf-8")
    result = run_pipeline(path, out=out, store=store, progress=False)
    return result, out


def test_jgod_run_writes_every_output_on_the_real_sample(store, tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text(short_pipeline_text(), encoding="utf-8")
    out = tmp_path / "out"
    assert jgod(["run", str(path), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["summary.json", "factors.parquet", "signals.parquet", "trades.parquet", "equity.parquet", "report.html"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pipeline"]["sha256"] == load_pipeline(path).sha256
    assert (summary["data"]["start"], summary["data"]["end"]) == PERIOD
    for key in ("cagr", "annual_volatility", "sharpe", "sortino", "max_drawdown", "turnover", "hit_rate", "costs_paid"):
        assert isinstance(summary["metrics"][key], float), key
    for name in ("f_c", "f_s", "f_d", "f_stat", "f_exec"):
        assert set(summary["factors"][name]) >= {"ic_mean", "ic_t_stat", "rank_ic_mean", "rank_ic_t_stat"}
    assert summary["missing_components"]["f_d"]["dupont_roe"]
    factors = pq.read_table(out / "factors.parquet")
    assert factors.column_names == ["date", "symbol", "factor", "component", "value"]
    assert set(factors.column("factor").to_pylist()) == {"f_c", "f_s", "f_d", "f_stat", "f_exec"}
    meta = json.loads(factors.schema.metadata[b"jgod.missing"])
    assert "dupont_roe" in meta["f_d"]
    assert pq.read_schema(out / "signals.parquet").names[:5] == ["date", "symbol", "score", "direction", "confidence"]
    assert pq.read_schema(out / "trades.parquet").names == ["date", "symbol", "side", "shares", "price",
                                                           "commission", "tax"]
    assert pq.read_schema(out / "equity.parquet").names[:5] == ["date", "equity", "cash", "unsettled", "gross"]
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4
    assert not re.search(r"<script|<link|src=\"http", html)  # readable offline: no CDN, no scripts


def test_summary_and_report_carry_newey_west_decay_quintiles_and_rank_autocorrelation(short_run):
    import statsmodels.api as sm

    from jgod_plugins.analysis import metrics
    from jgod_plugins.analysis.run_analysis import analysis_of

    result, out = short_run
    analysis = analysis_of(result)
    summary = json.loads((out / "summary.json").read_text())
    for name in ("f_c", "f_s", "f_d", "f_stat", "f_exec", "combined"):
        stats = summary["combined"] if name == "combined" else summary["factors"][name]
        rank_ic = analysis.ic.loc[analysis.ic["factor"] == name, "rank_ic"].dropna().to_numpy()
        hac = sm.OLS(rank_ic, np.ones(len(rank_ic))).fit(cov_type="HAC", cov_kwds={"maxlags": stats["hac_lags"]})
        assert stats["rank_ic_hac_t_stat"] == pytest.approx(hac.tvalues[0], abs=1e-9)
        assert stats["hac_lags"] == metrics.newey_west_lags(len(rank_ic))
        assert set(stats["ic_decay"]) == {"1d", "5d", "20d"}
        # lag 1, open fills: the 1-day decay point is the headline rank IC
        assert stats["ic_decay"]["1d"]["rank_ic_mean"] == pytest.approx(stats["rank_ic_mean"], rel=1e-12)
        assert -1.0 <= stats["rank_autocorrelation"] <= 1.0
    quint = summary["quantile_analysis"]
    assert (quint["score"], quint["horizon_days"], quint["quantiles"]) == ("combined", 5, 5)
    by_q = quint["mean_return_by_quantile"]
    assert quint["spread_mean"] == pytest.approx(analysis.analytics.quantile_returns["spread"].mean(), rel=1e-12)
    assert quint["dates"] > 300 and set(by_q) == {"q1", "q2", "q3", "q4", "q5"}
    html = (out / "report.html").read_text()
    for heading in ("IC decay", "Quintiles of the combined score", "rank IC NW t", "rank autocorr"):
        assert heading in html


def test_equity_recomputed_from_trades_parquet_and_prices(short_run, store):
    result, out = short_run
    trades = pd.read_parquet(out / "trades.parquet")
    equity = pd.read_parquet(out / "equity.parquet").set_index("date")
    assert len(trades) > 20
    close = result.panel.fields["close"]
    dates = pd.DatetimeIndex(result.panel.dates.astype("datetime64[ns]"))
    closes = pd.DataFrame(close.T, index=dates, columns=list(result.panel.symbols)).ffill().loc[equity.index]
    signed = np.where(trades["side"] == "buy", 1, -1) * trades["shares"]
    positions = (pd.DataFrame({"date": trades["date"], "symbol": trades["symbol"], "q": signed})
                 .pivot_table(index="date", columns="symbol", values="q", aggfunc="sum")
                 .reindex(equity.index).fillna(0).cumsum())
    value = (positions * closes[positions.columns]).sum(axis=1)
    notional = trades["shares"] * trades["price"]
    flow = (np.where(trades["side"] == "buy", -notional, notional) - trades["commission"] - trades["tax"]).to_numpy()
    flows = pd.Series(flow, index=trades["date"]).groupby(level=0).sum().reindex(equity.index).fillna(0)
    initial = json.loads((out / "summary.json").read_text())["metrics"]["start_equity"]
    expected_equity = initial + flows.cumsum() + value
    np.testing.assert_allclose(equity["equity"], expected_equity, rtol=0, atol=1e-6)
    settled = initial + flows.shift(2).fillna(0).cumsum()  # T+2
    np.testing.assert_allclose(equity["cash"], settled, rtol=0, atol=1e-6)
    gross = (positions * closes[positions.columns]).abs().sum(axis=1) / expected_equity
    np.testing.assert_allclose(equity["gross"], gross, rtol=1e-12)


def test_trades_follow_taiwan_rules_on_the_real_sample(short_run):
    from jgod_plugins.tw_market import rules as market_rules

    result, _ = short_run
    trades, panel = result.trades, result.panel
    assert (trades["shares"] % 1000 == 0).all()
    etf = trades["symbol"].str.startswith("00").to_numpy()
    assert market_rules.is_on_tick(trades["price"].to_numpy(), etf).all()
    day = {d: j for j, d in enumerate(pd.DatetimeIndex(panel.dates.astype("datetime64[ns]")))}
    row = {s: i for i, s in enumerate(panel.symbols)}
    i = trades["symbol"].map(row).to_numpy()
    j = trades["date"].map(day).to_numpy()
    close = pd.DataFrame(panel.fields["close"].T).ffill().to_numpy().T
    ref = close[i, j - 1]
    if "adj_factor" in panel.fields:
        adj = pd.DataFrame(panel.fields["adj_factor"].T).ffill().to_numpy().T
        ref = ref * adj[i, j - 1] / adj[i, j]
    buys = trades["side"].to_numpy() == "buy"
    assert (trades["price"].to_numpy()[buys] < market_rules.limit_up(ref[buys], etf[buys])).all()
    assert (trades["price"].to_numpy()[~buys] > market_rules.limit_down(ref[~buys], etf[~buys])).all()
    assert (panel.fields["halted"][i, j] == 0).all()
    assert np.array_equal(trades["price"].to_numpy(), panel.fields["open"][i, j])
    # a fill on day j needs a decision at a close before j (lag 1): never on the decision day itself
    decisions = np.array([day[d] for d in result.target_weights.index])
    assert (j > decisions.min()).all()


def _perturbed_after(panel: Panel, cut: int) -> Panel:
    fields = {k: v.copy() for k, v in panel.fields.items()}
    for name in ("open", "high", "low", "close"):
        fields[name][:, cut + 1:] *= 1.37
    fields["volume"][:, cut + 1:] *= 3.0
    series = {k: v.copy() for k, v in panel.series.items()}
    for k in series:
        series[k][cut + 1:] *= 0.71
    return Panel(panel.symbols, panel.dates, fields, series, panel.attributes, panel.missing)


def test_no_look_ahead_perturbing_data_after_t_changes_nothing_before_t_plus_1(short_run, store, tmp_path):
    result, _ = short_run
    panel = result.panel
    cut_date = pd.Timestamp("2023-11-15")
    cut = int(np.searchsorted(panel.dates, np.datetime64("2023-11-15")))
    path = tmp_path / "p.yaml"
    path.write_text(short_pipeline_text(), encoding="utf-8")
    base = run_pipeline(path, progress=False, panel=panel)
    moved = run_pipeline(path, progress=False, panel=_perturbed_after(panel, cut))

    def upto(frame):
        return frame[frame["date"] <= cut_date].reset_index(drop=True)

    pd.testing.assert_frame_equal(upto(base.signals), upto(moved.signals))
    pd.testing.assert_frame_equal(upto(base.factors), upto(moved.factors))
    pd.testing.assert_frame_equal(upto(base.trades), upto(moved.trades))
    pd.testing.assert_frame_equal(upto(base.equity), upto(moved.equity))
    # and the perturbation does reach the later days
    assert not base.signals[base.signals["date"] > cut_date]["score"].equals(
        moved.signals[moved.signals["date"] > cut_date]["score"])


def test_editing_a_weight_in_yaml_changes_the_result(short_run, store, tmp_path):
    result, _ = short_run
    path = tmp_path / "p.yaml"
    path.write_text(short_pipeline_text(f_c_weight=-2.0), encoding="utf-8")
    edited = run_pipeline(path, progress=False, panel=result.panel)
    assert edited.summary["pipeline"]["sha256"] != result.summary["pipeline"]["sha256"]
    assert edited.summary["factors"]["f_c"]["weight"] == -2.0
    assert not np.allclose(edited.signals["score"], result.signals["score"])
    assert not edited.trades.equals(result.trades)


def test_dropping_a_factor_removes_it_from_outputs(short_run, tmp_path):
    result, _ = short_run
    path = tmp_path / "p.yaml"
    path.write_text(short_pipeline_text(f_exec_enabled=False), encoding="utf-8")
    dropped = run_pipeline(path, progress=False, panel=result.panel)
    assert "f_exec" not in dropped.summary["factors"]
    assert "f_exec" not in set(dropped.factors["factor"])
    assert not np.allclose(dropped.signals["score"], result.signals["score"])


def test_symbol_missing_from_the_store_gives_a_loud_warning(store, tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text(short_pipeline_text(symbols="['2330', '2317', '2454', '2303', '2412', '9999']"),
                    encoding="utf-8")
    out = tmp_path / "out"
    assert jgod(["run", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "WARNING" in printed.out + printed.err and "9999" in printed.out + printed.err
    summary = json.loads((out / "summary.json").read_text())
    assert "9999" in summary["universe"]["missing"]
    assert any("9999" in w for w in summary["warnings"])


def test_zero_trade_run_is_loud_not_silent(short_run, tmp_path):
    result, _ = short_run
    path = tmp_path / "p.yaml"
    path.write_text(short_pipeline_text(min_abs_score=9.9), encoding="utf-8")
    quiet = run_pipeline(path, progress=False, panel=result.panel)
    assert len(quiet.trades) == 0
    assert any("NO trades" in w for w in quiet.warnings)


def test_period_without_data_fails_cleanly_and_writes_nothing(store, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(short_pipeline_text(start="2030-01-02", end="2030-06-28"), encoding="utf-8")
    out = tmp_path / "out"
    assert jgod(["run", str(path), "--out", str(out)]) == 1
    assert not out.exists()
    assert not list(tmp_path.glob(".out.*"))


def test_notebook_api_returns_pandas_and_renders_inline(short_run):
    result, _ = short_run
    for frame in (result.factors, result.signals, result.trades, result.equity):
        assert isinstance(frame, pd.DataFrame) and len(frame)
    assert set(result.metrics) >= {"cagr", "sharpe", "max_drawdown"}
    assert result._repr_html_().startswith("<!DOCTYPE html>")
    assert "RunResult(tw_five_factor" in repr(result)


def test_shipped_pipeline_runs_on_the_real_sample(store, tmp_path):
    result = run_pipeline(SHIPPED, out=tmp_path / "full", store=store, progress=False)
    assert result.summary["data"]["start"] == "2018-01-02"
    assert len(result.trades) > 100
    assert result.metrics["days"] > 1500


def test_period_after_the_data_names_what_was_read_not_a_store_span(store, tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text(short_pipeline_text(start="2030-01-02", end="2030-02-01"), encoding="utf-8")
    assert jgod(["run", str(path), "--out", str(tmp_path / "out")]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "no trading days with data between 2030-01-02 and 2030-02-01" in err
    assert "the data read for this run (look-back included) spans" in err and "2025-05-26" in err
    assert "the store covers" not in err
