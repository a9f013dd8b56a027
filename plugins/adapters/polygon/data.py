"""Polygon.io daily aggregates (documented REST API ``/v2/aggs/ticker/{ticker}/range/1/day/{from}/{to}``).

For the US cross-market inputs: indices (``I:SPX`` → ``sp500``, ``I:NDX`` → ``nasdaq100``,
``I:VIX`` → ``vix``) and any stock/ETF ticker (stored under its lower-cased ticker). Bars are
dated in New York and stamped 16:15 New York on that date, so they inform Taiwan dates after it
only. API key: ``POLYGON_API_KEY`` in the environment (sent as ``Authorization: Bearer``).
"""

from __future__ import annotations

import datetime as dt
import os
import re

import pandas as pd
from pydantic import Field

from jgod_core.errors import JGodError
from jgod_core.plugin.components import DataKind
from jgod_core.storage import models
from jgod_plugins.data.connector import Connector, DatasetSpec
from jgod_plugins.data.http import ConnectorParams, FetchError, JsonClient
from jgod_plugins.tw_market import timing

API_KEY_ENV = "POLYGON_API_KEY"
INSTRUMENT_BY_TICKER = {"I:SPX": "sp500", "I:NDX": "nasdaq100", "I:VIX": "vix"}
_TICKER = re.compile(r"^[A-Z0-9:.\-]{1,16}$")
MAX_PAGES = 100


class PolygonParams(ConnectorParams):
    """Polygon endpoint and budget (the free tier allows 5 requests a minute)."""

    base_url: str = Field("https://api.polygon.io", min_length=1, description="Polygon REST base URL.")
    calls_per_minute: float = Field(5.0, gt=0, le=6000, description="Request budget of this source.")


class PolygonSource(Connector):
    """Polygon.io: US index and stock daily aggregates (S&P 500, Nasdaq-100, VIX …).

    Inputs: Polygon REST v2 aggregates. Stamped 16:15 New York on the bar's date. No warm-up.
    """

    name = "polygon"
    version = "1.0.0"
    Params = PolygonParams
    datasets = {"DailyAggregates": DatasetSpec(models.MarketDaily, DataKind.US_MARKET_DAILY, "ticker", "instrument",
                                               extra_key=(("session", "regular"),))}

    def headers(self) -> dict[str, str]:
        key = os.environ.get(API_KEY_ENV)
        if not key and self.params.base_url == PolygonParams.model_fields["base_url"].default:
            # Polygon answers every keyless request 401: refuse before any request (a mirror may need no key).
            raise JGodError(f"polygon credentials missing: set {API_KEY_ENV} in the environment")
        return {"Authorization": f"Bearer {key}"} if key else {}

    def normalise_symbol(self, dataset: str, raw: str) -> str:
        ticker = raw.strip().upper()
        if not _TICKER.match(ticker):
            raise FetchError(self.name, dataset, raw, "not a Polygon ticker (e.g. I:SPX, SPY)")
        return ticker

    def store_key(self, dataset: str, symbol: str) -> str:
        return INSTRUMENT_BY_TICKER.get(symbol, symbol.lower())

    def fetch(self, client: JsonClient, dataset: str, symbol: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        path = f"/v2/aggs/ticker/{symbol}/range/1/day/{start.isoformat()}/{end.isoformat()}"
        query: dict | None = {"adjusted": "true", "sort": "asc", "limit": 50000}
        results: list[dict] = []
        for _ in range(MAX_PAGES):
            body = client.get_json(path, query or {}, dataset, symbol)
            if not isinstance(body, dict) or body.get("status") not in ("OK", "DELAYED"):
                raise FetchError(self.name, dataset, symbol, f"unexpected response: {str(body)[:160]}")
            page = body.get("results", [])
            if not isinstance(page, list):
                raise FetchError(self.name, dataset, symbol, "`results` is not a list")
            results += page
            next_url = body.get("next_url")
            if not next_url:
                break
            path, query = next_url.replace(self.params.base_url, ""), None
        frame = pd.DataFrame(results)
        if frame.empty:
            return frame
        try:
            days = pd.to_datetime(frame["t"], unit="ms", utc=True).dt.tz_convert(timing.NEW_YORK).dt.tz_localize(None)
            days = days.dt.normalize()
            shaped = pd.DataFrame({
                "instrument": self.store_key(dataset, symbol), "session": "regular", "date": days.dt.date,
                "open": frame["o"].astype(float), "high": frame["h"].astype(float), "low": frame["l"].astype(float),
                "close": frame["c"].astype(float),
                "volume": frame["v"].astype(float) if "v" in frame else None,
                "available_at": timing.new_york_stamp(days, timing.US_INDEX_CLOSE_NY),
            })
        except (KeyError, ValueError, TypeError) as exc:
            raise FetchError(self.name, dataset, symbol, f"malformed results ({type(exc).__name__}: {exc})") from None
        shaped["source"] = self.name
        shaped["updated_at"] = timing.utc_now()
        return shaped[(shaped["date"] >= start) & (shaped["date"] <= end)].reset_index(drop=True)
