"""Shared numba kernels for panels: rolling windows along dates, cross-sections per date.

Layout: every 2-D input is ``(symbols, dates)`` float64, symbol-major (C-contiguous rows are
one symbol's history), exactly as :class:`jgod_core.data.panel.Panel` stores fields. 1-D inputs are
``(dates,)`` market series. Outputs are new float64 arrays of the same shape; inputs are never
modified. Kernels write into outputs the Python wrapper allocates with numpy: numpy asks the
kernel for huge pages on large arrays, which makes first writes to a fresh array about twice as
fast as into one numba allocates itself.

NaN rule of the rolling kernels (identical to pandas ``Series.rolling(window,
min_periods=min_periods)``, which is the same as ``rolling(window)`` when ``min_periods`` is
None):

- the window at date ``t`` is the ``window`` positions ``t-window+1 .. t`` (positions before the
  first date simply do not exist);
- NaN observations inside the window are skipped, never filled: a halted day (NaN price) is
  absent, not zero and not the previous close;
- the value is NaN unless the window holds at least ``min_periods`` non-NaN observations;
  ``min_periods=None`` means ``window`` (the window must be full of valid values, pandas'
  default). The std additionally needs more than one observation;
- running sums use Kahan compensation; the variance uses pandas' compensated add/remove
  (Welford) update, and a window whose valid values are all equal has a std of exactly 0 (as
  pandas does), so a constant price never yields a spurious tiny std. The std/z-score and beta
  kernels compile with ``WINDOW_FASTMATH`` (reciprocal multiplies, fused multiply-adds): within
  a few ulp of the exact updates (<1e-13 on the factor benchmark panel).

Nothing here looks ahead: the value at ``t`` reads positions ``<= t`` only.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# fastmath flags of the division-heavy window kernels: divide by multiplying with the reciprocal
# ("arcp") and fuse multiply-adds ("contract"), a few ulp from exact. Never "reassoc" (it would
# let the compiler cancel the compensation terms of the Kahan and Welford updates) nor
# "nnan"/"ninf" (NaN marks absent data and every kernel tests for it).
WINDOW_FASTMATH = {"arcp", "contract"}  # a set: numba rejects a frozenset

__all__ = [
    "rolling_sum",
    "rolling_mean",
    "rolling_std",
    "rolling_zscore",
    "rolling_beta",
    "cross_sectional_moments",
    "cross_sectional_zscore",
    "accumulate_cross_sectional_zscore",
    "cross_sectional_rank",
    "rolling_vwap",
    "group_mean",
    "accumulate_valid",
    "as_panel_array",
]


# -- argument handling -------------------------------------------------------------------------


def as_panel_array(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """``values`` as a C-contiguous float64 2-D array, and whether it was 1-D (a series)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        return np.ascontiguousarray(arr.reshape(1, -1)), True
    if arr.ndim != 2:
        raise ValueError(f"expected a (dates,) series or a (symbols, dates) panel, got shape {arr.shape}")
    return np.ascontiguousarray(arr), False


def _check_window(window: int, min_periods: int | None) -> int:
    if int(window) != window or window < 1:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    if min_periods is None:
        return int(window)
    if int(min_periods) != min_periods or not 0 <= min_periods <= window:
        raise ValueError(f"min_periods must be an integer in [0, window={window}], got {min_periods!r}")
    return int(min_periods)


def _shape_back(out: np.ndarray, was_series: bool) -> np.ndarray:
    return out[0] if was_series else out


# -- rolling kernels ---------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def _kahan_add(total, comp, value):
    """Compensated ``total + value``: returns the new total and compensation."""
    y = value - comp
    s = total + y
    return s, (s - total) - y


