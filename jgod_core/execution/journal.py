"""The order journal: every order status change is written (and audited) before anything is sent.

Rows live in the store's ``orders`` and ``fills`` tables. A status change is validated by the
order state machine (:func:`jgod_core.execution.orders.next_status`), committed with SQLite
``synchronous=FULL`` (or PostgreSQL's durable commit), and appended to the audit chain — all
before the caller talks to a broker, so a crash never loses an order that was sent.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from sqlalchemy import Engine, insert, select, update

from jgod_core.execution.audit import retry_on_conflict
from jgod_core.execution.orders import (
    ALLOWED_TRANSITIONS,
    ChildOrder,
    Fill,
    Order,
    OrderStatus,
    Side,
    next_status,
    to_price,
)
from jgod_core.storage.models import FillRecord, OrderRecord


class OrderJournal:
    """Durable order and fill journal with state-machine checks and audit events."""

    def __init__(self, engine: Engine, audit: Any = None, broker: str = "", model_version: str = "",
                 is_real_trade: bool = False) -> None:
        self.engine = engine
        self.audit = audit
        self.broker = broker
        self.model_version = model_version
        self.is_real_trade = is_real_trade
        self._orders = OrderRecord.__table__
        self._fills = FillRecord.__table__
        self.status: dict[str, OrderStatus] = {}
        self._lock = audit.lock if audit is not None else threading.RLock()

    def _write(self, statement, audit_kind: str, audit_payload: dict, ts: dt.datetime) -> None:
        """The journal row and its audit record in one durable commit (SQLite: synchronous=FULL)."""
        def write() -> None:
            with self._lock, self.engine.connect() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("PRAGMA synchronous=FULL")
                    conn.commit()
                conn.execute(statement)
                if self.audit is not None:
                    self.audit.append(audit_kind, audit_payload, ts=ts, conn=conn)
                conn.commit()

        retry_on_conflict(write)

    def record(self, order: Order, status: OrderStatus, ts: dt.datetime, note: str = "") -> None:
        """Journal ``order`` in ``status`` (the first record must be NEW)."""
        cid = order.client_order_id
        previous = self.status.get(cid)
        if previous is None and status is not OrderStatus.NEW:
            previous = self._load_status(cid)
        if previous is not None:
            next_status(previous, status, cid)
        ts = ts.replace(tzinfo=None)
        payload = {"reason": order.reason, "note": note, "reference_price": str(order.reference_price),
                   "is_etf": bool(order.is_etf), "time_in_force": order.time_in_force.value,
                   "slice_index": getattr(order, "slice_index", None)}
        event = {"client_order_id": cid, "symbol": order.symbol, "side": order.side.value,
                 "quantity": order.quantity, "limit_price": str(order.limit_price), "status": status.value, "note": note}
        if previous is None:
            self._write(insert(self._orders).values(
                order_id=cid, parent_order_id=getattr(order, "parent_id", None) or None, ts=ts,
                symbol=order.symbol, side=order.side.value, quantity=order.quantity,
                price=float(order.limit_price), order_type="LMT", status=status.value, broker=self.broker,
                model_version=self.model_version, is_real_trade=self.is_real_trade,
                payload_json=json.dumps(payload, ensure_ascii=False), updated_at=ts), "order_event", event, ts)
        else:
            self._write(update(self._orders).where(self._orders.c.order_id == cid)
                        .values(status=status.value, quantity=order.quantity, updated_at=ts), "order_event", event, ts)
        self.status[cid] = status

    def record_fill(self, fill: Fill, ts: dt.datetime) -> None:
        ts = (fill.ts or ts).replace(tzinfo=None)
        self._write(insert(self._fills).values(
            fill_id=fill.fill_id, order_id=fill.client_order_id, ts=ts, symbol=fill.symbol,
            side=fill.side.value, quantity=fill.quantity, price=float(fill.price), fee=fill.commission,
            tax=fill.tax, model_version=self.model_version, is_real_trade=self.is_real_trade,
            payload_json=json.dumps({"basis": fill.basis})), "fill",
            {"fill_id": fill.fill_id, "client_order_id": fill.client_order_id, "symbol": fill.symbol,
             "side": fill.side.value, "quantity": fill.quantity, "price": str(fill.price),
             "commission": fill.commission, "tax": fill.tax, "basis": fill.basis}, ts)

    def _load_status(self, cid: str) -> OrderStatus | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(self._orders.c.status).where(self._orders.c.order_id == cid)).first()
        return None if row is None else OrderStatus(row.status)

    def working_order_ids(self) -> list[str]:
        """Orders journaled as sent and not finished (start-up reconciliation asks the broker about these)."""
        working = [s.value for s in OrderStatus if s.is_working]
        with self.engine.connect() as conn:
            rows = conn.execute(select(self._orders.c.order_id).where(self._orders.c.status.in_(working))).all()
        return [r.order_id for r in rows]

    def positions(self) -> dict[str, int]:
        """Net units per symbol from the journaled fills of this journal's broker (orders it placed)."""
        fills, orders = self._fills, self._orders
        query = (select(fills.c.symbol, fills.c.side, fills.c.quantity)
                 .join(orders, orders.c.order_id == fills.c.order_id).where(orders.c.broker == self.broker))
        held: dict[str, int] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                held[row.symbol] = held.get(row.symbol, 0) + Side(row.side).sign * int(row.quantity)
        return {s: q for s, q in held.items() if q}

    def working_orders(self) -> list[tuple[str, dt.date]]:
        """(client id, day it was journaled) of this broker's orders still journaled as working."""
        orders = self._orders
        working = [s.value for s in OrderStatus if s.is_working]
        with self.engine.connect() as conn:
            rows = conn.execute(select(orders.c.order_id, orders.c.ts).where(
                orders.c.status.in_(working), orders.c.broker == self.broker)).all()
        return [(r.order_id, r.ts.date()) for r in rows]

    def expire_before(self, day: dt.date, ts: dt.datetime) -> list[str]:
        """Journal as EXPIRED every working order of an earlier session (a ROD order ends with its
        session); what filled of it shows in the broker's positions. Returns their ids."""
        stale = [cid for cid, on in self.working_orders() if on < day]
        for cid in stale:
            with self.engine.connect() as conn:
                row = conn.execute(select(self._orders).where(self._orders.c.order_id == cid)).first()
            self.record(_order_from_row(row), OrderStatus.EXPIRED, ts, "ROD order of an earlier session")
        return stale


