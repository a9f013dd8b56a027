"""The factor SDK: what a factor author (built-in or third-party) builds a ``compute`` from.

Everything here works on whole panels, ``(symbols, dates)`` float64 arrays (numba kernels, no
Python loop per symbol), reads nothing after the date it computes for, and marks what it cannot
compute as NaN, never as a filled-in value. Import it as ``from jgod_plugins.sdk.factors import …``
(rolling windows, z-scores and ranks are in :mod:`jgod_plugins.sdk.numerics`).

Helpers, each with a one-line example (``panel`` is a :class:`jgod_core.Panel`, ``p`` the factor's
params, a subclass of :class:`FactorParams`):

========================  ==================================================================================
``FactorParams``          ``class MyParams(FactorParams): window_days: int = Field(20, ge=1, le=504, description=…)``
``MarketMappedParams``    ``class MyParams(MarketMappedParams): ...`` (adds ``beta_window``, ``signal_z_window``)
``min_periods``           ``count = min_periods(60, p.min_valid_fraction)`` → 54 valid dates needed of 60
``factor_inputs``         ``inputs = factor_inputs(panel); inputs.close, inputs.volume, inputs.returns``
``valid_inputs``          ``high, low = valid_inputs(panel, "high", "low")`` (adjusted, NaN on invalid days)
``simple_returns``        ``r5 = simple_returns(inputs.close, 5)`` → ``c_t / c_{t-5} - 1``
``typical_price``         ``tp = typical_price(panel)`` → ``(H + L + C) / 3`` on valid days
``stock_beta_to_taiex``   ``beta = stock_beta_to_taiex(panel, p)`` (rolling OLS beta to TAIEX returns)
``beta_zscore``           ``bz = beta_zscore(panel, p)`` (cross-sectional z-score of that beta)
``beta_exposure``         ``b.exposure(beta_exposure(bz, panel.series["vix_close"], p, sign=-1.0))``
``scale_by_date``         ``x = scale_by_date(beta, regime)`` → ``beta[i, t] * regime[t]``
``ResultBuilder``         ``b = ResultBuilder(self.name, panel, p); b.add("mom", m, warmup=20); b.score_input(m)``
``why_absent``            ``b.miss("vix_z", why_absent(panel, "vix_close"))`` (the loader's reason)
``group_codes``           ``codes, names = group_codes(panel.attributes["industry"])``
``per_symbol``            ``heat = per_symbol(by_industry, codes)`` (each symbol gets its group's row)
``PRICE_FIELDS``          ``{"open", "high", "low", "close"}``: the fields :func:`valid_inputs` adjusts
========================  ==================================================================================

A complete ``compute`` (N-day momentum of the adjusted close, warm-up NaN)::

    def compute(self, panel: Panel) -> FactorResult:
        p = self.params
        momentum = simple_returns(factor_inputs(panel).close, p.window_days)  # NaN after a halt
        builder = ResultBuilder(self.name, panel, p)
        momentum = builder.add("momentum", momentum, warmup=p.window_days)  # first window_days dates NaN
        builder.score_input(momentum)                                       # cross-sectional z-score
        return builder.build(warmup=self.warmup_days(p))

Panel field names (what :meth:`Panel.field`, ``panel.series`` and ``panel.attributes`` hold when
the panel comes from the store, :func:`jgod_core.data.load_panel`; absent ones are named in
``panel.missing`` with the reason, and ``panel.field(name)`` raises
:class:`jgod_core.MissingDataError` with it):

- per-symbol ``(n, t)`` fields, ``panel.field(name)``: ``open``, ``high``, ``low``, ``close``
  (raw TWD; NaN on a day without a published price), ``volume`` (shares), ``halted`` (1.0 on a
  day without a published price, else 0.0), ``adj_factor`` (multiply a raw price by it for the
  dividend/split-adjusted price; absent from the shipped sample, which has no adjustment table,
  so :meth:`Panel.adjusted` returns raw prices there), ``monthly_revenue`` (NT$, the latest
  monthly revenue published by the end of each date; the sample holds it for 2330 only);
- market ``(t,)`` series, ``panel.series[name]`` (test with ``panel.has_series(name)``):
  ``taiex_open``, ``taiex_high``, ``taiex_low``, ``taiex_close``; ``tx_open``, ``tx_high``,
  ``tx_low``, ``tx_close``, ``tx_volume``, ``tx_settlement``, ``tx_open_interest`` (TAIFEX TX
  near month, regular session); ``vix_open``, ``vix_high``, ``vix_low``, ``vix_close``,
  ``sp500_close``, ``nasdaq100_close``, ``es_close``, ``nq_close``, ``usdtwd`` (US and FX
  series on the first Taiwan date after their own: a US close of date D is on Taiwan dates
  after D only);
- per-symbol ``(n,)`` attributes, ``panel.attributes[name]``: ``industry``, ``market`` (TWSE or
  TPEx), ``security_type``;
- never in the panel (``panel.missing`` says so): ``institutional_flows``, ``margin``,
  ``broker_branches``, ``fundamentals``; ``calendar_gaps`` lists XTAI days without bars.

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
  cross-sectional winsorised z-scores (:func:`jgod_plugins.sdk.numerics.cross_sectional_zscore`); NaN
  when none is valid. Market-level ``(t,)`` signals enter the score only through a per-symbol
  exposure, :func:`beta_exposure`. The score is therefore *cross-sectional*: a symbol's score
  depends on the other symbols of the panel on that date (its components need not).
- **Shared inputs**: the masked close/volume, returns (:func:`factor_inputs`), typical price
  and the betas to TAIEX with their z-score are computed once per panel instance and memoised
  on it (``Panel.derived``, keyed by the parameters they depend on) as read-only arrays, so
  factors run on the same panel never recompute nor modify each other's inputs.
- **Kernels** sweep each symbol's dates once, computing all of a factor's rolling windows in
  that sweep, and write into arrays allocated with numpy (see :mod:`jgod_plugins.sdk.numerics`).

Check a factor against these rules with :func:`jgod_core.testing.contracts.check_factor`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit
from pydantic import Field

from jgod_core import Params
from jgod_core.data.panel import FactorResult, Panel
from jgod_plugins.sdk.numerics import (
    clip_sigma,
    cross_sectional_moments,
    cross_sectional_zscore,
    rolling_beta,
    rolling_zscore,
)

__all__ = [
    "PRICE_FIELDS",
    "FactorParams",
    "MarketMappedParams",
    "FactorInputs",
    "ResultBuilder",
    "min_periods",
    "valid_inputs",
    "factor_inputs",
    "simple_returns",
    "typical_price",
    "stock_beta_to_taiex",
    "beta_zscore",
    "beta_exposure",
    "scale_by_date",
    "why_absent",
    "group_codes",
    "per_symbol",
]


class FactorParams(Params):
    """Params every built-in factor shares; subclass it for a factor's own params.

    ``min_valid_fraction`` is what :func:`min_periods` turns into a window's required count of
    valid dates; ``winsor_sigma`` clips the cross-sectional z-scores :class:`ResultBuilder` puts
    into the score. Frozen, unknown keys and NaN rejected (:class:`jgod_core.Params`).
    """

    min_valid_fraction: float = Field(
        0.9, ge=0.5, le=1.0,
        description="Share of a rolling window's dates that must hold valid (non-halted) data for a value.",
    )
    winsor_sigma: float = Field(
        3.0, ge=0.0, le=10.0,
        description="Cross-sectional z-scores are clipped to ±this many standard deviations (0 = no clip).",
    )


class MarketMappedParams(FactorParams):
    """Params of factors that map market-level signals to symbols through their beta to TAIEX.

    ``beta_window`` is the window of :func:`stock_beta_to_taiex`, ``signal_z_window`` the one of the
    rolling z-score :func:`beta_exposure` puts a market series on.
    """

    beta_window: int = Field(
        120, ge=20, le=500, description="Trading days in each stock's rolling beta of daily returns to TAIEX."
    )
    signal_z_window: int = Field(
        120, ge=20, le=756,
        description="Trading days of the rolling z-score that puts each market-level signal on a common scale.",
    )


def min_periods(window: int, fraction: float) -> int:
    """Valid observations a window of ``window`` dates needs under ``min_valid_fraction``.

    ``ceil(fraction * window)``, at least 1: ``min_periods(60, 0.9) == 54``,
    ``min_periods(20, 1.0) == 20`` (one halt inside the window blanks it). Pass it as the
    ``min_periods`` of the :mod:`jgod_plugins.sdk.numerics` rolling kernels.
    """
    return max(1, math.ceil(fraction * window - 1e-12))


PRICE_FIELDS = frozenset({"open", "high", "low", "close"})
"""The per-symbol fields that are prices: :func:`valid_inputs` multiplies them by ``adj_factor``."""


def valid_inputs(panel: Panel, *names: str) -> list[np.ndarray]:
    """The named fields, NaN on days that are not valid (no close, or flagged halted).

    Price fields come adjusted (``raw × adj_factor`` when a factor is loaded), anything else
    (volume in shares, margin balances …) raw. One fused pass and one new array per field, each
    ``(n, t)`` and the caller's to modify. No lag: the value at ``t`` is the field at ``t``.
    A field the panel lacks raises :class:`jgod_core.MissingDataError` with the loader's reason.
    Close and volume, which every factor reads, are shared through :func:`factor_inputs`.

    Example: ``high, low = valid_inputs(panel, "high", "low")``.
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
            halted is not None, scale is not None, np.empty(panel.shape),
        ))
    return out