# Window states: each rolling statistic is a tuple of scalars updated by ``push`` (a date enters
# the window) and ``pop`` (the date ``window`` positions back leaves it), and read by ``value``.
# The generic kernels below and the fused per-factor kernels (``jgod_plugins.factors``) share
# these, so a fused kernel computes bit-for-bit what the separate calls would.
#
# The updates are short chains of dependent adds and divides, so one symbol's sweep is bound by
# their latency, not by memory. Kernels therefore sweep two symbols in lock-step (rows ``i`` and
# ``pair_row(i, n)``): the CPU overlaps the two independent chains (~1.7x on 2600 dates).


@njit(cache=True, nogil=True, inline="always")
def pair_row(i, n):
    """The row swept together with row ``i`` (even): ``i + 1``, or ``i`` itself for an odd last row."""
    return min(i + 1, n - 1)

SUM_START = (0.0, 0.0, 0, 0, 0, np.nan)  # total, compensation, nobs, negatives, equal run, last value


@njit(cache=True, nogil=True, inline="always")
def sum_push(state, v):
    """Rolling-sum state with ``v`` added (NaN is skipped)."""
    total, comp, nobs, neg, same, prev = state
    if v == v:
        nobs += 1
        if v < 0:
            neg += 1
        if v == prev:
            same += 1
        else:
            same = 1
            prev = v
        total, comp = _kahan_add(total, comp, v)
    return total, comp, nobs, neg, same, prev


@njit(cache=True, nogil=True, inline="always")
def sum_pop(state, old):
    """Rolling-sum state with ``old`` (an earlier pushed value) removed."""
    total, comp, nobs, neg, same, prev = state
    if old == old:
        nobs -= 1
        if old < 0:
            neg -= 1
        total, comp = _kahan_add(total, comp, -old)
    return total, comp, nobs, neg, same, prev


@njit(cache=True, nogil=True, inline="always")
def sum_value(state, min_periods, want_mean):
    """The window's sum (or mean), NaN below ``min_periods`` observations; equal values are exact."""
    total, comp, nobs, neg, same, prev = state
    if nobs >= min_periods and nobs > 0:
        if same >= nobs:
            return prev if want_mean else prev * nobs
        res = total / nobs if want_mean else total
        if neg == 0 and res < 0:
            return 0.0
        if neg == nobs and res > 0:
            return 0.0
        return res
    if nobs == 0 and min_periods == 0 and not want_mean:
        return 0.0
    return np.nan


MOMENTS_START = (0, 0.0, 0.0, 0.0, 0, np.nan)  # nobs, mean, sum of squares, compensation, equal run, last


@njit(cache=True, nogil=True, inline="always")
def moments_push(state, v):
    """Rolling mean/variance state (Welford, compensated mean) with ``v`` added (NaN skipped)."""
    nobs, mean, ssq, comp, same, prev = state
    if v == v:
        if v == prev:
            same += 1
        else:
            same = 1
            prev = v
        nobs += 1
        prev_mean = mean - comp
        y = v - comp
        d = y - mean
        comp = d + mean - y
        mean = mean + d / nobs
        ssq += (v - prev_mean) * (v - mean)
    return nobs, mean, ssq, comp, same, prev


@njit(cache=True, nogil=True, inline="always")
def moments_pop(state, old):
    """Rolling mean/variance state with ``old`` removed."""
    nobs, mean, ssq, comp, same, prev = state
    if old == old:
        nobs -= 1
        if nobs > 0:
            y = old - comp
            d = y - mean
            comp = d + mean - y
            prev_mean = mean
            mean = mean - d / nobs
            ssq -= (old - prev_mean) * (old - mean)
        else:
            mean = 0.0
            ssq = 0.0
            comp = 0.0
    return nobs, mean, ssq, comp, same, prev


@njit(cache=True, nogil=True, inline="always")
def moments_value(state, min_periods, ddof):
    """``(mean, std)`` of the window, both NaN below ``min_periods`` observations or ``ddof + 1``."""
    nobs, mean, ssq, comp, same, prev = state
    if nobs >= min_periods and nobs > ddof and nobs > 0:
        if nobs == 1 or same >= nobs:
            return prev, 0.0
        var = ssq / (nobs - ddof)
        if var < 0.0:
            var = 0.0
        return mean, np.sqrt(var)
    return np.nan, np.nan


