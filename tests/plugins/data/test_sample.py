"""The embedded sample: its loader, the data source component and the `jgod data` commands."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from jgod_core.cli import _register_groups, app
from jgod_core.storage import models, open_store
from jgod_plugins.data import sample


def test_a_failing_dataset_leaves_the_store_unchanged(tmp_path, monkeypatch):
    store = open_store(f"sqlite:///{tmp_path / 'jgod.sqlite'}")

    def broken(now):
        frame = sample.read_monthly_revenue(now)
        frame.loc[3, "symbol"] = None  # violates NOT NULL while writing, after earlier tables were written
        return frame

    datasets = tuple(sample.SampleDataset(d.name, d.table, broken if d.name == "monthly_revenue" else d.read)
                     for d in sample.DATASETS)
    monkeypatch.setattr(sample, "DATASETS", datasets)
    with pytest.raises(Exception):  # noqa: B017 - the driver's IntegrityError, whichever table it hits
        store.load_sample(progress=False)
    assert store.count(models.DailyBar) == store.count(models.Security) == store.count(models.LoadRecord) == 0


def test_tx_final_settlement_day_gets_the_official_settlement_price():
    tx = sample.apply_final_settlement(sample.read_taifex(
        "daily/taifex_tx_near_month_daily_2017-05-16_2025-09-17.csv.gz", "tx", pd.Timestamp("2025-01-01")))
    row = tx[(tx["date"] == pd.Timestamp("2025-09-17").date()) & (tx["session"] == "regular")].iloc[0]
    assert (row.contract, row.settlement) == ("202509", 25433.0)
    assert tx[tx["session"] == "after_hours"]["settlement"].isna().all()


def test_security_master_maps_markets_and_keeps_leading_zeros():
    master = sample.read_securities(pd.Timestamp("2025-01-01")).set_index("symbol")
    assert master.loc["0050", "market"] == "TWSE" and master.loc["0050", "security_type"] == "ETF"
    assert master.loc["006201", "market"] == "TPEx"
    assert set(master["market"]) == {"TWSE", "TPEx"}


def test_cli_load_then_status_shows_rows_and_calendar_gaps(tmp_path):
    _register_groups()
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    runner = CliRunner()
    loaded = runner.invoke(app, ["data", "load", "sample", "--store", url])
    assert loaded.exit_code == 0, loaded.output
    assert "123,119" in loaded.output
    assert f"sample loaded into {url} in " in loaded.output  # on one line, not wrapped inside a table title
    status = runner.invoke(app, ["data", "status", "--store", url, "--dataset", "daily_bars"])
    assert status.exit_code == 0, status.output
    assert "2330" in status.output and "2,531" in status.output and "2024-10-31" in status.output


def test_cli_fetch_with_unknown_source_is_a_message_not_a_traceback(tmp_path):
    _register_groups()
    result = CliRunner().invoke(app, ["data", "fetch", "--source", "nope", "--dataset", "x", "--symbols", "2330",
                                      "--start", "2024-01-01", "--store", f"sqlite:///{tmp_path / 'x.sqlite'}"])
    assert result.exit_code != 0
    assert "unknown data source 'nope'" in str(result.exception or result.output)
