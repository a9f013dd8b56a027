"""Building blocks shared by the built-in factors (whole-panel numpy/numba, no per-symbol loops).

Conventions every built-in factor follows:

- **Prices** are adjusted (``panel.adjusted``) wherever a window spans several days; volume is raw
  shares. A day is *valid* for a symbol when its adjusted close is a number and it is not
  flagged ``halted``; on other days every price and the volume count as absent (NaN), so a halt
  is skipped by the rolling windows, never read as a zero-volume or flat day.
- **Returns** are simple close-to-close returns ``c_t / c_{t-1} - 1``; the return of the day
  after a halt is NaN (there is no previous close to compare with), not a two-day return.
- **Windows** need ``ceil(min_valid_fraction * window)`` valid observations
  (:func:`min_periods`). With ``min_valid_fraction=1`` one halted day blanks every window that
  contains it, exactly as pandas ``rolling(window)``; the default 0.9 tolerates rare halts.
- **Warm-up**: each component declares how many dates of history precede its first value, and
  is NaN at every date position before that, even where a shortened window would allow a
  value; the score is NaN before the factor's ``warmup_days``.
- **Score**: the mean, over the per-symbol score inputs valid for that symbol and date, of their
  cross-sectional winsorised z-scores (:func:`jgod_core.numerics.cross_sectional_zscore`); NaN
  when none is valid. Market-level ``(t,)`` signals enter the score only through a per-symbol
  exposure, :func:`beta_exposure`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit
from pydantic import Field

from jgod_core import Params
from jgod_core.numerics import (
    accumulate_cross_sectional_zscore,
    accumulate_valid,
    rolling_beta,
    rolling_vwap,
    rolling_zscore,
)
from jgod_core.panel import FactorResult, Panel


class FactorParams(Params):
    """Params every built-in factor shares."""

    min_valid_fraction: float = Field(
        0.9, ge=0.5, le=1.0,
        description="Share of a rolling window's dates that must hold valid (non-halted) data for a value.",
    )
    winsor_sigma: float = Field(
        3.0, ge=0.0, le=10.0,
        description="Cross-sectional z-scores are clipped to ±this many standard deviations (0 = no clip).",
    )


class MarketMappedParams(FactorParams):
    """Params of factors that map market-level signals to symbols through their beta to TAIEX."""

    beta_window: int = Field(
        120, ge=20, le=500, description="Trading days in each stock's rolling beta of daily returns to TAIEX."
    )
    signal_z_window: int = Field(
        120, ge=20, le=756,
        description="Trading days of the rolling z-score that puts each market-level signal on a common scale.",
    )


def min_periods(window: int, fraction: float) -> int:
    """Valid observations a window of ``window`` dates needs under ``min_valid_fraction``."""
    return max(1, math.ceil(fraction * window - 1e-12))


PRICE_FIELDS = frozenset({"open", "high", "low", "close"})


def valid_inputs(panel: Panel, *names: str) -> list[np.ndarray]:
    """The named fields, NaN on days that are not valid (no close, or flagged halted).

    Price fields come adjusted (``raw × adj_factor`` when a factor is loaded), anything else
    (volume in shares, margin balances …) raw. One fused pass and one new array per field.
    """
    close = panel.field("close")
    halted = panel.fields.get("halted")
    factor = panel.fields.get("adj_factor")
    absent = np.empty((0, 0))
    out = []
    for name in names:
        scale = factor if name in PRICE_FIELDS else None
        out.append(_valid_field_kernel(
            np.ascontiguousarray(panel.field(name), dtype=np.float64), close,
            absent if halted is None else halted, absent if scale is None else scale,
            halted is not None, scale is not None,
        ))
    return out


@njit(cache=True, nogil=True)
def _valid_field_kernel(values, close, halted, factor, has_halted, has_factor):
    n, t = values.shape
    out = np.empty((n, t))
    for i in range(n):
        for j in range(t):
            ok = close[i, j] == close[i, j] and not (has_halted and halted[i, j] == 1.0)
            if not ok:
                out[i, j] = np.nan
            elif has_factor:
                out[i, j] = values[i, j] * factor[i, j]
            else:
                out[i, j] = values[i, j]
    return out


def simple_returns(prices: np.ndarray, periods: int = 1) -> np.ndarray:
    """``p_t / p_{t-periods} - 1`` along the last axis; NaN for the first ``periods`` dates."""
    flat = np.ascontiguousarray(prices, dtype=np.float64)
    return _returns_kernel(flat.reshape(-1, flat.shape[-1]), periods).reshape(flat.shape)


@njit(cache=True, nogil=True)
def _returns_kernel(prices, periods):
    n, t = prices.shape
    out = np.empty((n, t))
    for i in range(n):
        for j in range(min(periods, t)):
            out[i, j] = np.nan
        for j in range(periods, t):
            out[i, j] = prices[i, j] / prices[i, j - periods] - 1.0
    return out


def typical_price_vwap(high, low, close, volume, window: int, min_count: int) -> np.ndarray:
    """Rolling ``Σ TP·V / Σ V`` with ``TP = (H + L + C) / 3`` over days where TP and V are valid."""
    return rolling_vwap((high + low + close) / 3.0, volume, window, min_count)


def stock_beta_to_taiex(panel: Panel, returns: np.ndarray, params: MarketMappedParams) -> np.ndarray:
    """``(n, t)`` rolling OLS beta of each stock's daily return to the TAIEX daily return."""
    market = simple_returns(panel.series["taiex_close"])
    window = params.beta_window
    return rolling_beta(returns, market, window, min_periods(window, params.min_valid_fraction))