@njit(cache=True, nogil=True, inline="always")
def zscore_of(v, mean, sd):
    """``(v - mean) / sd``; NaN for a zero (or NaN) std."""
    return (v - mean) / sd if sd > 0.0 else np.nan


@njit(cache=True, nogil=True)
def _rolling_sum_kernel(x, window, min_periods, want_mean, out):
    n, t = x.shape
    for i in range(0, n, 2):
        k = pair_row(i, n)
        a = SUM_START
        b = SUM_START
        for j in range(t):
            a = sum_push(a, x[i, j])
            b = sum_push(b, x[k, j])
            if j >= window:
                a = sum_pop(a, x[i, j - window])
                b = sum_pop(b, x[k, j - window])
            out[i, j] = sum_value(a, min_periods, want_mean)
            out[k, j] = sum_value(b, min_periods, want_mean)
    return out


@njit(cache=True, nogil=True, fastmath=WINDOW_FASTMATH)
def _rolling_moments_kernel(x, window, min_periods, ddof, want_z, out):
    """Rolling std (ddof) per row into ``out``; ``want_z``: (x - mean) / std instead of std."""
    n, t = x.shape
    for i in range(0, n, 2):
        k = pair_row(i, n)
        a = MOMENTS_START
        b = MOMENTS_START
        for j in range(t):
            a = moments_push(a, x[i, j])
            b = moments_push(b, x[k, j])
            if j >= window:
                a = moments_pop(a, x[i, j - window])
                b = moments_pop(b, x[k, j - window])
            m, sd = moments_value(a, min_periods, ddof)
            out[i, j] = zscore_of(x[i, j], m, sd) if want_z else sd
            m, sd = moments_value(b, min_periods, ddof)
            out[k, j] = zscore_of(x[k, j], m, sd) if want_z else sd
    return out


BETA_START = (0, 0.0, 0.0, 0.0, 0.0)  # nobs, mean x, mean y, co-moment xy, co-moment xx


@njit(cache=True, nogil=True, inline="always")
def beta_push(state, a, b):
    """Rolling OLS state of ``b`` on ``a`` with the pair added (skipped unless both are valid)."""
    nobs, mx, my, sxy, sxx = state
    if a == a and b == b:
        nobs += 1
        dx = a - mx
        mx += dx / nobs
        my += (b - my) / nobs
        sxy += dx * (b - my)
        sxx += dx * (a - mx)
    return nobs, mx, my, sxy, sxx


@njit(cache=True, nogil=True, inline="always")
def beta_pop(state, a, b):
    """Rolling OLS state with an earlier pair removed."""
    nobs, mx, my, sxy, sxx = state
    if a == a and b == b:
        nobs -= 1
        if nobs > 0:
            dx = a - mx
            mx -= dx / nobs
            my -= (b - my) / nobs
            sxy -= dx * (b - my)
            sxx -= dx * (a - mx)
        else:
            mx = 0.0
            my = 0.0
            sxy = 0.0
            sxx = 0.0
    return nobs, mx, my, sxy, sxx


@njit(cache=True, nogil=True, inline="always")
def beta_value(state, min_periods):
    """The slope ``sxy / sxx``; NaN below ``min_periods`` pairs, with one pair, or constant ``a``."""
    nobs, mx, my, sxy, sxx = state
    if nobs >= min_periods and nobs > 1 and sxx > 0.0:
        return sxy / sxx
    return np.nan


