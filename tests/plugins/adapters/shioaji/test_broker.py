"""Shioaji adapter against a test double whose methods match the installed shioaji package."""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import json
import logging
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
import shioaji as sj

from jgod_core.execution.audit import AuditLog
from jgod_core.execution.orders import Order, OrderStatus, Side
from jgod_core.risk.engine import RiskContext, RiskEngine
from jgod_plugins.adapters.shioaji.broker import ShioajiBroker, ShioajiError, ShioajiParams
from jgod_plugins.execution.slicer import SlicerRouter

# Copies of ../shared/data/formats/shioaji shipped with the tests: no test reads a machine's path.
FORMATS = Path(__file__).parents[3] / "fixtures" / "shioaji"
NOW = dt.datetime(2024, 3, 1, 9, 0)
CANARY = "canary-secret-7f3a9d"
ENV = {"SHIOAJI_API_KEY": "key-" + CANARY, "SHIOAJI_SECRET_KEY": "sec-" + CANARY}


class FakeTrade:
    def __init__(self, contract, order, order_id):
        self.contract, self.order = contract, order
        self.order.id = order_id


class FakeOrderHolder:
    """sj.Order is immutable in 1.7; the fake trade keeps it and an id beside it."""

    def __init__(self, order):
        self.inner = order
        self.id = ""


OBJECT_FIELDS = json.loads((FORMATS / "shioaji_1.7.9_object_fields.json").read_text())["classes"]


