"""`jgod trade`: the day's target orders through the risk gate and router to the configured broker (Shioaji double)."""

from __future__ import annotations

import datetime as dt
import importlib.util
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import shioaji as sj

from jgod_core.audit import AuditLog
from jgod_core.cli import main
from jgod_core.live_trading import TradeError, trade_day
from jgod_core.panel import Panel
from jgod_core.risk_engine import TradingStateStore
from jgod_core.orders import TradingState
from jgod_core.storage import open_store
from jgod_plugins.execution.shioaji_broker import ShioajiBroker, ShioajiParams
from jgod_plugins.execution.slicer import SlicerRouter
from jgod_plugins.risk.board_lot import BoardLotRule
from jgod_plugins.risk.price_band import PriceBandRule
from jgod_plugins.risk.tick_ladder import TickLadderRule

_DOUBLE = Path(__file__).resolve().parents[1] / "plugins" / "execution" / "test_shioaji_broker.py"
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
    return broker


def _targets():
    return pd.DataFrame({"2330": [0.0, 0.3], "2890": [0.0, 0.2]},
                        index=pd.to_datetime(["2024-02-29", "2024-03-01"]))


def test_trade_day_sends_risk_approved_lots_to_shioaji_journaled_and_audited(tmp_path, store, shioaji):
    panel = Panel.from_long(BARS, ["open", "high", "low", "close", "volume"])
    summary = trade_day(panel, _targets(), DAY, tmp_path / "out", rules=[TickLadderRule(), PriceBandRule(),
                        BoardLotRule()], router=SlicerRouter(), broker=shioaji, store_engine=store.engine,
                        cash=10_000_000.0, is_real_trade=False)
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
                  store_engine=store.engine, cash=1e7)
    assert shioaji.api.placed == []


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
    code = main(["trade", str(path), "--date", "2024-03-04", "--cash", "1000000", "--out", str(tmp_path / "out"),
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