@njit(cache=True, nogil=True, fastmath=WINDOW_FASTMATH)
def _rolling_beta_kernel(y, x, window, min_periods, out):
    """Rolling OLS slope of each row of ``y`` on the series ``x`` over pairwise-valid dates."""
    n, t = y.shape
    for i in range(0, n, 2):
        k = pair_row(i, n)
        a = BETA_START
        b = BETA_START
        for j in range(t):
            a = beta_push(a, x[j], y[i, j])
            b = beta_push(b, x[j], y[k, j])
            if j >= window:
                a = beta_pop(a, x[j - window], y[i, j - window])
                b = beta_pop(b, x[j - window], y[k, j - window])
            out[i, j] = beta_value(a, min_periods)
            out[k, j] = beta_value(b, min_periods)
    return out


VWAP_START = (0.0, 0.0, 0.0, 0.0, 0)  # Σ p·v, its compensation, Σ v, its compensation, nobs


@njit(cache=True, nogil=True, inline="always")
def vwap_push(state, p, v):
    """Rolling VWAP state with the bar added (skipped unless price and volume are valid)."""
    pv, pv_comp, vol, vol_comp, nobs = state
    if p == p and v == v:
        nobs += 1
        pv, pv_comp = _kahan_add(pv, pv_comp, p * v)
        vol, vol_comp = _kahan_add(vol, vol_comp, v)
    return pv, pv_comp, vol, vol_comp, nobs


@njit(cache=True, nogil=True, inline="always")
def vwap_pop(state, p, v):
    """Rolling VWAP state with an earlier bar removed."""
    pv, pv_comp, vol, vol_comp, nobs = state
    if p == p and v == v:
        nobs -= 1
        pv, pv_comp = _kahan_add(pv, pv_comp, -p * v)
        vol, vol_comp = _kahan_add(vol, vol_comp, -v)
    return pv, pv_comp, vol, vol_comp, nobs


@njit(cache=True, nogil=True, inline="always")
def vwap_value(state, min_periods):
    """``Σ p·v / Σ v``; NaN below ``min_periods`` bars or with zero volume."""
    pv, pv_comp, vol, vol_comp, nobs = state
    if nobs >= min_periods and nobs > 0 and vol > 0.0:
        return pv / vol
    return np.nan


@njit(cache=True, nogil=True)
def _rolling_vwap_kernel(price, volume, window, min_periods, out):
    n, t = price.shape
    for i in range(0, n, 2):
        k = pair_row(i, n)
        a = VWAP_START
        b = VWAP_START
        for j in range(t):
            a = vwap_push(a, price[i, j], volume[i, j])
            b = vwap_push(b, price[k, j], volume[k, j])
            if j >= window:
                a = vwap_pop(a, price[i, j - window], volume[i, j - window])
                b = vwap_pop(b, price[k, j - window], volume[k, j - window])
            out[i, j] = vwap_value(a, min_periods)
            out[k, j] = vwap_value(b, min_periods)
    return out


def rolling_vwap(price: np.ndarray, volume: np.ndarray, window: int, min_periods: int | None = None) -> np.ndarray:
    """Rolling volume-weighted mean price ``Σ p·v / Σ v`` over dates where both are valid.

    Equals pandas ``(p*v).rolling(w, mp).sum() / v.where(p.notna()).rolling(w, mp).sum()`` (one
    fused pass); NaN where fewer than ``min_periods`` valid pairs or the window's volume is 0.
    """
    p, series = as_panel_array(price)
    v, _ = as_panel_array(volume)
    if p.shape != v.shape:
        raise ValueError(f"price {p.shape} and volume {v.shape} differ in shape")
    return _shape_back(_rolling_vwap_kernel(p, v, int(window), _check_window(window, min_periods), np.empty(p.shape)), series)


def rolling_sum(values: np.ndarray, window: int, min_periods: int | None = None) -> np.ndarray:
    """Rolling sum over the last ``window`` dates (pandas ``rolling(window, min_periods).sum()``)."""
    x, series = as_panel_array(values)
    return _shape_back(_rolling_sum_kernel(x, int(window), _check_window(window, min_periods), False, np.empty(x.shape)), series)


