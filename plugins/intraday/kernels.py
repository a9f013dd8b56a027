"""The fused numba kernel of the intraday processor: one event → every F_Stat / F_Exec component.

``apply_event`` updates the preallocated arrays of :mod:`jgod_plugins.intraday.layout` for one
event; ``process_batch`` runs it over an event batch in one compiled loop (no Python per
event). Both read only the event and the state built from earlier events: nothing looks ahead.

Definitions (per symbol; "bucket" = ``bucket_ns`` of exchange time, a 1-minute bar is one bucket):

- ``vwap_deviation`` = last price / session VWAP − 1 (VWAP = Σ p·v / Σ v since the session
  began; a bar contributes its typical price (H+L+C)/3 × volume);
- ``volume_spike`` = volume of the current bucket / mean volume of the last ``volume_window``
  completed buckets (needs ≥ 5 of them);
- ``aggressive_imbalance`` = (B − S)/(B + S) over the last ``flow_window`` classified trades;
  B/S = size of trades whose aggressor bought/sold (the feed's side, else price ≥ best ask /
  ≤ best bid of the last book);
- ``book_imbalance`` = (Σ bid size − Σ ask size)/(Σ bid + Σ ask) over the 5 levels;
- ``spread_change`` = relative spread / mean relative spread of the previous ``spread_window``
  book updates − 1 (> 0 widening, < 0 narrowing);
- ``micro_reversal`` = ±1 when the last ``run_length`` completed buckets were all small
  (|r| ≤ small_mult × mean |r| of the last ``return_window`` buckets) and the current bucket's
  move is large (≥ large_mult × mean |r|) and opposite to the run's net direction; its sign is
  the direction of the large move; 0 otherwise;
- ``cancel_rate`` = share of eligible book updates (≤ ``cancel_window_ns`` after the previous
  one, best price unchanged) in which the best-level size dropped by more than
  ``cancel_drop_frac`` of its previous size beyond what traded at that level in between,
  over the last ``cancel_obs_window`` eligible updates;
- ``cost_line_deviation`` = last price / cost line − 1, the cost line (RCNC) being the VWAP of
  the current bucket and the last ``cost_window`` completed ones;
- ``basis`` = futures − index, ``basis_residual`` = basis − mean of the last ``basis_window``
  basis updates (NaN until the window is full); on the futures row;
- ``beta_residual``: at each completed futures bucket, y = its return, x = the global
  reference's return since the previous sample; OLS of y on x over the last ``beta_window``
  samples (≥ ``beta_min`` of them); residual = y − α − β·x of the latest sample;
- ``futures_lead`` = (ln F_t − ln F_{t−k}) − (ln S_t − ln S_{t−k}) over the last k futures
  samples, S = the index.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit

from jgod_plugins.intraday.layout import (
    BAR,
    BOOK,
    BOOK_LEVELS,
    C_BOOK_NS,
    C_BUCKET_END_NS,
    C_BUCKET_START_NS,
    C_LAST_EXCH_NS,
    INDEX,
    O_AGGRESSIVE_IMB,
    O_BASIS,
    O_BASIS_RESIDUAL,
    O_BETA_RESIDUAL,
    O_BOOK_IMB,
    O_CANCEL_RATE,
    O_COST_LINE_DEV,
    O_FUTURES_LEAD,
    O_MICRO_REVERSAL,
    O_SPREAD_CHANGE,
    O_VOLUME_SPIKE,
    O_VWAP_DEV,
    P_BASIS_WINDOW,
    P_BETA_MIN,
    P_BETA_WINDOW,
    P_BUCKET_NS,
    P_CANCEL_DROP_FRAC,
    P_CANCEL_OBS_WINDOW,
    P_CANCEL_WINDOW_NS,
    P_COST_WINDOW,
    P_FLOW_WINDOW,
    P_FUTURES_SYM,
    P_GLOBAL_SYM,
    P_INDEX_SYM,
    P_LARGE_MULT,
    P_LEAD_SAMPLES,
    P_RETURN_WINDOW,
    P_RUN_LENGTH,
    P_SMALL_MULT,
    P_SPREAD_WINDOW,
    P_VOLUME_WINDOW,
    R_BASIS,
    R_BETA_X,
    R_BETA_Y,
    R_BUCKET_ABSRET,
    R_BUCKET_RET,
    R_BUCKET_VOL,
    R_CANCEL,
    R_COST_PV,
    R_COST_V,
    R_FLOW_BUY,
    R_FLOW_SELL,
    R_LEAD_F,
    R_LEAD_S,
    R_SPREAD,
    S_ASK1,
    S_ASKQ1,
    S_BID1,
    S_BIDQ1,
    S_BUCKET_CLOSE,
    S_BUCKET_HIGH,
    S_BUCKET_ID,
    S_BUCKET_LOW,
    S_BUCKET_OPEN,
    S_BUCKET_PV,
    S_BUCKET_VOL,
    S_COUNTS,
    S_CUM_PV,
    S_CUM_V,
    S_EVENTS,
    S_HEADS,
    S_LAST_PX,
    S_PREV_BUCKET_CLOSE,
    S_SAMPLE_GLOBAL_PX,
    S_SUMS,
    S_TRADED_AT_ASK,
    S_TRADED_AT_BID,
    TRADE,
)

VOLUME_MIN_BUCKETS = 5

# The kernels only read and write the arrays they are given and never allocate, so they are
# compiled without numba's reference counting (NRT): its non-inlined atomic incref/decref of the
# four or five array arguments at every helper call cost ~40 ns per helper per event, several
# times the arithmetic. Helpers are inlined at numba-IR level into the one batch loop.
kernel = functools.partial(njit, cache=True, _nrt=False)


# -- rings ---------------------------------------------------------------------------------------


@kernel(inline="always")
def _push(state, ring, s, r, value, window):
    """Append ``value`` to ring ``r`` of symbol ``s`` (length ``window``), keeping its sum."""
    head = int(state[s, S_HEADS + r])
    count = int(state[s, S_COUNTS + r])
    if count == window:
        state[s, S_SUMS + r] -= ring[s, r, head]
    else:
        state[s, S_COUNTS + r] = count + 1
    ring[s, r, head] = value
    state[s, S_SUMS + r] += value
    head += 1
    if head == window:
        head = 0
    state[s, S_HEADS + r] = head


@kernel(inline="always")
def _recent(state, ring, s, r, age, window):
    """The value pushed ``age`` pushes ago (0 = the latest) to ring ``r`` of symbol ``s``."""
    idx = int(state[s, S_HEADS + r]) - 1 - age
    while idx < 0:
        idx += window
    return ring[s, r, idx]


@kernel(inline="always")
def _count(state, s, r):
    return int(state[s, S_COUNTS + r])


@kernel(inline="always")
def _mean(state, s, r):
    count = state[s, S_COUNTS + r]
    return state[s, S_SUMS + r] / count if count > 0 else np.nan


# -- buckets -------------------------------------------------------------------------------------


@kernel(inline="always")
def _sample_futures(state, ring, out, params, s, bucket_return, close):
    """Per completed futures bucket: one beta sample and one lead sample."""
    g = int(params[P_GLOBAL_SYM])
    if g >= 0:
        g_now = state[g, S_LAST_PX]
        g_prev = state[s, S_SAMPLE_GLOBAL_PX]
        if g_now > 0 and g_prev > 0 and not math.isnan(bucket_return):
            window = int(params[P_BETA_WINDOW])
            x_new = g_now / g_prev - 1.0
            _push(state, ring, s, R_BETA_X, x_new, window)
            _push(state, ring, s, R_BETA_Y, bucket_return, window)
            n = _count(state, s, R_BETA_X)
            if n >= int(params[P_BETA_MIN]):
                mx = state[s, S_SUMS + R_BETA_X] / n
                my = state[s, S_SUMS + R_BETA_Y] / n
                sxx = 0.0
                sxy = 0.0
                for i in range(n):
                    dx = ring[s, R_BETA_X, i] - mx
                    sxx += dx * dx
                    sxy += dx * (ring[s, R_BETA_Y, i] - my)
                if sxx > 0:
                    beta = sxy / sxx
                    out[s, O_BETA_RESIDUAL] = bucket_return - (my - beta * mx) - beta * x_new
        if g_now > 0:
            state[s, S_SAMPLE_GLOBAL_PX] = g_now
    x = int(params[P_INDEX_SYM])
    if x >= 0:
        s_now = state[x, S_LAST_PX]
        if s_now > 0 and close > 0:
            samples = int(params[P_LEAD_SAMPLES])
            _push(state, ring, s, R_LEAD_F, math.log(close), samples)
            _push(state, ring, s, R_LEAD_S, math.log(s_now), samples)
            if _count(state, s, R_LEAD_F) == samples:
                k = samples - 1
                f_move = _recent(state, ring, s, R_LEAD_F, 0, samples) - _recent(state, ring, s, R_LEAD_F, k, samples)
                s_move = _recent(state, ring, s, R_LEAD_S, 0, samples) - _recent(state, ring, s, R_LEAD_S, k, samples)
                out[s, O_FUTURES_LEAD] = f_move - s_move


@kernel(inline="always")
def _enter_bucket(state, clock, ring, out, params, s, t_ns):
    """Make the bucket holding ``t_ns`` the current one of ``s``, closing (pushing to the rings)
    the previous one. Inside the current bucket's bounds it is a no-op without a 64-bit division."""
    if clock[s, C_BUCKET_START_NS] <= t_ns < clock[s, C_BUCKET_END_NS]:
        return
    bucket_ns = int(params[P_BUCKET_NS])
    bucket_id = t_ns // bucket_ns
    clock[s, C_BUCKET_START_NS] = bucket_id * bucket_ns
    clock[s, C_BUCKET_END_NS] = bucket_id * bucket_ns + bucket_ns
    current = state[s, S_BUCKET_ID]
    if current == bucket_id:
        return
    if current >= 0 and state[s, S_BUCKET_VOL] >= 0 and not math.isnan(state[s, S_BUCKET_CLOSE]):
        vol = state[s, S_BUCKET_VOL]
        close = state[s, S_BUCKET_CLOSE]
        prev_close = state[s, S_PREV_BUCKET_CLOSE]
        _push(state, ring, s, R_BUCKET_VOL, vol, int(params[P_VOLUME_WINDOW]))
        _push(state, ring, s, R_COST_PV, state[s, S_BUCKET_PV], int(params[P_COST_WINDOW]))
        _push(state, ring, s, R_COST_V, vol, int(params[P_COST_WINDOW]))
        bucket_return = np.nan
        if prev_close > 0:
            bucket_return = close / prev_close - 1.0
            _push(state, ring, s, R_BUCKET_ABSRET, abs(bucket_return), int(params[P_RETURN_WINDOW]))
            _push(state, ring, s, R_BUCKET_RET, bucket_return, int(params[P_RUN_LENGTH]))
        state[s, S_PREV_BUCKET_CLOSE] = close
        if s == int(params[P_FUTURES_SYM]):
            _sample_futures(state, ring, out, params, s, bucket_return, close)
    state[s, S_BUCKET_ID] = bucket_id
    state[s, S_BUCKET_OPEN] = np.nan
    state[s, S_BUCKET_HIGH] = np.nan
    state[s, S_BUCKET_LOW] = np.nan
    state[s, S_BUCKET_CLOSE] = np.nan
    state[s, S_BUCKET_VOL] = 0.0
    state[s, S_BUCKET_PV] = 0.0


