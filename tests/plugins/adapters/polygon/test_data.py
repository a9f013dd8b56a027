"""Polygon connector against the recorded polygon-io/client-python aggregate mocks on a local server."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from jgod_core.storage import models
from jgod_plugins.adapters.polygon.data import PolygonParams, PolygonSource
from jgod_plugins.data.fetching import fetch_into_store
from jgod_plugins.data.http import FetchError
from jgod_plugins.data.replay import ReplayServer, Reply

RANGE = json.loads((Path(__file__).parents[3] / "fixtures/polygon/v2_aggs_ticker_AAPL_range_1_day_2005-04-01_2005-04-04.json")
                   .read_text())


@pytest.fixture
def polygon_server():
    server = ReplayServer(lambda path, query: Reply.json(RANGE) if "/AAPL/" in path
                          else Reply.json({"status": "NOT_FOUND", "message": "ticker not found"}, 404))
    httpd = server.serve()
    yield server
    httpd.shutdown()
    httpd.server_close()


def run(store, server, symbols="AAPL", **params):
    source = PolygonSource(PolygonParams(base_url=server.url, calls_per_minute=6000, backoff_initial_seconds=0.001,
                                         backoff_max_seconds=0.01, **params))
    return fetch_into_store(store, "polygon", "DailyAggregates", symbols, dt.date(2005, 4, 1), dt.date(2005, 4, 4),
                            progress=False, connector=source)


def test_daily_aggregates_are_dated_in_new_york_and_stamped_after_the_close(store, polygon_server, monkeypatch):
    monkeypatch.setenv("POLYGON_API_KEY", "k")
    lines = run(store, polygon_server)
    rows = store.read_market(["aapl"])
    assert lines[0].written == 2
    assert [str(d) for d in rows["date"]] == ["2005-04-01", "2005-04-04"]
    assert rows["close"].tolist() == [1.4604, 1.4675]
    # 16:15 New York (EST) = 21:15 UTC on the bar's date.
    assert str(rows["available_at"].iloc[0]) == "2005-04-01 21:15:00"
    path, query, headers = polygon_server.requests[0]
    assert path == "/v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04" and headers["Authorization"] == "Bearer k"
    assert run(store, polygon_server, )[0].written == 0
    assert store.count(models.MarketDaily) == 2


def test_unknown_ticker_fails_fast_naming_source_dataset_and_symbol(store, polygon_server):
    with pytest.raises(FetchError, match="polygon DailyAggregates I:XYZ: HTTP 404: ticker not found"):
        run(store, polygon_server, symbols="I:XYZ")
    assert len(polygon_server.requests) == 1


def test_500_storm_exhausts_retries_and_writes_nothing(store, polygon_server):
    polygon_server.faults = [Reply.json({"status": "ERROR"}, 500)] * 3
    with pytest.raises(FetchError, match="gave up after 3 attempts"):
        run(store, polygon_server, max_attempts=3)
    assert store.count(models.MarketDaily) == 0


def test_missing_api_key_is_refused_before_any_request(store, monkeypatch):
    from jgod_core.errors import JGodError

    monkeypatch.delenv("POLYGON_API_KEY", raising=False)
    with pytest.raises(JGodError, match="polygon credentials missing: set POLYGON_API_KEY in the environment"):
        fetch_into_store(store, "polygon", "DailyAggregates", "AAPL", dt.date(2005, 4, 1), dt.date(2005, 4, 4),
                         progress=False, connector=PolygonSource(PolygonParams(max_attempts=1, timeout_seconds=1)))