def rolling_mean(values: np.ndarray, window: int, min_periods: int | None = None) -> np.ndarray:
    """Rolling mean over the last ``window`` dates (pandas ``rolling(window, min_periods).mean()``)."""
    x, series = as_panel_array(values)
    return _shape_back(_rolling_sum_kernel(x, int(window), _check_window(window, min_periods), True, np.empty(x.shape)), series)


def rolling_std(values: np.ndarray, window: int, min_periods: int | None = None, ddof: int = 1) -> np.ndarray:
    """Rolling standard deviation, ``ddof=1`` (pandas ``rolling(window, min_periods).std()``)."""
    x, series = as_panel_array(values)
    sd = _rolling_moments_kernel(x, int(window), _check_window(window, min_periods), int(ddof), False,
                                 np.empty(x.shape))
    return _shape_back(sd, series)


def rolling_zscore(values: np.ndarray, window: int, min_periods: int | None = None) -> np.ndarray:
    """``(x_t - mean) / std`` with mean and std (ddof=1) of the window ending at and including t.

    Equals pandas ``(s - s.rolling(w, mp).mean()) / s.rolling(w, mp).std()``, except that a
    zero std gives NaN (pandas gives ±inf), and NaN wherever ``x_t`` itself is NaN.
    """
    x, series = as_panel_array(values)
    z = _rolling_moments_kernel(x, int(window), _check_window(window, min_periods), 1, True, np.empty(x.shape))
    return _shape_back(z, series)


def rolling_beta(y: np.ndarray, x: np.ndarray, window: int, min_periods: int | None = None) -> np.ndarray:
    """Rolling OLS slope ``cov(y, x) / var(x)`` of each row of ``y`` on the market series ``x``.

    Only dates where both are valid enter a window (pairwise deletion, as pandas
    ``y.rolling(w, mp).cov(x) / x.where(y.notna()).rolling(w, mp).var()``); NaN where fewer than
    ``min_periods`` pairs (``None`` = ``window``) or ``x`` is constant over them.
    """
    ya, series = as_panel_array(y)
    xs = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    if xs.shape != (ya.shape[1],):
        raise ValueError(f"x has shape {xs.shape}, expected ({ya.shape[1]},)")
    return _shape_back(_rolling_beta_kernel(ya, xs, int(window), _check_window(window, min_periods), np.empty(ya.shape)), series)


# -- cross-sectional kernels (one date column at a time, over non-NaN symbols) ----------------


@njit(cache=True, nogil=True)
def _cs_moments_kernel(x, min_count):
    """Per-date mean and 1/std (ddof=1) over valid symbols; NaN scale for degenerate dates."""
    n, t = x.shape
    count = np.zeros(t)
    total = np.zeros(t)
    for i in range(n):  # row-wise passes keep memory access contiguous in the symbol-major layout
        row = x[i]
        for j in range(t):
            v = row[j]
            if v == v:
                count[j] += 1.0
                total[j] += v
    mean = np.empty(t)
    for j in range(t):
        mean[j] = total[j] / count[j] if count[j] > 0 else np.nan
    ssq = np.zeros(t)
    for i in range(n):
        row = x[i]
        for j in range(t):
            v = row[j]
            if v == v:
                d = v - mean[j]
                ssq[j] += d * d
    scale = np.empty(t)
    for j in range(t):
        if count[j] >= min_count and count[j] >= 2 and ssq[j] > 0.0:
            scale[j] = 1.0 / np.sqrt(ssq[j] / (count[j] - 1.0))
        else:
            scale[j] = np.nan
    return mean, scale