@kernel(inline="always")
def _add_to_bucket(state, s, open_, high, low, close, volume, pv):
    if math.isnan(state[s, S_BUCKET_OPEN]):
        state[s, S_BUCKET_OPEN] = open_
        state[s, S_BUCKET_HIGH] = high
        state[s, S_BUCKET_LOW] = low
    else:
        state[s, S_BUCKET_HIGH] = max(state[s, S_BUCKET_HIGH], high)
        state[s, S_BUCKET_LOW] = min(state[s, S_BUCKET_LOW], low)
    state[s, S_BUCKET_CLOSE] = close
    state[s, S_BUCKET_VOL] += volume
    state[s, S_BUCKET_PV] += pv
    state[s, S_CUM_PV] += pv
    state[s, S_CUM_V] += volume


# -- outputs -------------------------------------------------------------------------------------


@kernel(inline="always")
def _price_outputs(state, ring, out, params, s):
    """Components that depend on the last price of ``s`` and its buckets."""
    px = state[s, S_LAST_PX]
    if state[s, S_CUM_V] > 0:
        out[s, O_VWAP_DEV] = px / (state[s, S_CUM_PV] / state[s, S_CUM_V]) - 1.0
    if _count(state, s, R_BUCKET_VOL) >= VOLUME_MIN_BUCKETS:
        mean_vol = _mean(state, s, R_BUCKET_VOL)
        if mean_vol > 0:
            out[s, O_VOLUME_SPIKE] = state[s, S_BUCKET_VOL] / mean_vol
    cost_v = state[s, S_SUMS + R_COST_V] + state[s, S_BUCKET_VOL]
    if cost_v > 0:
        out[s, O_COST_LINE_DEV] = px / ((state[s, S_SUMS + R_COST_PV] + state[s, S_BUCKET_PV]) / cost_v) - 1.0
    run_length = int(params[P_RUN_LENGTH])
    prev_close = state[s, S_PREV_BUCKET_CLOSE]
    if _count(state, s, R_BUCKET_RET) == run_length and _count(state, s, R_BUCKET_ABSRET) >= run_length \
            and prev_close > 0:
        scale = _mean(state, s, R_BUCKET_ABSRET)
        current = px / prev_close - 1.0
        signal = 0.0
        if scale > 0 and abs(current) >= params[P_LARGE_MULT] * scale:
            small = params[P_SMALL_MULT] * scale
            run_sum = 0.0
            all_small = True
            for i in range(run_length):
                r = ring[s, R_BUCKET_RET, i]
                run_sum += r
                if abs(r) > small:
                    all_small = False
            if all_small and run_sum != 0.0 and (current > 0) != (run_sum > 0):
                signal = 1.0 if current > 0 else -1.0
        out[s, O_MICRO_REVERSAL] = signal


