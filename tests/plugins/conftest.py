"""Fixtures for connector tests: recorded responses replayed by a local HTTP server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jgod_core.storage import open_store
from jgod_plugins.data.replay import ReplayServer, Reply

FIXTURES = Path(__file__).parents[1] / "fixtures"
FAST_RETRIES = {"calls_per_minute": 6000, "backoff_initial_seconds": 0.001, "backoff_max_seconds": 0.01,
                "timeout_seconds": 2.0}


def recorded(provider: str, name: str) -> dict:
    return json.loads((FIXTURES / provider / f"{name}.json").read_text(encoding="utf-8"))


def finmind_route(path: str, query: dict[str, str]) -> Reply:
    """Replays FinMind's documented responses, filtered to the requested symbol and dates."""
    if path.endswith("/taiwan_stock_trading_daily_report"):
        body = recorded("finmind", "TaiwanStockTradingDailyReport")["example_response"]
        rows = [r for r in body["data"] if r["stock_id"] == query.get("data_id") and r["date"] == query.get("date")]
        return Reply.json({**body, "data": rows})
    dataset = query.get("dataset", "")
    try:
        body = recorded("finmind", dataset)["example_response"]
    except FileNotFoundError:
        return Reply.json({"msg": f"dataset {dataset} not recorded", "status": 400}, status=400)
    start, end = query.get("start_date", "0000"), query.get("end_date", "9999")
    key = "futures_id" if dataset == "TaiwanFuturesDaily" else "stock_id"
    rows = [r for r in body["data"]
            if start <= r["date"] <= end and (dataset == "TaiwanStockSplitPrice" or r[key] == query.get("data_id"))]
    return Reply.json({**body, "data": rows})


@pytest.fixture
def finmind_server():
    server = ReplayServer(finmind_route)
    httpd = server.serve()
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def store(tmp_path):
    """An empty SQLite store with the sample's security master (so unknown symbols are detectable)."""
    from jgod_core.storage.models import Security
    from jgod_plugins.data.sample import read_securities
    from jgod_plugins.tw_market.timing import utc_now

    opened = open_store(f"sqlite:///{tmp_path / 'jgod.sqlite'}")
    opened.upsert(Security, read_securities(utc_now()))
    return opened



@pytest.fixture
def fast_retries():
    """Connector params overrides: no rate-limit wait, millisecond backoff."""
    return dict(FAST_RETRIES)