def _stub_fields(class_name: str) -> set[str]:
    """Annotated fields and properties of a class in the installed shioaji's ``_core.pyi`` type stub."""
    tree = ast.parse((Path(sj.__file__).parent / "_core.pyi").read_text())
    [node] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    names = {n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
    return names | {n.name for n in node.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")
                    and any(getattr(d, "id", "") == "property" for d in n.decorator_list)} - {"status"}


def documented(class_name: str, **values):
    """An object with exactly the fields shioaji 1.7.9 documents for ``class_name`` (its objects
    cannot be constructed outside the SDK)."""
    fields = ({f["name"] for f in OBJECT_FIELDS[class_name]["fields"]} if class_name in OBJECT_FIELDS
              else _stub_fields(class_name))
    assert set(values) == fields, f"{class_name}: {sorted(set(values) ^ fields)}"
    return SimpleNamespace(**values)


def stock_position(code, shares, direction=sj.Action.Buy, cond=sj.StockOrderCond.Cash, unit=None):
    quantity = shares if unit == sj.Unit.Share else shares // 1000  # Unit.Common (the default) counts lots
    return documented("StockPosition", id=0, code=code, direction=direction, quantity=quantity, price=0.0,
                      last_price=0.0, pnl=0.0, yd_quantity=quantity, cond=cond, margin_purchase_amount=0,
                      collateral=0, short_sale_margin=0, interest=0)


class FakeShioaji:
    """Records calls; signatures are checked against ``shioaji.Shioaji`` below. Orders are real ``sj.StockOrder``
    objects, so a bad field value fails here as it would live. ``holdings`` (code → list of (shares, direction,
    cond)), ``balance`` and ``settlement_rows`` are what the account reports; ``auto_fill`` answers every order
    with the documented deal callback at ``fill_prices[code]`` (and adds it to the holdings)."""

    fail_logins = 0

    def __init__(self, simulation=None, proxy=None, vpn=None):
        self.simulation = simulation
        self.placed, self.cancelled, self.callback, self.status_calls = [], [], None, 0
        self.holdings: dict[str, list] = {}
        self.balance = documented("AccountBalance", acc_balance=0.0, date="", errmsg="")
        self.settlement_rows: list = []
        self.position_units: list = []
        self.auto_fill, self.fill_prices = False, {}
        self.Contracts = type("C", (), {"Stocks": {"2890": {"code": "2890"}, "2330": {"code": "2330"}},
                                        "Futures": {"TXFR1": SimpleNamespace(code="TXFR1", target_code="TXFF6"),
                                                    "TXFF6": SimpleNamespace(code="TXFF6", target_code="TXFF6")}})()
        self.futopt_account = sj.Account(account_type=sj.AccountType.Future, person_id="", broker_id="YOUR_BROKER_ID",
                                         account_id="YOUR_ACCOUNT_ID", signed=True, username="")
        # the documented account fields (placeholders in the Sinotrade docs)
        self.stock_account = sj.Account(account_type=sj.AccountType.Stock, person_id="", broker_id="YOUR_BROKER_ID", account_id="YOUR_ACCOUNT_ID",
                                          signed=True, username="")

    def login(self, api_key, secret_key, subscribe_trade=True, receive_window=30000, force_refresh=False):
        if FakeShioaji.fail_logins > 0:
            FakeShioaji.fail_logins -= 1
            raise ConnectionError(f"login refused for {api_key}")
        self.key = api_key
        return ["ACCOUNT"]

    def place_order(self, contract, order, timeout=30000, cb=None):
        holder = FakeOrderHolder(order)
        trade = FakeTrade(contract, holder, f"{len(self.placed) + 1:08x}")
        self.placed.append((contract, order))
        if self.auto_fill:
            deal = _documented_event("StockDeal")
            deal.update(trade_id=trade.order.id, code=contract["code"], order_lot="Common", quantity=order.quantity,
                        price=self.fill_prices[contract["code"]], action=order.action.value,
                        exchange_seq=f"{len(self.placed):06d}")
            self.callback(sj.OrderState.StockDeal, deal)
            sign = 1 if order.action == sj.Action.Buy else -1
            self.holdings.setdefault(contract["code"], []).append((sign * order.quantity * 1000, sj.Action.Buy,
                                                                   sj.StockOrderCond.Cash))
        return trade

    def list_positions(self, account=None, unit=None, timeout=30000, cb=None):
        self.position_units.append(unit)
        return [stock_position(code, shares, direction, cond, unit)
                for code, rows in self.holdings.items() for shares, direction, cond in rows]

    def account_balance(self, account=None, timeout=30000, cb=None):
        return self.balance

    def settlements(self, account=None, timeout=30000, cb=None):
        return self.settlement_rows

    def cancel_order(self, trade, timeout=30000, cb=None):
        self.cancelled.append(trade)

    def update_status(self, account=None, *, trade=None, timeout=30000, cb=None):
        self.status_calls += 1

    def set_order_callback(self, callback):
        self.callback = callback

    def on_session_down(self, callback=None):
        self.session_down = callback


@pytest.mark.parametrize("method", ["login", "place_order", "cancel_order", "update_status", "set_order_callback",
                                    "on_session_down", "list_positions", "account_balance", "settlements"])
def test_test_double_matches_installed_shioaji_signatures(method):
    real = inspect.signature(getattr(sj.Shioaji, method))
    fake = inspect.signature(getattr(FakeShioaji, method))
    def strip(sig):
        return [(p.name, p.kind if p.name != "self" else None, p.default) for p in sig.parameters.values()]

    assert strip(fake) == strip(real)


def test_constructor_signature_matches():
    assert list(inspect.signature(FakeShioaji).parameters) == list(inspect.signature(sj.Shioaji).parameters)


@pytest.fixture
def broker():
    made = []

    def factory(simulation):
        made.append(FakeShioaji(simulation=simulation))
        return made[-1]

    b = ShioajiBroker(ShioajiParams(simulation=True), api_factory=factory, sleep=lambda s: None)
    b.connect(ENV)
    b.made = made
    return b


def approved_children(order):
    engine = RiskEngine([])
    ctx = RiskContext(NOW)
    parent = engine.check(order, ctx).approved
    return [engine.check_child(parent, c, ctx).approved for c in SlicerRouter().schedule(parent)]


def test_submit_places_a_real_shioaji_order_in_lots(broker):
    [child] = approved_children(Order("P1", "2890", Side.BUY, 3000, Decimal("27"), Decimal("27")))
    broker.submit(child)
    contract, order = broker.api.placed[0]
    assert contract == {"code": "2890"} and broker.api.simulation is True
    assert order.action == sj.Action.Buy and order.quantity == 3 and order.price == 27
    assert order.price_type == sj.StockPriceType.LMT and order.order_lot == sj.StockOrderLot.Common
    assert order.custom_field == "P1-001"[-6:]


def test_submit_refuses_unapproved_orders(broker):
    from jgod_core.risk.engine import UnapprovedOrderError

    with pytest.raises(UnapprovedOrderError):
        broker.submit(Order("x", "2890", Side.BUY, 1000, Decimal("27"), Decimal("27")))


def _documented_event(kind: str) -> dict:
    text = (FORMATS / "sinotrade_docs_order_order_deal_event_stocks_2026-05-21_d9ff7e3.txt").read_text()
    match = re.search(r"<OrderState\.%s: '\w+'> (\{.*?\n\})" % kind, text, re.S)
    return ast.literal_eval(match.group(1))


def test_documented_order_and_deal_callbacks_become_status_and_fills(broker):
    [child] = approved_children(Order("P1", "2890", Side.BUY, 1000, Decimal("27"), Decimal("27")))
    broker.submit(child)
    broker_id = broker.trades["P1-001"].order.id
    order_event = _documented_event("StockOrder")
    order_event["order"]["id"] = broker_id
    broker.api.callback(sj.OrderState.StockOrder, order_event)
    assert broker.status["P1-001"] is OrderStatus.ACCEPTED
    deal = _documented_event("StockDeal")  # IntradayOdd deal of 3 shares at 267.5 in the docs
    deal.update(trade_id=broker_id, order_lot="Common", quantity=1, price=27.0)
    broker.api.callback(sj.OrderState.StockDeal, deal)
    [fill] = broker.drain_fills()
    assert (fill.client_order_id, fill.quantity, fill.price, fill.commission) == ("P1-001", 1000, Decimal("27.00"), 38)
    assert fill.ts == dt.datetime(2023, 1, 13, 2, 34, 16, 354000)
    assert broker.status["P1-001"] is OrderStatus.FILLED


def test_cancel_all_updates_status_then_cancels_working_orders(broker):
    for child in approved_children(Order("P2", "2330", Side.SELL, 120_000, Decimal("600"), Decimal("600"))):
        broker.submit(child)
    assert sorted(broker.cancel_all("halt")) == ["P2-001", "P2-002", "P2-003"]
    assert broker.api.status_calls == 1 and len(broker.api.cancelled) == 3


def test_login_retries_with_backoff_then_succeeds():
    FakeShioaji.fail_logins = 2
    waits = []
    b = ShioajiBroker(ShioajiParams(backoff_seconds=1.0), api_factory=lambda s: FakeShioaji(simulation=s),
                      sleep=waits.append)
    b.connect(ENV)
    assert b.api is not None and waits == [1.0, 2.0]


def test_secrets_never_appear_in_errors_logs_or_audit(tmp_path, caplog):
    from sqlalchemy import create_engine

    from jgod_core.storage.models import AuditRecord, Base

    FakeShioaji.fail_logins = 99
    b = ShioajiBroker(ShioajiParams(login_attempts=2), api_factory=lambda s: FakeShioaji(simulation=s),
                      sleep=lambda s: None)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ShioajiError) as info:
        b.connect(ENV)
    FakeShioaji.fail_logins = 0
    assert CANARY not in str(info.value) and "***" in str(info.value)
    assert CANARY not in caplog.text
    engine = create_engine(f"sqlite:///{tmp_path / 'a.sqlite'}")
    Base.metadata.create_all(engine, tables=[AuditRecord.__table__])
    audit = AuditLog(engine)
    audit.append("broker_error", {"error": str(info.value), "params": b.params.model_dump()})
    assert all(CANARY not in e.payload_json for e in audit.entries())
    assert b.params.api_key == "${SHIOAJI_API_KEY}"  # only the reference is kept in params