@kernel(inline="always")
def _basis(state, ring, out, params):
    f = int(params[P_FUTURES_SYM])
    x = int(params[P_INDEX_SYM])
    if f < 0 or x < 0:
        return
    fut = state[f, S_LAST_PX]
    idx = state[x, S_LAST_PX]
    if not (fut > 0 and idx > 0):
        return
    basis = fut - idx
    window = int(params[P_BASIS_WINDOW])
    _push(state, ring, f, R_BASIS, basis, window)
    out[f, O_BASIS] = basis
    if _count(state, f, R_BASIS) == window:
        out[f, O_BASIS_RESIDUAL] = basis - state[f, S_SUMS + R_BASIS] / window


# -- events --------------------------------------------------------------------------------------


@kernel(inline="always")
def _on_trade(state, clock, ring, out, params, s, exch_ns, price, size, side):
    _enter_bucket(state, clock, ring, out, params, s, exch_ns)
    _add_to_bucket(state, s, price, price, price, price, size, price * size)
    bid = state[s, S_BID1]
    ask = state[s, S_ASK1]
    if side == 0 and bid > 0 and ask > 0:
        if price >= ask:
            side = 1
        elif price <= bid:
            side = -1
    if side == 1 and ask > 0 and price >= ask:
        state[s, S_TRADED_AT_ASK] += size
    elif side == -1 and bid > 0 and price <= bid:
        state[s, S_TRADED_AT_BID] += size
    if side != 0:
        window = int(params[P_FLOW_WINDOW])
        _push(state, ring, s, R_FLOW_BUY, size if side == 1 else 0.0, window)
        _push(state, ring, s, R_FLOW_SELL, size if side == -1 else 0.0, window)
        buy = state[s, S_SUMS + R_FLOW_BUY]
        sell = state[s, S_SUMS + R_FLOW_SELL]
        if buy + sell > 0:
            out[s, O_AGGRESSIVE_IMB] = (buy - sell) / (buy + sell)
    state[s, S_LAST_PX] = price
    _price_outputs(state, ring, out, params, s)


