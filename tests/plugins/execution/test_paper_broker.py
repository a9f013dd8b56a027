"""Paper broker: daily-bar fills (limits, halts, participation) and book-replay fills on the real recording."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from importlib.resources import files

import pandas as pd
import pytest

from jgod_core.market_rules import commission, limit_down, limit_up, sell_tax
from jgod_core.orders import Order, OrderStatus, Side
from jgod_core.risk_engine import RiskContext, RiskEngine
from jgod_plugins.execution.paper import BookReplay, PaperBroker, PaperBrokerParams
from jgod_plugins.execution.slicer import SlicerParams, SlicerRouter

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