def test_missing_credentials_name_the_variable_not_a_value():
    from jgod_core.errors import SecretError

    with pytest.raises(SecretError, match="SHIOAJI_API_KEY is not set"):
        ShioajiBroker(api_factory=lambda s: FakeShioaji(simulation=s)).connect({})


def test_account_nets_position_rows_in_shares_and_adds_settlements_after_the_balance_date(broker):
    api = broker.api
    api.holdings = {"2890": [(12_000, sj.Action.Buy, sj.StockOrderCond.Cash),
                             (3_000, sj.Action.Buy, sj.StockOrderCond.MarginTrading)],
                    "2330": [(1_000, sj.Action.Sell, sj.StockOrderCond.ShortSelling)]}
    api.balance = documented("AccountBalance", acc_balance=1_000_000.0, date="2024-03-01 13:30:00.000000", errmsg="")
    api.settlement_rows = [documented("SettlementV1", date=dt.date(2024, 3, 1), amount=-50_000.0, T=0),
                           documented("SettlementV1", date=dt.date(2024, 3, 4), amount=20_000.0, T=1),
                           documented("SettlementV1", date=dt.date(2024, 3, 5), amount=-300_000.0, T=2)]
    report = broker.account()
    assert api.position_units == [sj.Unit.Share]  # shares, so odd lots are not floored away
    assert dict(report.positions) == {"2890": 15_000, "2330": -1_000}
    # the 03-01 amount is already in the 03-01 balance: 1,000,000 + 20,000 − 300,000
    assert report.cash == 720_000.0 and report.as_of == dt.datetime(2024, 3, 1, 13, 30)