@njit(cache=True, nogil=True)
def _valid_field_kernel(values, close, halted, factor, has_halted, has_factor, out):
    n, t = values.shape
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


# -- inputs shared by the factors, derived once per panel ----------------------------------------


@dataclass(frozen=True)
class FactorInputs:
    """The masked daily inputs every built-in factor reads, ``(n, t)`` read-only arrays.

    - ``close``: adjusted close on valid days, NaN elsewhere (:func:`valid_inputs`);
    - ``volume``: raw shares on valid days, NaN elsewhere;
    - ``returns``: ``close_t / close_{t-1} - 1`` (NaN on the first date and after a halt).

    Built by :func:`factor_inputs` in one pass over the raw fields, once per panel instance.
    """

    close: np.ndarray
    volume: np.ndarray
    returns: np.ndarray


def factor_inputs(panel: Panel) -> FactorInputs:
    """The panel's :class:`FactorInputs`, computed on first use and memoised on the panel.

    The arrays are read-only and shared by every factor run on the same panel instance: copy
    (or pass to a kernel that allocates its output) before changing values. Needs the ``close``
    and ``volume`` fields; ``halted`` and ``adj_factor`` are used when present.

    Example: ``inputs = factor_inputs(panel); r = inputs.returns``.
    """
    return panel.derived("factors.inputs", lambda: FactorInputs(*_read_only(*_inputs(panel))))


