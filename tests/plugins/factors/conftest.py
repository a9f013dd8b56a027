"""A small real-data panel: 12 TWSE symbols (incl. 0050 and three with halts), 2017-05..2020-12."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from jgod_core.data.panel import Panel

SYMBOLS = ["0050", "1101", "1216", "2303", "2317", "2327", "2330", "2382", "2474", "2603", "2881", "2882"]
START, END = "2017-05-16", "2020-12-31"


def sample_dir():
    return files("jgod_plugins.data") / "sample_data" / "daily"


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(sample_dir() / name, dtype={"symbol": str})


def taiwan_dated(us: pd.Series, taiwan_dates: pd.DatetimeIndex) -> pd.Series:
    """A US close is known on the first Taiwan date strictly after its own date."""
    known = pd.merge_asof(pd.DataFrame({"date": taiwan_dates}), us.rename("v").rename_axis("date").reset_index(),
                          on="date", allow_exact_matches=False)
    return pd.Series(known["v"].to_numpy(), index=taiwan_dates)


def load_sample_bars() -> pd.DataFrame:
    bars = _read("twse_51_stocks_daily_ohlcv_2015-01-05_2025-05-26.csv.gz")
    bars["date"] = pd.to_datetime(bars["date"])
    keep = bars["symbol"].isin(SYMBOLS) & bars["date"].between(START, END)
    bars = bars[keep].reset_index(drop=True)
    bars["halted"] = bars["close"].isna().astype(float)
    return bars


def build_sample_panel(sample_bars: pd.DataFrame) -> Panel:
    dates = pd.DatetimeIndex(sorted(sample_bars["date"].unique()))
    taiex = _read("taiex_index_daily_2017-05-16_2025-09-17.csv").assign(date=lambda d: pd.to_datetime(d["date"]))
    tx = _read("taifex_tx_near_month_daily_2017-05-16_2025-09-17.csv.gz")
    tx = tx[tx["trading_session"] == "position"].assign(date=lambda d: pd.to_datetime(d["date"]))
    series = {
        "taiex_close": taiex.set_index("date")["close"],
        "tx_close": tx.set_index("date")["close"],
    }
    for name, file in [("vix_close", "vix_daily_2010-01-04_2026-07-23.csv"),
                       ("es_close", "es_futures_continuous_daily_2010-01-04_2026-02-23.csv")]:
        us = _read(file).assign(date=lambda d: pd.to_datetime(d["date"])).set_index("date")["close"]
        series[name] = taiwan_dated(us, dates)
    master = pd.read_csv(sample_dir() / "twse_51_stocks_symbols.csv", dtype={"symbol": str}).set_index("symbol")
    master = master.rename(columns={"type": "security_type"})[["industry", "market", "security_type"]]
    panel = Panel.from_long(sample_bars, ["open", "high", "low", "close", "volume", "halted"], series, master,
                            {"margin_balance": "no margin source in the sample",
                             "net_income": "no fundamentals in the sample"})
    assert panel.shape == (len(SYMBOLS), len(dates))
    return panel


@pytest.fixture(scope="session")
def sample_bars() -> pd.DataFrame:
    return load_sample_bars()


@pytest.fixture(scope="session")
def sample_panel(sample_bars) -> Panel:
    return build_sample_panel(sample_bars)


@pytest.fixture(scope="session")
def wide(sample_panel):
    """pandas wide frames (dates × symbols) of the panel's fields, for independent references."""
    index = pd.DatetimeIndex(sample_panel.dates.astype("datetime64[ns]"))

    def frame(name: str) -> pd.DataFrame:
        return pd.DataFrame(sample_panel.fields[name].T, index=index, columns=list(sample_panel.symbols))

    return frame


@pytest.fixture(scope="session")
def series_of(sample_panel):
    index = pd.DatetimeIndex(sample_panel.dates.astype("datetime64[ns]"))
    return lambda name: pd.Series(sample_panel.series[name], index=index)


def as_array(frame_or_series) -> np.ndarray:
    return frame_or_series.to_numpy().T if isinstance(frame_or_series, pd.DataFrame) else frame_or_series.to_numpy()