@kernel(inline="always")
def _on_bar(state, clock, ring, out, params, s, exch_ns, open_, high, low, close, volume):
    # A bar is stamped at its end; (end - 1 ns) falls in the bucket it covers.
    _enter_bucket(state, clock, ring, out, params, s, exch_ns - 1)
    typical = (high + low + close) / 3.0
    _add_to_bucket(state, s, open_, high, low, close, volume, typical * volume)
    state[s, S_LAST_PX] = close
    _price_outputs(state, ring, out, params, s)


@kernel(inline="always")
def _on_book(state, clock, ring, out, params, s, exch_ns, book, row):
    bid1 = book[row, 0]
    bidq1 = book[row, BOOK_LEVELS]
    ask1 = book[row, 2 * BOOK_LEVELS]
    askq1 = book[row, 3 * BOOK_LEVELS]
    if not (bid1 > 0 and ask1 > bid1):
        return False
    bid_depth = 0.0
    ask_depth = 0.0
    for i in range(BOOK_LEVELS):
        if book[row, i] > 0:
            bid_depth += book[row, BOOK_LEVELS + i]
        if book[row, 2 * BOOK_LEVELS + i] > 0:
            ask_depth += book[row, 3 * BOOK_LEVELS + i]
    if bid_depth + ask_depth > 0:
        out[s, O_BOOK_IMB] = (bid_depth - ask_depth) / (bid_depth + ask_depth)
    spread = (ask1 - bid1) / (0.5 * (ask1 + bid1))
    if _count(state, s, R_SPREAD) > 0:
        out[s, O_SPREAD_CHANGE] = spread / _mean(state, s, R_SPREAD) - 1.0
    _push(state, ring, s, R_SPREAD, spread, int(params[P_SPREAD_WINDOW]))
    last_ns = clock[s, C_BOOK_NS]
    if last_ns > 0 and exch_ns - last_ns <= params[P_CANCEL_WINDOW_NS]:
        cancelled = 0.0
        frac = params[P_CANCEL_DROP_FRAC]
        prev_bidq = state[s, S_BIDQ1]
        prev_askq = state[s, S_ASKQ1]
        if bid1 == state[s, S_BID1] and prev_bidq > 0:
            if prev_bidq - bidq1 - state[s, S_TRADED_AT_BID] > frac * prev_bidq:
                cancelled = 1.0
        if ask1 == state[s, S_ASK1] and prev_askq > 0:
            if prev_askq - askq1 - state[s, S_TRADED_AT_ASK] > frac * prev_askq:
                cancelled = 1.0
        _push(state, ring, s, R_CANCEL, cancelled, int(params[P_CANCEL_OBS_WINDOW]))
        out[s, O_CANCEL_RATE] = _mean(state, s, R_CANCEL)
    state[s, S_BID1] = bid1
    state[s, S_BIDQ1] = bidq1
    state[s, S_ASK1] = ask1
    state[s, S_ASKQ1] = askq1
    clock[s, C_BOOK_NS] = exch_ns
    state[s, S_TRADED_AT_BID] = 0.0
    state[s, S_TRADED_AT_ASK] = 0.0
    return True


