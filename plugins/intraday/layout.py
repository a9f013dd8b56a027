"""Memory layout of the intraday processor: column indices of its preallocated arrays.

The processor keeps, for ``n`` symbols, three symbol-major float64 arrays that the numba
kernels update in place:

- ``state[n, N_STATE]``: running scalars per symbol (session VWAP sums, current bucket, last
  book, rolling-window sums, ring heads and counts);
- ``ring[n, N_RINGS, capacity]``: one ring buffer per rolling window, per symbol;
- ``clock[n, N_CLOCK]`` (int64): exchange times of the last event, the last book and the
  current bucket's bounds;
- ``out[n, N_OUT]``: the latest value of every F_Stat and F_Exec component per symbol
  (NaN = not computable yet, e.g. during warm-up or without the input it needs).

``params`` is a float64 vector (indices ``P_*``) so a kernel call carries four arrays only.
"""

from __future__ import annotations

# -- event kinds and book width: the kernel's event format, re-exported for the kernels -----------
from jgod_core.data.events import BAR, BOOK, BOOK_LEVELS, BOOK_WIDTH, INDEX, KIND_NAMES, TRADE  # noqa: F401

# -- output components ----------------------------------------------------------------------------
F_STAT_COMPONENTS = (
    "vwap_deviation",
    "volume_spike",
    "aggressive_imbalance",
    "book_imbalance",
    "spread_change",
    "micro_reversal",
    "cancel_rate",
    "cost_line_deviation",
)
F_EXEC_COMPONENTS = ("basis", "basis_residual", "beta_residual", "futures_lead")
COMPONENTS = F_STAT_COMPONENTS + F_EXEC_COMPONENTS
(
    O_VWAP_DEV,
    O_VOLUME_SPIKE,
    O_AGGRESSIVE_IMB,
    O_BOOK_IMB,
    O_SPREAD_CHANGE,
    O_MICRO_REVERSAL,
    O_CANCEL_RATE,
    O_COST_LINE_DEV,
    O_BASIS,
    O_BASIS_RESIDUAL,
    O_BETA_RESIDUAL,
    O_FUTURES_LEAD,
) = range(len(COMPONENTS))
N_OUT = len(COMPONENTS)

# -- rings ----------------------------------------------------------------------------------------
(
    R_BUCKET_VOL,  # volume of completed buckets (volume spike)
    R_BUCKET_ABSRET,  # |return| of completed buckets (micro reversal scale)
    R_BUCKET_RET,  # signed return of completed buckets (micro reversal run)
    R_COST_PV,  # typical price × volume of completed buckets (cost line)
    R_COST_V,  # volume of completed buckets (cost line)
    R_FLOW_BUY,  # aggressor-buy size per trade
    R_FLOW_SELL,  # aggressor-sell size per trade
    R_SPREAD,  # relative spread per book update
    R_CANCEL,  # 1.0 when an eligible book update shows an inferred cancel, else 0.0
    R_BASIS,  # futures − index per update
    R_BETA_X,  # global (e.g. S&P futures) return per futures sample
    R_BETA_Y,  # futures return per futures sample
    R_LEAD_F,  # log futures price per futures sample
    R_LEAD_S,  # log index price per futures sample
) = range(14)
N_RINGS = 14

# -- state columns --------------------------------------------------------------------------------
(
    S_CUM_PV,
    S_CUM_V,
    S_LAST_PX,
    S_BUCKET_ID,
    S_BUCKET_OPEN,
    S_BUCKET_HIGH,
    S_BUCKET_LOW,
    S_BUCKET_CLOSE,
    S_BUCKET_VOL,
    S_BUCKET_PV,
    S_PREV_BUCKET_CLOSE,
    S_BID1,
    S_BIDQ1,
    S_ASK1,
    S_ASKQ1,
    S_TRADED_AT_BID,
    S_TRADED_AT_ASK,
    S_SAMPLE_GLOBAL_PX,
    S_EVENTS,
) = range(19)
S_SUMS = 19  # one running sum per ring: S_SUMS + ring id
S_HEADS = S_SUMS + N_RINGS  # next write position per ring
S_COUNTS = S_HEADS + N_RINGS  # filled length per ring
N_STATE = S_COUNTS + N_RINGS

# -- clock columns (int64 nanoseconds: float64 cannot hold epoch ns exactly) ------------------------
C_LAST_EXCH_NS = 0  # exchange time of the last valid event
C_BOOK_NS = 1  # exchange time of the last valid book
C_BUCKET_START_NS = 2  # [start, end) of the current bucket: an event inside it needs no division
C_BUCKET_END_NS = 3
N_CLOCK = 4

# -- params vector --------------------------------------------------------------------------------
(
    P_BUCKET_NS,
    P_VOLUME_WINDOW,
    P_RETURN_WINDOW,
    P_RUN_LENGTH,
    P_SMALL_MULT,
    P_LARGE_MULT,
    P_COST_WINDOW,
    P_FLOW_WINDOW,
    P_SPREAD_WINDOW,
    P_CANCEL_WINDOW_NS,
    P_CANCEL_DROP_FRAC,
    P_CANCEL_OBS_WINDOW,
    P_BASIS_WINDOW,
    P_BETA_WINDOW,
    P_BETA_MIN,
    P_LEAD_SAMPLES,
    P_FUTURES_SYM,
    P_INDEX_SYM,
    P_GLOBAL_SYM,
) = range(19)
N_PARAMS = 19

RING_WINDOW_PARAM = {
    R_BUCKET_VOL: P_VOLUME_WINDOW,
    R_BUCKET_ABSRET: P_RETURN_WINDOW,
    R_BUCKET_RET: P_RUN_LENGTH,
    R_COST_PV: P_COST_WINDOW,
    R_COST_V: P_COST_WINDOW,
    R_FLOW_BUY: P_FLOW_WINDOW,
    R_FLOW_SELL: P_FLOW_WINDOW,
    R_SPREAD: P_SPREAD_WINDOW,
    R_CANCEL: P_CANCEL_OBS_WINDOW,
    R_BASIS: P_BASIS_WINDOW,
    R_BETA_X: P_BETA_WINDOW,
    R_BETA_Y: P_BETA_WINDOW,
    R_LEAD_F: P_LEAD_SAMPLES,
    R_LEAD_S: P_LEAD_SAMPLES,
}
