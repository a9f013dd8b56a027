"""FinMind connector against recorded FinMind v4 responses on a local HTTP server, with faults."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from jgod_core.data import load_panel
from jgod_core.storage import models
from jgod_plugins.adapters.finmind.data import FinMindParams, FinMindSource
from jgod_plugins.data.fetching import fetch_into_store
from jgod_plugins.data.http import FetchError
from jgod_plugins.data.replay import Reply

FAST_RETRIES = {"calls_per_minute": 6000, "backoff_initial_seconds": 0.001, "backoff_max_seconds": 0.01,
                "timeout_seconds": 2.0}


def source(server, **overrides) -> FinMindSource:
    return FinMindSource(FinMindParams(base_url=server.url + "/api/v4", **{**FAST_RETRIES, **overrides}))


def fetch(store, server, dataset="TaiwanStockPrice", symbols="2330", start=dt.date(2020, 4, 1),
          end=dt.date(2020, 4, 12), **kw):
    return fetch_into_store(store, "finmind", dataset, symbols, start, end, progress=False,
                            connector=kw.pop("connector", None) or source(server), **kw)


def test_stock_price_rows_equal_the_recorded_response(store, finmind_server):
    lines = fetch(store, finmind_server)
    bars = store.read_bars(["2330"])
    recorded = json.loads((__import__("pathlib").Path(__file__).parents[3] / "fixtures/finmind/TaiwanStockPrice.json")
                          .read_text())["example_response"]["data"]
    assert lines[0].received == lines[0].written == len(recorded) == len(bars)
    first = recorded[0]
    row = bars.iloc[0]
    assert (str(row.date), row.open, row.high, row.low, row.close, row.volume) == (
        first["date"], first["open"], first["max"], first["min"], first["close"], first["Trading_Volume"])
    path, query, headers = finmind_server.requests[0]
    assert path == "/api/v4/data"
    assert query == {"dataset": "TaiwanStockPrice", "data_id": "2330", "start_date": "2020-04-01",
                     "end_date": "2020-04-12"}


def test_token_from_environment_is_sent_as_bearer_header(store, finmind_server, monkeypatch):
    monkeypatch.setenv("FINMIND_TOKEN", "t0ken")
    fetch(store, finmind_server)
    assert finmind_server.requests[0][2]["Authorization"] == "Bearer t0ken"


def test_refetch_is_incremental_and_writes_nothing_twice(store, finmind_server):
    fetch(store, finmind_server)
    again = fetch(store, finmind_server)
    assert again[0].written == 0
    assert again[0].requested.startswith("2020-04-11")  # only after the last stored day
    full = fetch(store, finmind_server, incremental=False)
    assert full[0].received > 0 and full[0].written == 0
    assert store.count(models.DailyBar) == 5


@pytest.mark.parametrize("dataset, table, rows", [
    ("TaiwanStockInstitutionalInvestorsBuySell", models.InstitutionalFlow, None),
    ("TaiwanStockMarginPurchaseShortSale", models.MarginDaily, None),
])
def test_post_close_datasets_are_stored_with_their_publication_time(store, finmind_server, dataset, table, rows):
    lines = fetch(store, finmind_server, dataset=dataset)
    stored = store.read_table(table, ["2330"])
    assert len(stored) == lines[0].received > 0
    # Published after the close: not visible at 13:30 Taipei of the same day.
    day = stored["date"].min()
    at_close = dt.datetime.combine(day, dt.time(13, 30))
    assert store.read_table(table, ["2330"], start=day, end=day, as_of=at_close).empty


def test_broker_branch_report_is_fetched_per_trading_day(store, finmind_server):
    lines = fetch(store, finmind_server, dataset="TaiwanStockTradingDailyReport",
                  start=dt.date(2022, 6, 15), end=dt.date(2022, 6, 17))
    assert [q["date"] for p, q, _ in finmind_server.requests] == ["2022-06-15", "2022-06-16", "2022-06-17"]
    assert lines[0].written == len(store.read_table(models.BrokerBranchDaily)) > 0


def test_futures_daily_keeps_the_near_month_contract_per_session(store, finmind_server):
    fetch(store, finmind_server, dataset="TaiwanFuturesDaily", symbols="TX")
    rows = store.read_market(["tx"], session=None)
    assert sorted(rows["session"]) == ["after_hours", "regular"]
    regular = rows[rows["session"] == "regular"].iloc[0]
    assert (regular.contract, regular.close, regular.settlement, regular.open_interest) == ("202004", 9552.0, 9555.0, 83725.0)
    after = rows[rows["session"] == "after_hours"].iloc[0]
    assert pd.isna(after.settlement) and pd.isna(after.open_interest)


def test_split_becomes_a_point_in_time_adjustment_factor(store, finmind_server, tmp_path):
    fetch(store, finmind_server, dataset="TaiwanStockSplitPrice", symbols="0050", start=dt.date(2025, 1, 1),
          end=dt.date(2025, 12, 31))
    from jgod_plugins.data.sample import read_daily_bars
    from jgod_plugins.tw_market.timing import utc_now

    bars = read_daily_bars(utc_now())
    store.upsert(models.DailyBar, bars[bars["symbol"] == "0050"].tail(20))
    # The 1:4 split of 2025-06-18 is after the sample's last bar (2025-05-26):
    before_split = load_panel(store, ["0050"], as_of=dt.datetime(2025, 6, 1))
    assert "adj_factor" in before_split.missing
    after_split = load_panel(store, ["0050"], end=dt.date(2025, 5, 26), as_of=dt.datetime(2025, 6, 18, 9))
    ratio = 47.16 / 188.65
    assert after_split.fields["adj_factor"][0, -1] == pytest.approx(ratio)
    assert after_split.adjusted("close")[0, -1] == pytest.approx(180.65 * ratio)


# -- faults -----------------------------------------------------------------------------------


def test_429_storm_then_success_is_retried_and_stored(store, finmind_server):
    finmind_server.faults = [Reply.json({"msg": "Too Many Requests"}, 429)] * 4
    lines = fetch(store, finmind_server)
    assert lines[0].written == 5
    assert len(finmind_server.requests) == 5


def test_finmind_402_upper_limit_is_retried(store, finmind_server):
    limit = {"msg": "Requests reach the upper limit. https://finmindtrade.com/", "status": 402}
    finmind_server.faults = [Reply.json(limit, 402), Reply.json(limit, 200)]
    assert fetch(store, finmind_server)[0].written == 5


@pytest.mark.parametrize("fault, words", [
    (Reply.json({"msg": "Internal Server Error"}, 500), "HTTP 500"),
    (Reply(200, b'{"msg": "success", "status": 200, "data": [{"date": "2020-04-06", "sto'), "not valid JSON"),
    (Reply(200, b"<html>maintenance</html>"), "not valid JSON"),
    (Reply(200, b"", delay_seconds=0.6), "timed out"),
])
def test_persistent_fault_fails_naming_source_dataset_symbol_and_writes_nothing(store, finmind_server, fault, words):
    fetch(store, finmind_server, symbols="0050")  # an earlier, complete load must survive
    before = store.count(models.DailyBar), store.count(models.LoadRecord)
    finmind_server.faults = [fault] * 3
    with pytest.raises(FetchError) as err:
        fetch(store, finmind_server, symbols="0050,2330",
              connector=source(finmind_server, max_attempts=3, timeout_seconds=0.3), incremental=False)
    message = str(err.value)
    assert "finmind TaiwanStockPrice" in message and words in message and "gave up after 3 attempts" in message
    assert (store.count(models.DailyBar), store.count(models.LoadRecord)) == before


def test_failure_on_the_second_symbol_leaves_the_first_unwritten(store, finmind_server):
    def route(path, query):
        if query.get("data_id") == "2330":
            return Reply.json({"msg": "boom"}, 503)
        return Reply.json({"msg": "success", "status": 200, "data": []})

    finmind_server.route = route
    with pytest.raises(FetchError, match="2330"):
        fetch(store, finmind_server, symbols="0050,2330", connector=source(finmind_server, max_attempts=2))
    assert store.count(models.DailyBar) == 0


def test_401_fails_fast_without_retry(store, finmind_server):
    finmind_server.faults = [Reply.json({"msg": "invalid token"}, 401)] * 5
    with pytest.raises(FetchError, match="HTTP 401: invalid token.*token/API key"):
        fetch(store, finmind_server)
    assert len(finmind_server.requests) == 1


def test_unknown_symbol_fails_before_any_request(store, finmind_server):
    with pytest.raises(FetchError, match="finmind TaiwanStockPrice 9999: not in the TWSE/TPEx security master"):
        fetch(store, finmind_server, symbols="2330,9999")
    assert finmind_server.requests == []


def test_malformed_symbol_is_rejected(store, finmind_server):
    with pytest.raises(Exception, match="not a TWSE/TPEx security code"):
        fetch(store, finmind_server, symbols="23x0")


def test_rows_missing_a_documented_column_are_rejected(store, finmind_server):
    bad = {"msg": "success", "status": 200, "data": [{"date": "2020-04-06", "stock_id": "2330", "open": 1.0}]}
    finmind_server.faults = [Reply.json(bad)]
    with pytest.raises(FetchError, match="malformed rows"):
        fetch(store, finmind_server)
    assert store.count(models.DailyBar) == 0


def test_empty_data_writes_nothing_and_reports_zero(store, finmind_server):
    lines = fetch(store, finmind_server, start=dt.date(2021, 1, 1), end=dt.date(2021, 1, 10))
    assert (lines[0].received, lines[0].written) == (0, 0)
    assert store.count(models.DailyBar) == 0


def test_rate_limit_spaces_requests():
    from jgod_plugins.data.http import RateLimiter

    now = [0.0]
    slept = []
    limiter = RateLimiter(30, clock=lambda: now[0], sleep=lambda s: (slept.append(s), now.__setitem__(0, now[0] + s)))
    for _ in range(3):
        limiter.acquire()
    assert slept == [2.0, 2.0]


def test_cli_fetch_with_base_url_fills_the_store_from_a_local_mirror(finmind_server, tmp_path, capsys):
    from jgod_core.cli import main

    url = f"sqlite:///{tmp_path / 'mirror.sqlite'}"
    args = ["data", "fetch", "--source", "finmind", "--dataset", "TaiwanStockPrice", "--symbols", "2330",
            "--start", "2020-04-01", "--end", "2020-04-12", "--store", url, "--base-url", finmind_server.url + "/api/v4/"]
    assert main(args) == 0, capsys.readouterr().err
    assert [r[0] for r in finmind_server.requests] == ["/api/v4/data"]
    from jgod_core.storage import models, open_store

    assert open_store(url).count(models.DailyBar) > 0


def test_cli_base_url_is_refused_for_a_source_without_one_and_when_not_http(tmp_path, capsys):
    from jgod_core.cli import main

    common = ["data", "fetch", "--dataset", "kbars", "--symbols", "2330", "--start", "2023-01-16",
              "--store", f"sqlite:///{tmp_path / 'x.sqlite'}"]
    assert main(common + ["--source", "shioaji", "--base-url", "http://127.0.0.1:1"]) == 1
    assert "shioaji is not an HTTP source" in capsys.readouterr().err
    assert main(common + ["--source", "finmind", "--base-url", "ftp://mirror"]) == 1
    assert "must start with http:// or https://" in capsys.readouterr().err


@pytest.mark.parametrize("token", [None, "t0ken"])
def test_cli_fetch_says_when_finmind_is_queried_anonymously(finmind_server, tmp_path, capsys, monkeypatch, token):
    from jgod_core.cli import main

    if token is None:
        monkeypatch.delenv("FINMIND_TOKEN", raising=False)
    else:
        monkeypatch.setenv("FINMIND_TOKEN", token)
    args = ["data", "fetch", "--source", "finmind", "--dataset", "TaiwanStockPrice", "--symbols", "2330",
            "--start", "2020-04-01", "--end", "2020-04-12", "--store", f"sqlite:///{tmp_path / 'f.sqlite'}",
            "--base-url", finmind_server.url + "/api/v4"]
    assert main(args) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert ("FINMIND_TOKEN is not set: FinMind is queried anonymously" in err) is (token is None)