def cross_sectional_moments(values: np.ndarray, min_count: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Per-date ``(mean, 1 / std)`` (ddof=1) over the non-NaN symbols: what the z-scores use.

    The scale is NaN on dates with fewer than ``max(2, min_count)`` valid symbols or no
    dispersion, so ``(x - mean) * scale`` is the z-score of :func:`cross_sectional_zscore`
    before its clip.
    """
    x, _ = as_panel_array(values)
    return _cs_moments_kernel(x, float(min_count))


@njit(cache=True, nogil=True, inline="always")
def clip_sigma(z, sigma):
    """``z`` clipped to ±``sigma`` (``sigma`` 0: unclipped); NaN stays NaN."""
    if sigma > 0.0:
        if z > sigma:
            return sigma
        if z < -sigma:
            return -sigma
    return z


@njit(cache=True, nogil=True)
def _cs_zscore_kernel(x, winsor_sigma, min_count, out):
    n, t = x.shape
    mean, scale = _cs_moments_kernel(x, min_count)
    for i in range(n):
        row = x[i]
        for j in range(t):
            out[i, j] = clip_sigma((row[j] - mean[j]) * scale[j], winsor_sigma)
    return out


@njit(cache=True, nogil=True)
def _cs_zscore_accumulate_kernel(x, winsor_sigma, min_count, total, count, sign):
    n, t = x.shape
    mean, scale = _cs_moments_kernel(x, min_count)
    for i in range(n):
        row = x[i]
        for j in range(t):
            z = (row[j] - mean[j]) * scale[j]
            if z == z:
                total[i, j] += sign * clip_sigma(z, winsor_sigma)
                count[i, j] += 1.0


@njit(cache=True, nogil=True)
def _cs_rank_kernel(x, min_count):
    n, t = x.shape
    out = np.full((n, t), np.nan)
    column = np.empty(n)
    where = np.empty(n, dtype=np.int64)
    for j in range(t):
        m = 0
        for i in range(n):
            v = x[i, j]
            if v == v:
                column[m] = v
                where[m] = i
                m += 1
        if m < min_count or m == 0:
            continue
        if m == 1:
            out[where[0], j] = 0.0
            continue
        vals = column[:m]
        order = np.argsort(vals, kind="mergesort")
        k = 0
        while k < m:
            stop = k + 1
            while stop < m and vals[order[stop]] == vals[order[k]]:
                stop += 1
            avg_rank0 = 0.5 * (k + stop - 1)  # average 0-based rank of the tie group
            scaled = 2.0 * avg_rank0 / (m - 1) - 1.0
            for q in range(k, stop):
                out[where[order[q]], j] = scaled
            k = stop
    return out


def cross_sectional_zscore(values: np.ndarray, winsor_sigma: float = 3.0, min_count: int = 2) -> np.ndarray:
    """Per-date z-score over the non-NaN symbols of each date column, clipped to ±``winsor_sigma``.

    ``z[i, t] = clip((x[i, t] - mean_t) / std_t, -winsor_sigma, winsor_sigma)`` where ``mean_t``
    and ``std_t`` (ddof=1) are taken over the symbols valid on date t; the clip is applied once
    after standardising (mean and std are of the raw values). ``winsor_sigma=0`` disables the
    clip. A date with fewer than ``max(2, min_count)`` valid symbols, or zero dispersion, is NaN.
    """
    x, _ = as_panel_array(values)
    if not winsor_sigma >= 0:
        raise ValueError(f"winsor_sigma must be >= 0, got {winsor_sigma!r}")
    out = _cs_zscore_kernel(x, float(winsor_sigma), float(min_count), np.empty(x.shape))
    return out.reshape(np.shape(values))


def accumulate_cross_sectional_zscore(total: np.ndarray, count: np.ndarray, values: np.ndarray,
                                      winsor_sigma: float = 3.0, sign: float = 1.0, min_count: int = 2) -> None:
    """In place: add ``sign × cross_sectional_zscore(values)`` to ``total`` and 1 to ``count`` where valid.

    Same numbers as :func:`cross_sectional_zscore` followed by :func:`accumulate_valid`, without
    materialising the z-score panel.
    """
    x, _ = as_panel_array(values)
    if total.shape != x.shape or count.shape != x.shape:
        raise ValueError(f"accumulators {total.shape}/{count.shape} do not match values {x.shape}")
    if not winsor_sigma >= 0:
        raise ValueError(f"winsor_sigma must be >= 0, got {winsor_sigma!r}")
    _cs_zscore_accumulate_kernel(x, float(winsor_sigma), float(min_count), total, count, float(sign))


def cross_sectional_rank(values: np.ndarray, min_count: int = 1) -> np.ndarray:
    """Per-date rank over non-NaN symbols, scaled linearly to [-1, 1].

    With ``m`` valid symbols on a date and average (0-based) rank ``r`` (ties share the mean of
    their ranks, as ``scipy.stats.rankdata(method='average') - 1``), the value is
    ``2 r / (m - 1) - 1``: lowest -1, highest +1, the median 0. A lone valid symbol gets 0;
    NaN stays NaN; dates with fewer than ``min_count`` valid symbols are all NaN.
    """
    x, _ = as_panel_array(values)
    return _cs_rank_kernel(x, int(min_count)).reshape(np.shape(values))


@njit(cache=True, nogil=True)
def _group_mean_kernel(x, codes, n_groups, weights, weighted):
    n, t = x.shape
    total = np.zeros((n_groups, t))
    wsum = np.zeros((n_groups, t))
    for i in range(n):
        g = codes[i]
        if g < 0:
            continue
        row = x[i]
        for j in range(t):
            v = row[j]
            w = weights[i, j] if weighted else 1.0
            if v == v and w == w:
                total[g, j] += v * w
                wsum[g, j] += w
    out = np.empty((n_groups, t))
    for g in range(n_groups):
        for j in range(t):
            out[g, j] = total[g, j] / wsum[g, j] if wsum[g, j] > 0 else np.nan
    return out


def group_mean(values: np.ndarray, codes: np.ndarray, n_groups: int, weights: np.ndarray | None = None) -> np.ndarray:
    """``(groups, dates)`` (weighted) mean of ``values`` over the symbols of each group, per date.

    ``codes[i]`` is symbol i's group in ``0..n_groups-1`` (negative: in no group). Symbols whose
    value or weight is NaN on a date are left out of that date's mean; an empty group is NaN.
    """
    x, _ = as_panel_array(values)
    w = x if weights is None else as_panel_array(weights)[0]  # unread when unweighted
    if w.shape != x.shape:
        raise ValueError(f"weights have shape {w.shape}, expected {x.shape}")
    codes = np.ascontiguousarray(np.asarray(codes, dtype=np.int64))
    if codes.shape != (x.shape[0],):
        raise ValueError(f"codes have shape {codes.shape}, expected ({x.shape[0]},)")
    if codes.size and codes.max() >= n_groups:
        raise ValueError(f"group code {codes.max()} out of range for {n_groups} groups")
    return _group_mean_kernel(x, codes, int(n_groups), w, weights is not None)


@njit(cache=True, nogil=True)
def _accumulate_kernel(total, count, values, scale):
    n, t = values.shape
    for i in range(n):
        for j in range(t):
            v = values[i, j]
            if v == v:
                total[i, j] += scale * v
                count[i, j] += 1.0


def accumulate_valid(total: np.ndarray, count: np.ndarray, values: np.ndarray, scale: float = 1.0) -> None:
    """In place: ``total += scale * values`` and ``count += 1`` where ``values`` is not NaN.

    The building block of a NaN-skipping mean over several panels (``total / count``).
    """
    x, _ = as_panel_array(values)
    if total.shape != x.shape or count.shape != x.shape:
        raise ValueError(f"accumulators {total.shape}/{count.shape} do not match values {x.shape}")
    _accumulate_kernel(total, count, x, float(scale))
