"""A trading process for the crash test: journals and sends orders to a paper broker whose side is durable.

Usage: ``python crash_worker.py STORE_URL EXCHANGE_DB N_ORDERS CRASH_POINT CRASH_AT``. It starts with
start-up reconciliation, then sends orders ``o0000 …`` (one lot of 2330 each, buys and sells
alternating in pairs) through the risk engine, and SIGKILLs itself at ``CRASH_POINT`` of order
``CRASH_AT`` (points: before_journal, after_journal, after_send, after_ack; ``none`` never crashes).
The "exchange" keeps every submission it receives and every fill in its own SQLite file, as a
real broker's order/position report would.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import sys
from decimal import Decimal
from importlib.resources import files

import pandas as pd
from sqlalchemy import create_engine

from jgod_core.execution.audit import AuditLog
from jgod_core.execution.journal import OrderJournal, reconcile
from jgod_core.execution.orders import Fill, Order, OrderStatus, Side, to_price
from jgod_core.risk.engine import RiskContext, RiskEngine
from jgod_core.storage.models import AuditRecord, Base, FillRecord, OrderRecord
from jgod_plugins.execution.paper import PaperBroker
from jgod_plugins.execution.slicer import SlicerRouter
from jgod_plugins.risk.board_lot import BoardLotRule
from jgod_plugins.risk.price_band import PriceBandRule
from jgod_plugins.risk.tick_ladder import TickLadderRule

NOW = dt.datetime(2024, 3, 1, 9, 0)


def real_bar() -> dict:
    """2330 on 2024-03-01 from the packaged sample, reference = the 2024-02-29 close."""
    path = files("jgod_plugins.data") / "sample_data" / "daily" / "twse_51_stocks_daily_ohlcv_2015-01-05_2025-05-26.csv.gz"
    bars = pd.read_csv(path, dtype={"symbol": str})
    bars = bars[(bars["symbol"] == "2330") & bars["date"].isin(["2024-02-29", "2024-03-01"])].set_index("date")
    today, before = bars.loc["2024-03-01"], bars.loc["2024-02-29"]
    return {"open": today["open"], "high": today["high"], "low": today["low"], "close": today["close"],
            "volume": today["volume"], "reference": before["close"], "is_etf": False}


class DurableExchangePaperBroker(PaperBroker):
    """The paper broker with its side of the books in SQLite (submissions and fills, committed together)."""

    name = "durable_paper"

    def __init__(self, path: str):
        super().__init__()
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS submissions (client_order_id TEXT)")
        self.db.execute("CREATE TABLE IF NOT EXISTS fills (fill_id TEXT PRIMARY KEY, client_order_id TEXT, side TEXT,"
                        " quantity INTEGER, price TEXT, commission INTEGER, tax INTEGER)")

    def submit(self, approved):
        cid = approved.order.client_order_id
        self.db.execute("BEGIN")
        self.db.execute("INSERT INTO submissions VALUES (?)", (cid,))
        known = self.db.execute("SELECT COUNT(*) FROM submissions WHERE client_order_id = ?", (cid,)).fetchone()[0]
        fills = [] if known > 1 else super().submit(approved)  # the exchange, too, refuses a duplicate id
        for f in fills:
            self.db.execute("INSERT INTO fills VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (f.fill_id, cid, f.side.value, f.quantity, str(f.price), f.commission, f.tax))
        self.db.execute("COMMIT")
        return fills

    def order_report(self) -> dict[str, OrderStatus]:
        filled = dict(self.db.execute("SELECT client_order_id, SUM(quantity) FROM fills GROUP BY client_order_id"))
        report = {}
        for (cid,) in self.db.execute("SELECT DISTINCT client_order_id FROM submissions"):
            report[cid] = OrderStatus.FILLED if filled.get(cid) else OrderStatus.ACCEPTED
        return report

    def fill_report(self) -> list[Fill]:
        rows = self.db.execute("SELECT fill_id, client_order_id, side, quantity, price, commission, tax FROM fills")
        return [Fill(cid, "2330", Side(side), q, to_price(px), c, t, NOW, "daily_bar_estimate", fid)
                for fid, cid, side, q, px, c, t in rows]


def crash_if(point: str, n: int, crash_point: str, crash_at: int) -> None:
    if point == crash_point and n == crash_at:
        os.kill(os.getpid(), signal.SIGKILL)


def main(store_url: str, exchange_path: str, n_orders: int, crash_point: str, crash_at: int) -> None:
    engine_db = create_engine(store_url)
    Base.metadata.create_all(engine_db, tables=[OrderRecord.__table__, FillRecord.__table__, AuditRecord.__table__])
    journal = OrderJournal(engine_db, AuditLog(engine_db), "durable_paper")
    broker = DurableExchangePaperBroker(exchange_path)
    bar = real_bar()
    broker.set_day({"2330": bar})
    risk = RiskEngine([TickLadderRule(), PriceBandRule(), BoardLotRule()])
    ctx = RiskContext(NOW)
    router = SlicerRouter()

    def send(parent: Order, children=None):
        approved_parent = risk.check(parent, ctx).approved
        for child in children or router.schedule(approved_parent):
            approved = risk.check_child(approved_parent, child, ctx).approved
            yield child, approved

    # -- start-up reconciliation against the broker's report --
    result = reconcile(journal, broker.order_report(), broker.fill_report(), NOW)
    for order in result.resend:
        parent = Order(order.parent_id, order.symbol, order.side, order.quantity, order.limit_price,
                       order.reference_price)
        for child, approved in send(parent, [order]):
            if journal.status.get(child.client_order_id) is OrderStatus.NEW:
                journal.record(child, OrderStatus.SUBMITTED, NOW)
            fills = risk.send(approved, broker)
            journal.record(child, OrderStatus.ACCEPTED, NOW)
            for fill in fills:
                journal.record_fill(fill, NOW)
            journal.record(child, OrderStatus.FILLED if fills else OrderStatus.ACCEPTED, NOW)
    if result.unexplained:
        print("UNEXPLAINED", result.unexplained, flush=True)
        sys.exit(3)

    # -- the strategy --
    for n in range(n_orders):
        pid = f"o{n:04d}"
        if pid in journal.status:
            continue  # handled before the crash (and reconciled above)
        side = Side.BUY if (n // 2) % 2 == 0 else Side.SELL
        limit = bar["high"] if side is Side.BUY else bar["low"]  # marketable for the whole day
        parent = Order(pid, "2330", side, 1000, Decimal(str(limit)), Decimal(str(bar["reference"])))
        crash_if("before_journal", n, crash_point, crash_at)
        journal.record(parent, OrderStatus.NEW, NOW, "target")
        journal.record(parent, OrderStatus.SUBMITTED, NOW, "approved")
        for child, approved in send(parent):
            journal.record(child, OrderStatus.NEW, NOW)
            journal.record(child, OrderStatus.SUBMITTED, NOW)
            crash_if("after_journal", n, crash_point, crash_at)
            fills = risk.send(approved, broker)
            crash_if("after_send", n, crash_point, crash_at)
            journal.record(child, OrderStatus.ACCEPTED, NOW)
            crash_if("after_ack", n, crash_point, crash_at)
            for fill in fills:
                journal.record_fill(fill, NOW)
            journal.record(child, OrderStatus.FILLED if fills else OrderStatus.ACCEPTED, NOW)
    print("DONE", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
