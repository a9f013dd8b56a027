"""Paper broker: daily-bar fills (limits, halts, participation) and book-replay fills on the real recording."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from decimal import Decimal
from importlib.resources import files

import pandas as pd
import pytest

from jgod_core.execution.orders import ChildOrder, Order, OrderStatus, Side
from jgod_core.risk.engine import RiskContext, RiskEngine
from jgod_plugins.execution.paper import BookReplay, PaperBroker, PaperBrokerParams
from jgod_plugins.execution.slicer import SlicerParams, SlicerRouter
from jgod_plugins.tw_market.instruments import AssetClass
from jgod_plugins.tw_market.rules import commission, limit_down, limit_up, sell_tax

NOW = dt.datetime(2024, 3, 1, 9, 0)


def approved_children(order: Order):
    engine = RiskEngine([])
    ctx = RiskContext(NOW)
    parent = engine.check(order, ctx).approved
    router = SlicerRouter(SlicerParams(max_slice_lots=499))
    return [engine.check_child(parent, c, ctx).approved for c in router.schedule(parent)]


def day(open_, high, low, close, volume, reference, etf=False):
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume, "reference": reference,
            "is_etf": etf}


def test_sell_at_limit_down_does_not_fill():
    ref = 100.0
    floor = float(limit_down(ref))
    broker = PaperBroker()
    broker.set_day({"2317": day(floor, floor, floor, floor, 5_000_000, ref)})
    child = approved_children(Order("s", "2317", Side.SELL, 1000, Decimal("90"), Decimal("100")))[0]
    assert broker.submit(child) == []
    assert broker.working["s-001"].status is OrderStatus.ACCEPTED


def test_buy_at_locked_limit_up_does_not_fill():
    cap = float(limit_up(100.0))
    broker = PaperBroker()
    broker.set_day({"2317": day(cap, cap, cap, cap, 5_000_000, 100.0)})
    child = approved_children(Order("b", "2317", Side.BUY, 1000, Decimal("110"), Decimal("100")))[0]
    assert broker.submit(child) == []


def test_halted_day_does_not_fill_and_the_order_expires_at_the_close():
    broker = PaperBroker()
    broker.set_day({"2317": day(math.nan, math.nan, math.nan, math.nan, 0.0, 100.0)})
    child = approved_children(Order("h", "2317", Side.BUY, 1000, Decimal("101"), Decimal("100")))[0]
    assert broker.submit(child) == []
    assert broker.expire_day() == ["h-001"] and broker.working["h-001"].status is OrderStatus.EXPIRED


def test_daily_fill_price_and_costs_hand_computed():
    broker = PaperBroker(PaperBrokerParams(participation_cap=0.1, impact_coef=0.5))
    broker.set_day({"2317": day(100.0, 102.0, 99.0, 101.0, 1_000_000, 100.0)})
    [child] = approved_children(Order("b", "2317", Side.BUY, 10_000, Decimal("102"), Decimal("100")))
    [fill] = broker.submit(child)
    sigma = math.log(102 / 99) / (2 * math.sqrt(math.log(2)))  # Parkinson, one day
    slip = 0.25 / 100 + 0.5 * sigma * math.sqrt(10_000 / 1_000_000)  # half a 0.5 tick + √ impact
    raw = 100 * (1 + slip)  # = 100.3396…, rounded up onto the 0.5 ladder against the buyer
    assert raw == pytest.approx(100.3396, abs=1e-4)
    assert fill.price == Decimal("100.50") and fill.quantity == 10_000 and fill.basis == "daily_bar_estimate"
    assert fill.commission == int(commission(1_005_000)) == 1432 and fill.tax == 0


def test_daily_fill_is_capped_by_participation_and_the_rest_expires():
    broker = PaperBroker(PaperBrokerParams(participation_cap=0.1))
    broker.set_day({"2317": day(100.0, 101.0, 99.5, 100.0, 50_000, 100.0)})
    [child] = approved_children(Order("s", "2317", Side.SELL, 8000, Decimal("99"), Decimal("100")))
    [fill] = broker.submit(child)
    assert fill.quantity == 5000 and fill.tax == int(sell_tax(float(fill.price) * 5000))
    assert broker.working["s-001"].status is OrderStatus.PARTIALLY_FILLED
    assert broker.expire_day() == ["s-001"]


def test_submit_is_idempotent_per_client_order_id():
    broker = PaperBroker()
    broker.set_day({"2317": day(100.0, 101.0, 99.5, 100.0, 5_000_000, 100.0)})
    [child] = approved_children(Order("b", "2317", Side.BUY, 1000, Decimal("101"), Decimal("100")))
    assert len(broker.submit(child)) == 1
    assert broker.submit(child) == []  # a retry never sends twice


# -- book replay on the real recording -------------------------------------------------------------


@pytest.fixture(scope="module")
def replay() -> BookReplay:
    root = files("jgod_plugins.data") / "sample_data" / "intraday"
    folder = next(p for p in root.iterdir() if p.name.startswith("binance_spot_btcusdt"))
    books = pd.read_csv(folder / "spot_btcusdt_book5.csv.gz")
    trades = pd.read_csv(folder / "spot_btcusdt_trades.csv.gz")
    return BookReplay.from_frames(books, trades, quantity_scale=100_000)


def test_book_mode_walks_levels_up_to_the_limit_then_rests(replay):
    broker = PaperBroker()
    broker.attach_replay("BTCUSDT", replay)
    broker.clock_ns = int(replay.book_ts[0])
    # first snapshot asks: 61837.64 × 1.60520, 61837.65 × 0.00843, 61837.68 × 0.00016 …
    [child] = approved_children(Order("b", "BTCUSDT", Side.BUY, 400_000, Decimal("61837.65"), Decimal("61837.65")))
    fills = broker.submit(child)
    assert [(f.quantity, f.price) for f in fills] == [(160_520, Decimal("61837.64")), (843, Decimal("61837.65"))]
    work = broker.working["b-001"]
    assert work.status is OrderStatus.PARTIALLY_FILLED and work.remaining == 400_000 - 161_363
    assert work.queue_ahead == 0  # no bid shown at 61837.65 on arrival


def test_book_mode_resting_order_fills_from_later_trades_after_the_queue(replay):
    broker = PaperBroker()
    broker.attach_replay("BTCUSDT", replay)
    start = int(replay.book_ts[0])
    broker.clock_ns = start
    best_bid = float(replay.bid_px[0, 0])  # 61837.63, 3.78826 BTC displayed ahead of us
    [child] = approved_children(Order("q", "BTCUSDT", Side.BUY, 1000, Decimal(f"{best_bid:.2f}"),
                                      Decimal(f"{best_bid:.2f}")))
    assert broker.submit(child) == []
    work = broker.working["q-001"]
    assert work.queue_ahead == pytest.approx(378_826)
    end = int(replay.trade_ts[-1])
    fills = broker.advance(end)
    sells_at_or_through = ((replay.trade_px <= best_bid) & replay.trade_buyer_is_maker
                           & (replay.trade_ts > start)).sum()
    assert sells_at_or_through > 0
    if fills:  # filled only after the queue ahead was consumed
        first = pd.Timestamp(fills[0].ts).value + 999  # fill times carry microseconds
        hits = (replay.trade_ts > start) & (replay.trade_ts <= first) & (replay.trade_px <= best_bid) \
            & replay.trade_buyer_is_maker
        at_price = hits & (replay.trade_px == best_bid)
        assert replay.trade_qty[at_price].sum() >= 378_826 or (hits & (replay.trade_px < best_bid)).any()


# -- futures mode: fills against recorded prints after the submission ------------------------------

MINUTE = 60_000_000_000


def approved_futures(symbol: str, side: Side, contracts: int, limit: str, cid: str = "f"):
    engine = RiskEngine([])
    ctx = RiskContext(NOW)
    order = Order(cid, symbol, side, contracts, Decimal(limit), Decimal("44798"), asset=AssetClass.FUTURE)
    parent = engine.check(order, ctx).approved
    child = ChildOrder(**{f.name: getattr(order, f.name) for f in dataclasses.fields(Order)}
                       | {"client_order_id": f"{cid}-0"}, parent_id=cid)
    return engine.check_child(parent, child, ctx).approved


def futures_broker(fee=50.0, cap=0.1):
    broker = PaperBroker(PaperBrokerParams(futures_fee_per_contract=fee, participation_cap=cap))
    broker.clock_ns = 10 * MINUTE
    return broker


def test_marketable_tx_buy_fills_at_the_next_bar_open_with_fee_and_tax_hand_computed():
    broker = futures_broker()
    assert broker.submit(approved_futures("TX", Side.BUY, 2, "45022")) == []  # works until a later print
    fills = broker.match_prints("TX", [11 * MINUTE], [45015], [45030], [45001], [300])
    (fill,) = fills
    assert (fill.quantity, fill.price, fill.multiplier) == (2, Decimal("45015.00"), 200)
    assert fill.notional == Decimal("18006000")  # 45,015 × 200 × 2
    assert fill.commission == 100  # NT$50 × 2 contracts
    assert fill.tax == 360  # round(18,006,000 × 0.002 %) = round(360.12)
    assert fill.cash_flow == Decimal("-18006460")
    assert broker.working["f-0"].status is OrderStatus.FILLED


def test_resting_tx_sell_fills_at_its_limit_only_when_the_market_trades_through_it():
    broker = futures_broker(fee=0.0)
    broker.submit(approved_futures("TX", Side.SELL, 1, "44950"))
    assert broker.match_prints("TX", [11 * MINUTE], [44940], [44950], [44930], [500]) == []  # touched, not through
    (fill,) = broker.match_prints("TX", [12 * MINUTE], [44945], [44960], [44940], [500])
    assert fill.price == Decimal("44950.00") and fill.commission == 0
    assert fill.tax == 180  # round(44,950 × 200 × 0.002 %) = round(179.8); sells and buys both pay it


def test_prints_at_or_before_the_submission_never_fill_a_futures_order():
    broker = futures_broker()
    broker.submit(approved_futures("TX", Side.BUY, 1, "45100"))
    assert broker.match_prints("TX", [9 * MINUTE, 10 * MINUTE], [45000, 45000], [45010, 45010],
                               [44990, 44990], [500, 500]) == []


def test_futures_fills_are_capped_by_participation_and_the_rest_works_on():
    broker = futures_broker(cap=0.1)
    broker.submit(approved_futures("MTX", Side.BUY, 3, "20010"))
    fills = broker.match_prints("MTX", [11 * MINUTE, 12 * MINUTE], [20000, 20005], [20003, 20008],
                                [19998, 20001], [15, 25])
    assert [f.quantity for f in fills] == [1, 2]  # floor(0.1 × 15), then floor(0.1 × 25) ≥ the 2 left
    assert fills[0].tax == 20 and fills[0].multiplier == 50  # round(20,000 × 50 × 0.002 %)
    assert fills[1].notional == Decimal("2000500")  # 20,005 × 50 × 2


def test_a_futures_order_never_fills_from_daily_bars_or_the_stock_path():
    broker = futures_broker()
    broker.set_day({"TX": day(45000, 45100, 44900, 45050, 100_000, 44798)})
    assert broker.submit(approved_futures("TX", Side.BUY, 1, "45100")) == []
    assert broker.expire_day() == ["f-0"]