def _inputs(panel: Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    close = np.ascontiguousarray(panel.field("close"), dtype=np.float64)
    volume = np.ascontiguousarray(panel.field("volume"), dtype=np.float64)
    halted, factor = panel.fields.get("halted"), panel.fields.get("adj_factor")
    absent = np.empty((0, 0))
    outputs = np.empty(close.shape), np.empty(close.shape), np.empty(close.shape)
    _inputs_kernel(close, volume, absent if halted is None else np.ascontiguousarray(halted),
                   absent if factor is None else np.ascontiguousarray(factor),
                   halted is not None, factor is not None, *outputs)
    return outputs


@njit(cache=True, nogil=True)
def _inputs_kernel(close, volume, halted, factor, has_halted, has_factor, close_out, volume_out, returns):
    n, t = close.shape
    for i in range(n):
        previous = np.nan
        for j in range(t):
            c = close[i, j]
            if c == c and not (has_halted and halted[i, j] == 1.0):
                if has_factor:
                    c = c * factor[i, j]
                v = volume[i, j]
            else:
                c = np.nan
                v = np.nan
            close_out[i, j] = c
            volume_out[i, j] = v
            returns[i, j] = c / previous - 1.0
            previous = c


def typical_price(panel: Panel) -> np.ndarray:
    """``(n, t)`` read-only ``(H + L + C) / 3`` of adjusted prices on valid days (NaN elsewhere), memoised.

    No lag (the value at ``t`` uses the bar of ``t``); needs ``high`` and ``low``.
    """
    def build() -> np.ndarray:
        close = factor_inputs(panel).close
        factor = panel.fields.get("adj_factor")
        high = np.ascontiguousarray(panel.field("high"), dtype=np.float64)
        low = np.ascontiguousarray(panel.field("low"), dtype=np.float64)
        out = np.empty(close.shape)
        _typical_price_kernel(high, low, close, np.empty((0, 0)) if factor is None else np.ascontiguousarray(factor),
                              factor is not None, out)
        return _read_only(out)[0]

    return panel.derived("factors.typical_price", build)


@njit(cache=True, nogil=True)
def _typical_price_kernel(high, low, close, factor, has_factor, out):
    n, t = close.shape
    for i in range(n):
        for j in range(t):
            c = close[i, j]  # already adjusted, NaN on invalid days
            if c != c:
                out[i, j] = np.nan
            elif has_factor:
                out[i, j] = (high[i, j] * factor[i, j] + low[i, j] * factor[i, j] + c) / 3.0
            else:
                out[i, j] = (high[i, j] + low[i, j] + c) / 3.0


def stock_beta_to_taiex(panel: Panel, params: MarketMappedParams) -> np.ndarray:
    """``(n, t)`` read-only rolling OLS beta of each stock's daily return to TAIEX's, memoised.

    Needs the ``taiex_close`` series; the window and its ``min_valid_fraction`` come from
    ``params`` (factors with equal settings share one computation). The beta at ``t`` uses the
    returns of ``t - beta_window + 1 .. t``; NaN until :func:`min_periods` of them are valid.
    """
    window = params.beta_window
    count = min_periods(window, params.min_valid_fraction)

    def build() -> np.ndarray:
        market = simple_returns(panel.series["taiex_close"])
        return _read_only(rolling_beta(factor_inputs(panel).returns, market, window, count))[0]

    return panel.derived(("factors.beta_to_taiex", window, count), build)


def beta_zscore(panel: Panel, params: MarketMappedParams) -> np.ndarray:
    """Read-only cross-sectional winsorised z-score of :func:`stock_beta_to_taiex`, memoised.

    Per date across the panel's symbols (so it depends on which symbols the panel holds),
    clipped to ±``winsor_sigma``; NaN where the beta is.
    """
    window, sigma = params.beta_window, params.winsor_sigma
    count = min_periods(window, params.min_valid_fraction)
    return panel.derived(
        ("factors.beta_zscore", window, count, sigma),
        lambda: _read_only(cross_sectional_zscore(stock_beta_to_taiex(panel, params), sigma))[0],
    )


def _read_only(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Shared arrays are frozen so no factor can modify another's input in place."""
    for arr in arrays:
        arr.flags.writeable = False
    return arrays


def simple_returns(prices: np.ndarray, periods: int = 1) -> np.ndarray:
    """``p_t / p_{t-periods} - 1`` along the last axis; NaN for the first ``periods`` dates.

    Works on ``(t,)`` series and ``(n, t)`` fields alike and returns a new array. NaN where either
    price is NaN (so with :func:`factor_inputs` closes, NaN when a halt falls on either end); no
    fill, no look-ahead. Example: ``simple_returns(panel.series["taiex_close"])``.
    """
    flat = np.ascontiguousarray(prices, dtype=np.float64)
    out = np.empty(flat.shape)
    _returns_kernel(flat.reshape(-1, flat.shape[-1]), periods, out.reshape(-1, flat.shape[-1]))
    return out


@njit(cache=True, nogil=True)
def _returns_kernel(prices, periods, out):
    n, t = prices.shape
    for i in range(n):
        for j in range(min(periods, t)):
            out[i, j] = np.nan
        for j in range(periods, t):
            out[i, j] = prices[i, j] / prices[i, j - periods] - 1.0


def beta_exposure(beta_z: np.ndarray, signal: np.ndarray, params: MarketMappedParams, sign: float = 1.0) -> np.ndarray:
    """Per-symbol exposure to a market-level signal: ``sign * beta_z[i, t] * clip(z(signal)_t)``.

    ``beta_z`` is the cross-sectional z-score of the stocks' betas to TAIEX and ``z(signal)`` the
    signal's rolling z-score over ``signal_z_window`` dates, clipped to ±``winsor_sigma``. A
    positive market signal thus lifts high-beta stocks and lowers low-beta ones. NaN where the
    beta z-score is NaN or the signal's z-score lacks :func:`min_periods` valid dates. Pass the
    result to :meth:`ResultBuilder.exposure` (it is already on a z-score scale).
    """
    window = params.signal_z_window
    z = rolling_zscore(signal, window, min_periods(window, params.min_valid_fraction))
    if params.winsor_sigma > 0:
        z = np.clip(z, -params.winsor_sigma, params.winsor_sigma)
    return scale_by_date(beta_z, z * sign)


def scale_by_date(panel: np.ndarray, per_date: np.ndarray) -> np.ndarray:
    """New ``(n, t)`` array ``panel[i, t] * per_date[t]`` (a market-level series applied to every symbol).

    NaN where either factor is NaN; no lag.
    """
    out = np.empty(panel.shape)
    np.multiply(panel, per_date, out=out)
    return out


@dataclass
class ResultBuilder:
    """Collects components with their warm-ups and score inputs, then builds a ``FactorResult``.

    ``add(name, values, warmup)`` records a component and blanks its first ``warmup`` dates in
    place (the builder takes ownership of ``values``); ``score_input(values, sign)`` adds a
    per-symbol array that is cross-sectionally standardised into the score (already
    standardised exposures go through ``exposure``). ``build`` computes the score in one pass
    over all its inputs.
    """

    factor: str
    panel: Panel
    params: FactorParams
    components: dict[str, np.ndarray] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    _score_parts: list[tuple[np.ndarray, tuple | None, float]] = field(default_factory=list)  # values, moments, sign

    def add(self, name: str, values: np.ndarray, warmup: int) -> np.ndarray:
        """Record component ``name``: its first ``warmup`` dates are set to NaN in place; returns ``values``.

        ``values`` is ``(n, t)`` per symbol or ``(t,)`` market-wide (then it appears with symbol
        ``"*"`` in long output). Pass the number of dates of history its first value needs.
        """
        values = np.asarray(values, dtype=np.float64)
        values[..., :warmup] = np.nan
        self.components[name] = values
        return values

    def miss(self, name: str, reason: str) -> None:
        """Report component ``name`` as not computed, with ``reason`` (e.g. :func:`why_absent`)."""
        self.missing[name] = reason

    def score_input(self, values: np.ndarray, sign: float = 1.0) -> None:
        """Add an ``(n, t)`` array to the score: per date, its winsorised cross-sectional z-score × ``sign``."""
        values = np.ascontiguousarray(values, dtype=np.float64)
        self._score_parts.append((values, cross_sectional_moments(values), sign))

    def exposure(self, values: np.ndarray, sign: float = 1.0) -> None:
        """Add an ``(n, t)`` array already on a z-score scale (e.g. :func:`beta_exposure`) to the score as is."""
        self._score_parts.append((np.ascontiguousarray(values, dtype=np.float64), None, sign))

    def build(self, warmup: int) -> FactorResult:
        """The :class:`jgod_core.FactorResult`: score = mean of the valid score inputs, NaN before ``warmup``.

        A cell whose inputs are all NaN has a NaN score; with no score input at all the score is
        all NaN. Pass the factor's ``warmup_days(params)``.
        """
        parts = self._score_parts
        if not parts:
            score = np.full(self.panel.shape, np.nan)
        else:
            t = self.panel.shape[1]
            moments = np.array([(np.zeros(t), np.ones(t)) if m is None else m for _, m, _ in parts])
            score = np.empty(self.panel.shape)
            _score_kernel(tuple(values for values, _, _ in parts), moments[:, 0], moments[:, 1],
                          np.array([m is not None for _, m, _ in parts]),
                          np.array([sign for _, _, sign in parts], dtype=np.float64),
                          float(self.params.winsor_sigma), min(int(warmup), t), score)
        return FactorResult(self.factor, score, self.components, self.missing)


@njit(cache=True, nogil=True)
def _score_kernel(parts, means, scales, standardise, signs, winsor_sigma, warmup, out):
    """Mean over the valid inputs of ``sign × clip(z)`` (standardised) or ``sign × value`` (exposures).

    ``z = (x - means[k, t]) * scales[k, t]``, the cross-sectional z-score. One pass: every cell
    sums its inputs in registers, in input order (as separate accumulations would).
    """
    n, t = out.shape
    for i in range(n):
        for j in range(warmup):
            out[i, j] = np.nan
        for j in range(warmup, t):
            total = 0.0
            count = 0.0
            for k in range(len(parts)):
                v = parts[k][i, j]
                if standardise[k]:
                    v = clip_sigma((v - means[k, j]) * scales[k, j], winsor_sigma)
                if v == v:
                    total += signs[k] * v
                    count += 1.0
            out[i, j] = total / count if count > 0.0 else np.nan


def why_absent(panel: Panel, *names: str) -> str:
    """The panel's reason for the first of ``names`` it explains (field, then dataset), else a default.

    Example: ``builder.miss("margin_breadth", why_absent(panel, "margin_balance", "margin"))``.
    """
    for name in names:
        if name in panel.missing:
            return panel.missing[name]
    return panel.why_missing(names[0])


def per_symbol(by_group: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``(n, t)``: each symbol gets its group's row of ``by_group``; NaN for code -1.

    ``by_group`` is ``(groups, t)`` (e.g. :func:`jgod_plugins.sdk.numerics.group_mean` by industry),
    ``codes`` from :func:`group_codes`.
    """
    out = by_group[np.maximum(codes, 0)]
    out[codes < 0] = np.nan
    return out


def group_codes(labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Integer codes (``-1`` for a missing label) and the sorted distinct labels.

    Example: ``codes, industries = group_codes(panel.attributes["industry"])``.
    """
    clean = np.array(["" if (v is None or (isinstance(v, float) and math.isnan(v))) else str(v) for v in labels],
                     dtype=object)
    names = sorted({v for v in clean if v})
    index = {name: k for k, name in enumerate(names)}
    return np.array([index.get(v, -1) for v in clean], dtype=np.int64), names