def test_account_without_a_balance_reports_cash_as_unknown(broker):
    broker.api.balance = documented("AccountBalance", acc_balance=0.0, date="", errmsg="query failed")
    report = broker.account()
    assert report.cash is None and "query failed" in report.cash_basis and dict(report.positions) == {}


def _documented_futures_event(kind: str) -> dict:
    text = (FORMATS / "sinotrade_docs_order_order_deal_event_futures_2026-05-21_d9ff7e3.txt").read_text()
    match = re.search(r"<OrderState\.%s: '\w+'> (\{.*?\n\})" % kind, text, re.S)
    return ast.literal_eval(match.group(1))


def approved_future(quantity=2, price="20000", side=Side.BUY):
    from jgod_core.execution.orders import ChildOrder
    from jgod_plugins.tw_market.instruments import AssetClass

    engine, ctx = RiskEngine([]), RiskContext(NOW)
    parent = engine.check(Order("F1", "TX", side, quantity, Decimal(price), Decimal(price),
                                asset=AssetClass.FUTURE), ctx).approved
    child = ChildOrder("F1-001", "TX", side, quantity, Decimal(price), Decimal(price), asset=AssetClass.FUTURE,
                       parent_id="F1")
    return engine.check_child(parent, child, ctx).approved


def test_futures_child_becomes_a_real_futures_order_on_the_dated_contract(broker):
    broker.submit(approved_future())
    contract, order = broker.api.placed[0]
    assert contract.code == "TXFF6"  # TX → TXFR1 → its target_code
    assert isinstance(order, sj.FuturesOrder) and order.quantity == 2 and order.price == 20000
    assert order.action == sj.Action.Buy and order.price_type == sj.FuturesPriceType.LMT
    assert order.order_type == sj.OrderType.ROD and order.octype == sj.FuturesOCType.Auto
    assert order.account.account_type == sj.AccountType.Future and order.custom_field == "F1-001"[-6:]


def test_documented_futures_order_and_deal_callbacks_become_status_and_fills():
    params = ShioajiParams(futures_fee_per_contract=50.0)
    b = ShioajiBroker(params, api_factory=lambda s: FakeShioaji(simulation=s), sleep=lambda s: None)
    b.connect(ENV)
    b.submit(approved_future())
    broker_id = b.trades["F1-001"].order.id
    event = _documented_futures_event("FuturesOrder")
    event["order"]["id"] = broker_id
    b.api.callback(sj.OrderState.FuturesOrder, event)
    assert b.status["F1-001"] is OrderStatus.ACCEPTED
    deal = _documented_futures_event("FuturesDeal")  # an option deal in the docs: 1 @ 25
    deal.update(trade_id=broker_id, code="TXF", action="Buy", quantity=2, price=20010.0)
    b.api.callback(sj.OrderState.FuturesDeal, deal)
    [fill] = b.drain_fills()
    # 2 contracts × 20,010 points × NT$200 = 8,004,000; tax 0.002 % = 160.08 → 160; fee 2 × 50
    assert (fill.quantity, fill.price, fill.multiplier, fill.notional) == (2, Decimal("20010.00"), 200, Decimal("8004000"))
    assert (fill.tax, fill.commission) == (160, 100) and b.status["F1-001"] is OrderStatus.FILLED


def test_futures_codes_map_to_shioaji_spellings():
    from jgod_plugins.adapters.shioaji.broker import shioaji_futures_code

    assert [shioaji_futures_code(s) for s in ("TX", "TXF202606", "MTX", "MXF202512", "TXFF6", "TXFR2")] == \
        ["TXFR1", "TXFF6", "MXFR1", "MXFL5", "TXFF6", "TXFR2"]