def beta_exposure(beta_z: np.ndarray, signal: np.ndarray, params: MarketMappedParams, sign: float = 1.0) -> np.ndarray:
    """Per-symbol exposure to a market-level signal: ``sign * beta_z[i, t] * clip(z(signal)_t)``.

    ``beta_z`` is the cross-sectional z-score of the stocks' betas to TAIEX and ``z(signal)`` the
    signal's rolling z-score over ``signal_z_window`` dates, clipped to ±``winsor_sigma``. A
    positive market signal thus lifts high-beta stocks and lowers low-beta ones.
    """
    window = params.signal_z_window
    z = rolling_zscore(signal, window, min_periods(window, params.min_valid_fraction))
    if params.winsor_sigma > 0:
        z = np.clip(z, -params.winsor_sigma, params.winsor_sigma)
    return scale_by_date(np.ascontiguousarray(beta_z), z * sign)


@njit(cache=True, nogil=True)
def scale_by_date(panel, per_date):
    """``panel[i, t] * per_date[t]`` (a market-level series applied to every symbol)."""
    n, t = panel.shape
    out = np.empty((n, t))
    for i in range(n):
        for j in range(t):
            out[i, j] = panel[i, j] * per_date[j]
    return out


@dataclass
class ResultBuilder:
    """Collects components with their warm-ups and score inputs, then builds a ``FactorResult``.

    ``add(name, values, warmup)`` records a component and blanks its first ``warmup`` dates in
    place (the builder takes ownership of ``values``); ``score_input(values, sign)`` adds a
    per-symbol array that is cross-sectionally standardised into the score (already
    standardised exposures go through ``exposure``).
    """

    factor: str
    panel: Panel
    params: FactorParams
    components: dict[str, np.ndarray] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    _score_total: np.ndarray | None = None
    _score_count: np.ndarray | None = None

    def add(self, name: str, values: np.ndarray, warmup: int) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        values[..., :warmup] = np.nan
        self.components[name] = values
        return values

    def miss(self, name: str, reason: str) -> None:
        self.missing[name] = reason

    def score_input(self, values: np.ndarray, sign: float = 1.0) -> None:
        total, count = self._accumulators()
        accumulate_cross_sectional_zscore(total, count, values, self.params.winsor_sigma, sign)

    def exposure(self, values: np.ndarray, sign: float = 1.0) -> None:
        total, count = self._accumulators()
        accumulate_valid(total, count, values, sign)

    def _accumulators(self) -> tuple[np.ndarray, np.ndarray]:
        if self._score_total is None:
            self._score_total = np.zeros(self.panel.shape)
            self._score_count = np.zeros(self.panel.shape)
        return self._score_total, self._score_count

    def build(self, warmup: int) -> FactorResult:
        if self._score_total is None:
            score = np.full(self.panel.shape, np.nan)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                score = self._score_total / self._score_count  # 0/0 → NaN where no input is valid
        score[:, :warmup] = np.nan
        return FactorResult(self.factor, score, self.components, self.missing)


def why_absent(panel: Panel, *names: str) -> str:
    """The panel's reason for the first of ``names`` it explains (field, then dataset), else a default."""
    for name in names:
        if name in panel.missing:
            return panel.missing[name]
    return panel.why_missing(names[0])


def per_symbol(by_group: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``(n, t)``: each symbol gets its group's row of ``by_group``; NaN for code -1."""
    out = by_group[np.maximum(codes, 0)]
    out[codes < 0] = np.nan
    return out


def group_codes(labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Integer codes (``-1`` for a missing label) and the sorted distinct labels."""
    clean = np.array(["" if (v is None or (isinstance(v, float) and math.isnan(v))) else str(v) for v in labels],
                     dtype=object)
    names = sorted({v for v in clean if v})
    index = {name: k for k, name in enumerate(names)}
    return np.array([index.get(v, -1) for v in clean], dtype=np.int64), names
