"""Crash test: SIGKILL a real trading process at four points; after restart nothing is lost or sent twice."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from jgod_core.execution.audit import AuditLog
from jgod_core.storage.models import FillRecord, OrderRecord

WORKER = Path(__file__).with_name("crash_worker.py")
POINTS = ["before_journal", "after_journal", "after_send", "after_ack"]
N_ORDERS = 6


def _run(store_url, exchange, point, at):
    return subprocess.run([sys.executable, str(WORKER), store_url, str(exchange), str(N_ORDERS), point, str(at)],
                          capture_output=True, text=True, timeout=120)


def _crash_and_recover(tmp_path: Path, point: str, at: int, run: int = 0) -> None:
    store = tmp_path / f"{point}_{at}_{run}.sqlite"
    exchange = tmp_path / f"{point}_{at}_{run}_exchange.sqlite"
    url = f"sqlite:///{store}"
    crashed = _run(url, exchange, point, at)
    assert crashed.returncode == -9, crashed.stderr  # really killed
    recovered = _run(url, exchange, "none", -1)
    assert recovered.returncode == 0 and "DONE" in recovered.stdout, recovered.stdout + recovered.stderr

    db = sqlite3.connect(exchange)
    submissions = dict(db.execute("SELECT client_order_id, COUNT(*) FROM submissions GROUP BY client_order_id"))
    exchange_fills = {r[0]: r for r in db.execute("SELECT fill_id, client_order_id, side, quantity FROM fills")}
    engine = create_engine(url)
    with engine.connect() as conn:
        orders = {r.order_id: r for r in conn.execute(select(OrderRecord.__table__)).all()}
        fills = {r.fill_id: r for r in conn.execute(select(FillRecord.__table__)).all()}
    intended = {f"o{n:04d}-001" for n in range(N_ORDERS)}
    assert set(submissions) == intended  # zero lost orders
    assert set(submissions.values()) == {1}  # zero duplicate submissions
    assert all(orders[cid].status == "filled" for cid in intended)
    assert len(exchange_fills) == N_ORDERS  # every order filled once at the exchange
    assert set(fills) == set(exchange_fills)  # journal and broker report agree fill by fill
    def position(rows):
        return sum((1 if side == "buy" else -1) * q for _, _, side, q in rows)

    assert position(exchange_fills.values()) == sum((1 if f.side == "buy" else -1) * f.quantity for f in fills.values())
    assert AuditLog(engine).verify().ok


@pytest.mark.parametrize("point", POINTS)
def test_sigkill_at_each_point_loses_nothing_and_sends_nothing_twice(tmp_path, point):
    _crash_and_recover(tmp_path, point, at=3)


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_sigkill_many_runs_at_each_point(tmp_path, point):
    rng = random.Random(point)
    for run in range(15):
        _crash_and_recover(tmp_path, point, at=rng.randrange(N_ORDERS), run=run)