def reconcile_positions(journaled: Mapping[str, int], reported: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """Symbols whose broker-reported position differs from the journal's fills: {symbol: {broker, journal}}.

    A difference means fills the journal never saw (late deal callbacks, trades placed outside
    J-GOD, corporate actions); the broker's figure is the one to trade from.
    """
    return {s: {"broker": int(reported.get(s, 0)), "journal": int(journaled.get(s, 0))}
            for s in sorted(set(journaled) | set(reported)) if reported.get(s, 0) != journaled.get(s, 0)}


# -- start-up reconciliation -------------------------------------------------------------------


@dataclass
class Reconciliation:
    """What start-up reconciliation did, and what it could not explain."""

    adopted: list[str] = field(default_factory=list)  # sent before the crash; status taken from the broker
    resend: list[Order] = field(default_factory=list)  # journaled, never reached the broker: send again, same id
    fills_recorded: list[str] = field(default_factory=list)  # broker fills the journal had not written yet
    unexplained: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.unexplained


_PATH_TO: Mapping[OrderStatus, tuple[OrderStatus, ...]] = {
    OrderStatus.ACCEPTED: (OrderStatus.ACCEPTED,),
    OrderStatus.PARTIALLY_FILLED: (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED),
    OrderStatus.FILLED: (OrderStatus.ACCEPTED, OrderStatus.FILLED),
    OrderStatus.CANCELLED: (OrderStatus.ACCEPTED, OrderStatus.CANCELLED),
    OrderStatus.EXPIRED: (OrderStatus.ACCEPTED, OrderStatus.EXPIRED),
    OrderStatus.REJECTED: (OrderStatus.REJECTED,),
}


def _order_from_row(row) -> ChildOrder:
    payload = json.loads(row.payload_json or "{}")
    return ChildOrder(row.order_id, row.symbol, Side(row.side), int(row.quantity), to_price(row.price),
                      to_price(payload.get("reference_price", row.price)), is_etf=bool(payload.get("is_etf", False)),
                      parent_id=row.parent_order_id or "", slice_index=int(payload.get("slice_index") or 0))


def reconcile(journal: OrderJournal, broker_orders: Mapping[str, OrderStatus], broker_fills: Sequence[Fill],
              ts: dt.datetime) -> Reconciliation:
    """Compare the journal with the broker's order and fill report after a restart.

    - a broker fill missing from the journal is journaled (crash after the fill, before its write);
    - a journaled child the broker knows takes the broker's status (crash after send, before ack);
    - a journaled child the broker does not know was never sent (crash after journal, before send):
      it is returned in ``resend`` with its original client id;
    - an order the broker knows but the journal does not is *unexplained* (it would mean a send
      without a journal entry).
    """
    result = Reconciliation()
    table = journal._orders
    with journal.engine.connect() as conn:
        rows = {r.order_id: r for r in conn.execute(select(table)).all()}
        journaled_fills = {r.fill_id for r in conn.execute(select(journal._fills.c.fill_id)).all()}
    for cid in broker_orders:
        if cid not in rows:
            result.unexplained.append(f"broker reports order {cid} that the journal never wrote")
    for fill in broker_fills:
        if fill.fill_id not in journaled_fills and fill.client_order_id in rows:
            journal.record_fill(fill, ts)
            result.fills_recorded.append(fill.fill_id)
    for cid, row in rows.items():
        status = OrderStatus(row.status)
        journal.status[cid] = status
        if not row.parent_order_id or status.is_terminal:
            continue  # parents are bookkeeping; children are what brokers see
        order = _order_from_row(row)
        if cid in broker_orders:
            target = broker_orders[cid]
            if target is not status:
                for step in _PATH_TO.get(target, ()):
                    if journal.status[cid] is step:
                        continue
                    if step in ALLOWED_TRANSITIONS[journal.status[cid]]:
                        journal.record(order, step, ts, "reconciled with the broker report")
                result.adopted.append(cid)
        elif status in (OrderStatus.NEW, OrderStatus.SUBMITTED):
            result.resend.append(order)
        else:
            result.unexplained.append(f"journal has {cid} as {status.value} but the broker does not know it")
    return result