@kernel()
def apply_event(state, clock, ring, out, params, kind, s, exch_ns, price, size, side, open_, high, low, book):
    """Apply one event to symbol ``s``; return False when the event is invalid and was ignored."""
    return _apply(state, clock, ring, out, params, kind, s, exch_ns, price, size, side, open_, high, low,
                  book.reshape((1, book.shape[0])), 0)


@kernel(inline="always")
def _apply(state, clock, ring, out, params, kind, s, exch_ns, price, size, side, open_, high, low, book, row):
    """``book[row]`` is the event's book (a row of the batch's book column: no view per event)."""
    if kind == BOOK:
        ok = _on_book(state, clock, ring, out, params, s, exch_ns, book, row)
    else:
        if not (price > 0) or not (size >= 0) or math.isinf(price):
            return False
        if kind == TRADE:
            _on_trade(state, clock, ring, out, params, s, exch_ns, price, size, side)
        elif kind == BAR:
            if not (low > 0 and high >= low):
                return False
            _on_bar(state, clock, ring, out, params, s, exch_ns, open_, high, low, price, size)
        elif kind == INDEX:
            state[s, S_LAST_PX] = price
        else:
            return False
        if s == int(params[P_FUTURES_SYM]) or s == int(params[P_INDEX_SYM]):
            _basis(state, ring, out, params)
        ok = True
    if ok:
        clock[s, C_LAST_EXCH_NS] = exch_ns
        state[s, S_EVENTS] += 1.0
    return ok


@kernel()
def process_batch(state, clock, ring, out, params, kind, symbol, exch_ns, price, size, side, open_, high, low, book):
    """Apply every event of a batch in order; return how many were invalid and ignored."""
    rejected = 0
    for i in range(kind.shape[0]):
        if not _apply(state, clock, ring, out, params, kind[i], symbol[i], exch_ns[i], price[i], size[i],
                      side[i], open_[i], high[i], low[i], book, i):
            rejected += 1
    return rejected


@kernel()
def copy_batch(kind, symbol, exch_ns, price, size, side, open_, high, low, book,
               kind_o, symbol_o, exch_o, price_o, size_o, side_o, open_o, high_o, low_o, book_o):
    """Copy every byte of a batch (the memory-bandwidth floor the processor is measured against)."""
    for i in range(kind.shape[0]):
        kind_o[i] = kind[i]
        symbol_o[i] = symbol[i]
        exch_o[i] = exch_ns[i]
        price_o[i] = price[i]
        size_o[i] = size[i]
        side_o[i] = side[i]
        open_o[i] = open_[i]
        high_o[i] = high[i]
        low_o[i] = low[i]
        for j in range(book.shape[1]):
            book_o[i, j] = book[i, j]
    return kind.shape[0]


@kernel()
def read_batch(kind, symbol, exch_ns, price, size, side, open_, high, low, book):
    """Read every byte of a batch once (the read-bandwidth floor: the kernel reads, never copies, events)."""
    acc = 0.0
    for i in range(kind.shape[0]):
        acc += kind[i] + symbol[i] + exch_ns[i] + price[i] + size[i] + side[i] + open_[i] + high[i] + low[i]
        for j in range(book.shape[1]):
            acc += book[i, j]
    return acc
