"""report.html figures: short runs get a note instead of an empty chart."""

from __future__ import annotations

import warnings

import pandas as pd

from jgod_plugins.analysis.report import IC_ROLLING_DAYS, ic_figure


def test_ic_chart_of_a_run_shorter_than_half_the_rolling_window_is_a_note_without_warnings():
    days = IC_ROLLING_DAYS // 2 - 1
    ic = pd.DataFrame({"date": pd.bdate_range("2024-01-02", periods=days), "factor": "f_c",
                       "rank_ic": [0.01 * ((i % 5) - 2) for i in range(days)]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        html = ic_figure(ic)
    assert html.startswith('<p class="note">too few dates') and "<img" not in html


def test_ic_chart_is_drawn_once_half_the_rolling_window_has_an_ic():
    days = IC_ROLLING_DAYS // 2
    ic = pd.DataFrame({"date": pd.bdate_range("2024-01-02", periods=days), "factor": "f_c",
                       "rank_ic": [0.01 * ((i % 5) - 2) for i in range(days)]})
    assert ic_figure(ic).startswith('<img alt="figure"')
