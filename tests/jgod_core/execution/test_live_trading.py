"""`jgod trade`: the day's target orders through the risk gate and router to the configured broker (Shioaji double)."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pandas as pd
import pytest
import shioaji as sj

from jgod_core.cli import main
from jgod_core.data.panel import Panel
from jgod_core.execution.audit import AuditLog
from jgod_core.execution.live import TradeError, trade_day
from jgod_core.execution.orders import TradingState
from jgod_core.risk.engine import TradingStateStore
from jgod_core.storage import open_store
from jgod_plugins.adapters.shioaji.broker import ShioajiBroker, ShioajiParams
from jgod_plugins.execution.slicer import SlicerRouter
from jgod_plugins.risk.board_lot import BoardLotRule
from jgod_plugins.risk.price_band import PriceBandRule
from jgod_plugins.risk.tick_ladder import TickLadderRule

_DOUBLE = Path(__file__).resolve().parents[2] / "plugins" / "adapters" / "shioaji" / "test_broker.py"
_spec = importlib.util.spec_from_file_location("shioaji_double", _DOUBLE)
double = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(double)  # the signature-checked FakeShioaji (checked against the installed shioaji)

DAY = dt.date(2024, 3, 4)
# test-stated prices (two symbols the double's contract table knows): closes on the two days before DAY
BARS = pd.DataFrame({
    "date": ["2024-02-29", "2024-02-29", "2024-03-01", "2024-03-01"],
    "symbol": ["2330", "2890", "2330", "2890"],
    "open": [690.0, 26.0, 700.0, 27.0], "high": [700.0, 27.0, 705.0, 27.2],
    "low": [685.0, 25.9, 695.0, 26.8], "close": [695.0, 26.5, 700.0, 27.0],
    "volume": [30e6, 20e6, 30e6, 20e6],
})


@pytest.fixture
def store(tmp_path):
    return open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")


@pytest.fixture
def shioaji():
    made = []

    def factory(simulation):
        made.append(double.FakeShioaji(simulation=simulation))
        return made[-1]

    broker = ShioajiBroker(ShioajiParams(simulation=True), api_factory=factory, sleep=lambda s: None)
    broker.connect(double.ENV)
    broker.api.balance = double.documented("AccountBalance", acc_balance=10_000_000.0,
                                           date="2024-03-01 13:30:00.000000", errmsg="")
    return broker


def _targets():
    return pd.DataFrame({"2330": [0.0, 0.3], "2890": [0.0, 0.2]},
                        index=pd.to_datetime(["2024-02-29", "2024-03-01"]))


def test_trade_day_sends_risk_approved_lots_to_shioaji_journaled_and_audited(tmp_path, store, shioaji):
    panel = Panel.from_long(BARS, ["open", "high", "low", "close", "volume"])
    summary = trade_day(panel, _targets(), DAY, tmp_path / "out", rules=[TickLadderRule(), PriceBandRule(),
                        BoardLotRule()], router=SlicerRouter(), broker=shioaji, store_engine=store.engine,
                        is_real_trade=False)
    placed = {}
    for contract, order in shioaji.api.placed:
        placed.setdefault(contract["code"], []).append(order)
    # 0.3 × NT$10m / 700 = 4,285.7 shares → 4 lots of 2330, limit 700 × 1.02 = 714 (tick 1 in 500–1000)
    [big] = placed["2330"]
    assert big.quantity == 4 and big.price == 714 and big.action == sj.Action.Buy
    # 0.2 × NT$10m / 27 = 74,074 shares → 74 lots of 2890 → slices 24 + 50 (≤ 50 lots, remainder first),
    # limit 27 × 1.02 = 27.54 → 27.50 on the 0.05 tick
    assert [o.quantity for o in placed["2890"]] == [24, 50] and {o.price for o in placed["2890"]} == {27.5}
    assert summary["child_orders_sent"] == 3 and summary["decision_date"] == "2024-03-01"
    orders = pd.read_csv(tmp_path / "out" / "orders.csv")
    sent = orders[orders["status"] == "submitted"]
    assert set(sent["symbol"].astype(str)) == {"2330", "2890"}
    assert AuditLog(store.engine).verify().ok
    assert (tmp_path / "out" / "risk_verdicts.csv").exists()


def test_trade_day_refuses_when_halted(tmp_path, store, shioaji):
    TradingStateStore(store.engine).set(TradingState.HALTED, "operator kill switch", "jgod halt")
    panel = Panel.from_long(BARS, ["open", "high", "low", "close", "volume"])
    with pytest.raises(TradeError, match="HALTED"):
        trade_day(panel, _targets(), DAY, tmp_path / "out", rules=[], router=SlicerRouter(), broker=shioaji,
                  store_engine=store.engine)
    assert shioaji.api.placed == []


DAY2 = dt.date(2024, 3, 5)
# DAY's bar (closes unchanged, so day-2 targets in shares equal day 1's)
BARS2 = pd.concat([BARS, pd.DataFrame({"date": ["2024-03-04"] * 2, "symbol": ["2330", "2890"], "open": [700.0, 27.0],
                                       "high": [705.0, 27.2], "low": [695.0, 26.8], "close": [700.0, 27.0],
                                       "volume": [30e6, 20e6]})], ignore_index=True)


def _targets2():
    return pd.DataFrame({"2330": [0.0, 0.3, 0.3], "2890": [0.0, 0.2, 0.2]},
                        index=pd.to_datetime(["2024-02-29", "2024-03-01", "2024-03-04"]))


def _trade(day, panel, targets, out, shioaji, store, **kw):
    return trade_day(panel, targets, day, out, rules=[TickLadderRule(), PriceBandRule(), BoardLotRule()],
                     router=SlicerRouter(), broker=shioaji, store_engine=store.engine, **kw)


def test_second_day_trades_from_the_brokers_positions_and_does_not_rebuy(tmp_path, store, shioaji):
    api = shioaji.api
    api.auto_fill, api.fill_prices = True, {"2330": 700.0, "2890": 27.0}
    panel = Panel.from_long(BARS2, ["open", "high", "low", "close", "volume"])
    day1 = _trade(DAY, panel, _targets2(), tmp_path / "d1", shioaji, store)
    assert day1["fills"] == 3 and day1["positions_at_start"] == {}
    assert sum(o.quantity for c, o in api.placed if c["code"] == "2330") == 4
    # day 2: the balance still holds the money (T+2); the buys settle 03-06:
    # 4,000 × 700 + floor(2,800,000 × 0.1425 %) = 2,803,990 and 74,000 × 27 + 2,847 = 2,000,847
    api.balance = double.documented("AccountBalance", acc_balance=10_000_000.0, date="2024-03-04 13:30:00.000000",
                                    errmsg="")
    api.settlement_rows = [double.documented("SettlementV1", date=dt.date(2024, 3, 6), amount=-4_804_837.0, T=2)]
    placed_before = len(api.placed)
    day2 = _trade(DAY2, panel, _targets2(), tmp_path / "d2", shioaji, store)
    assert day2["positions_at_start"] == {"2330": 4_000, "2890": 74_000}
    assert day2["cash"] == 5_195_163.0 and day2["equity"] == 5_195_163.0 + 2_800_000 + 1_998_000
    # 0.3 × 9,993,163 / 700 = 4,282.8 → 4 lots (held); 0.2 × 9,993,163 / 27 = 74,023 → 74 lots (held)
    assert len(api.placed) == placed_before and day2["parent_orders"] == 0
    assert day2["position_differences"] == {}  # the deals were journaled as they arrived
    assert AuditLog(store.engine).verify().ok


def test_positions_the_journal_never_saw_are_listed_and_traded_from(tmp_path, store, shioaji):
    api = shioaji.api
    api.holdings = {"2890": [(74_000, sj.Action.Buy, sj.StockOrderCond.Cash)],
                    "9999": [(5_000, sj.Action.Buy, sj.StockOrderCond.Cash)]}  # bought outside J-GOD
    panel = Panel.from_long(BARS, ["open", "high", "low", "close", "volume"])
    summary = _trade(DAY, panel, _targets(), tmp_path / "out", shioaji, store, cash_cap=5_000_000.0)
    assert summary["position_differences"] == {"2890": {"broker": 74_000, "journal": 0},
                                               "9999": {"broker": 5_000, "journal": 0}}
    assert summary["positions_outside_universe"] == ["9999"] and summary["cash"] == 5_000_000.0
    # equity 5,000,000 + 74,000 × 27 = 6,998,000: 2890 target 0.2 × 6,998,000 / 27 = 51 lots → sell 23 lots
    sells = [o for c, o in api.placed if c["code"] == "2890"]
    assert [(o.action, o.quantity) for o in sells] == [(sj.Action.Sell, 23)]
    assert all(c["code"] != "9999" for c, _ in api.placed)


def test_orders_still_working_from_an_earlier_run_the_same_day_stop_the_command(tmp_path, store, shioaji):
    panel = Panel.from_long(BARS, ["open", "high", "low", "close", "volume"])
    _trade(DAY, panel, _targets(), tmp_path / "a", shioaji, store)  # no fills: the orders keep working
    with pytest.raises(TradeError, match="still working"):
        _trade(DAY, panel, _targets(), tmp_path / "b", shioaji, store)


def test_working_orders_of_an_earlier_session_are_journaled_expired(tmp_path, store, shioaji):
    panel = Panel.from_long(BARS2, ["open", "high", "low", "close", "volume"])
    _trade(DAY, panel, _targets2(), tmp_path / "a", shioaji, store)
    day2 = _trade(DAY2, panel, _targets2(), tmp_path / "b", shioaji, store)
    assert day2["expired_from_earlier_sessions"] == 5  # 2 parents + 3 slices of day 1
    assert sum(o.quantity for c, o in shioaji.api.placed if c["code"] == "2890") == 2 * 74  # nothing held: re-sent


SHIOAJI_PIPELINE = """version: 1
name: trade_test
data:
  source: sample
execution:
  broker:
    plugin: shioaji
    params: {simulation: true}
"""


def test_trade_without_credentials_refuses_clearly_before_any_order(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SHIOAJI_API_KEY", raising=False)
    monkeypatch.delenv("SHIOAJI_SECRET_KEY", raising=False)
    path = tmp_path / "trade.yaml"
    path.write_text(SHIOAJI_PIPELINE, encoding="utf-8")
    code = main(["trade", str(path), "--date", "2024-03-04", "--out", str(tmp_path / "out"),
                 "--store", f"sqlite:///{tmp_path / 's.sqlite'}"])
    err = capsys.readouterr().err
    assert code == 1 and "SHIOAJI_API_KEY is not set" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_trade_refuses_the_paper_broker(tmp_path, capsys):
    path = tmp_path / "paper.yaml"
    path.write_text(SHIOAJI_PIPELINE.replace("plugin: shioaji\n    params: {simulation: true}", "plugin: paper"),
                    encoding="utf-8")
    assert main(["trade", str(path), "--cash", "1000000"]) == 1
    assert "use `jgod paper`" in capsys.readouterr().err
