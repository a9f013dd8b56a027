"""Independent pandas implementations of every factor component (wide: dates × symbols).

Written from the factor docstrings with pandas ``rolling`` / ``groupby`` only (no J-GOD
numerics), used by the tests (equality to 1e-9 on the real sample) and by
``benchmarks/bench_factors.py`` (the pandas-wide baseline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from jgod_core.data.panel import Panel


def mp(window: int, fraction: float) -> int:
    return max(1, math.ceil(fraction * window - 1e-12))


@dataclass
class Frames:
    """Wide frames of a panel, with invalid (halted / no price) days blanked."""

    open: pd.DataFrame
    high: pd.DataFrame
    low: pd.DataFrame
    close: pd.DataFrame
    volume: pd.DataFrame
    series: dict[str, pd.Series]
    industry: pd.Series

    @classmethod
    def of(cls, panel: Panel) -> "Frames":
        index = pd.DatetimeIndex(panel.dates.astype("datetime64[ns]"))
        cols = list(panel.symbols)

        def frame(arr):
            return pd.DataFrame(arr.T, index=index, columns=cols)

        close_raw = frame(panel.fields["close"])
        valid = close_raw.notna()
        if "halted" in panel.fields:
            valid &= frame(panel.fields["halted"]) != 1.0
        factor = frame(panel.fields["adj_factor"]) if "adj_factor" in panel.fields else 1.0
        prices = {f: (frame(panel.fields[f]) * factor).where(valid) for f in ("open", "high", "low", "close")}
        return cls(
            **prices,
            volume=frame(panel.fields["volume"]).where(valid),
            series={k: pd.Series(v, index=index) for k, v in panel.series.items()},
            industry=pd.Series(panel.attributes.get("industry", [None] * len(cols)), index=cols, dtype=object),
        )


def warm(x, n):
    x = x.copy()
    x.iloc[:n] = np.nan
    return x


def cs_z(df: pd.DataFrame, sigma: float = 3.0) -> pd.DataFrame:
    z = df.sub(df.mean(axis=1), axis=0).div(df.std(axis=1), axis=0).replace([np.inf, -np.inf], np.nan)
    return z.clip(-sigma, sigma) if sigma > 0 else z


def roll_z(x, window, minp):
    r = x.rolling(window, min_periods=minp)
    return ((x - r.mean()) / r.std()).replace([np.inf, -np.inf], np.nan)


def returns(x, periods=1):
    return x.pct_change(periods, fill_method=None)


def mean_valid(parts):
    stack = np.stack([p.to_numpy() for p in parts])
    count = (~np.isnan(stack)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(count > 0, np.nansum(stack, axis=0) / np.maximum(count, 1), np.nan)
    return pd.DataFrame(out, index=parts[0].index, columns=parts[0].columns)


def beta_to(r: pd.DataFrame, m: pd.Series, window: int, minp: int) -> pd.DataFrame:
    cov = r.rolling(window, min_periods=minp).cov(m)
    var = pd.DataFrame({c: m.where(r[c].notna()) for c in r.columns}).rolling(window, min_periods=minp).var()
    return (cov / var).replace([np.inf, -np.inf], np.nan)


def exposure(beta_z, signal, p, sign=1.0):
    z = roll_z(signal, p.signal_z_window, mp(p.signal_z_window, p.min_valid_fraction)).clip(-p.winsor_sigma,
                                                                                            p.winsor_sigma)
    return sign * beta_z.mul(z, axis=0)


def typical_vwap(f: Frames, window, minp):
    tp = (f.high + f.low + f.close) / 3
    return (tp * f.volume).rolling(window, min_periods=minp).sum() / f.volume.where(tp.notna()).rolling(
        window, min_periods=minp).sum()


# -- factors --------------------------------------------------------------------------------------


def f_c(f: Frames, p) -> dict:
    fr = p.min_valid_fraction
    lac = warm(typical_vwap(f, p.lac_window, mp(p.lac_window, fr)), p.lac_window - 1)
    dev = f.close - lac
    z = warm(roll_z(dev, p.zscore_window, mp(p.zscore_window, fr)), p.lac_window + p.zscore_window - 2)
    taiex = f.series["taiex_close"]
    ma = taiex.rolling(p.regime_ma_window, min_periods=mp(p.regime_ma_window, fr)).mean()
    regime = pd.Series(np.select([taiex > ma * (1 + p.regime_band), taiex < ma * (1 - p.regime_band)], [1.0, -1.0], 0.0),
                       index=taiex.index).where(ma.notna() & taiex.notna())
    regime = warm(regime, p.regime_ma_window - 1)
    beta = beta_to(returns(f.close), returns(taiex), p.beta_window, mp(p.beta_window, fr))
    reg_exp = warm(cs_z(beta, p.winsor_sigma).mul(regime, axis=0), max(p.beta_window, p.regime_ma_window - 1))
    score = warm(mean_valid([-cs_z(z, p.winsor_sigma), reg_exp]), max(p.lac_window + p.zscore_window - 2,
                                                                       p.regime_ma_window - 1, p.beta_window))
    return {"lac": lac, "lac_deviation": dev, "lac_deviation_z": z, "regime": regime, "regime_exposure": reg_exp,
            "score": score}


def f_s(f: Frames, p) -> dict:
    fr = p.min_valid_fraction
    r = returns(f.close)
    ind = f.industry
    by_group = r.T.groupby(ind.to_numpy()).mean().T
    strength = warm(pd.DataFrame({s: by_group[ind[s]] if isinstance(ind[s], str) else np.nan for s in r.columns},
                                 index=r.index), 1)
    v = f.volume.where(f.volume > 0)
    share = v.div(v.sum(axis=1), axis=0)
    n = v.count(axis=1)
    entropy = (-(share * np.log(share)).sum(axis=1) / np.log(n)).where(n >= 2)
    vix = f.series["vix_close"]
    vix_z = warm(roll_z(vix, p.vix_zscore_window, mp(p.vix_zscore_window, fr)), p.vix_zscore_window - 1)
    slope = warm(vix.diff().rolling(p.vix_slope_window, min_periods=mp(p.vix_slope_window, fr)).mean(),
                 p.vix_slope_window)
    beta = beta_to(r, returns(f.series["taiex_close"]), p.beta_window, mp(p.beta_window, fr))
    vix_exp = warm(exposure(cs_z(beta, p.winsor_sigma), vix, p, -1.0), max(p.beta_window, p.signal_z_window - 1))
    score = warm(mean_valid([cs_z(strength, p.winsor_sigma), vix_exp]),
                 max(p.vix_zscore_window - 1, p.beta_window, p.signal_z_window - 1))
    return {"sector_strength": strength, "volume_entropy": entropy, "vix_zscore": vix_z, "vix_slope": slope,
            "vix_exposure": vix_exp, "score": score}


def f_d(f: Frames, p, theme_of: dict[str, str]) -> dict:
    fr = p.min_valid_fraction
    k, base = p.heat_return_days, p.heat_volume_window
    recent = f.volume.rolling(k, min_periods=mp(k, fr)).mean()
    baseline = f.volume.rolling(base, min_periods=mp(base, fr)).mean()
    surge = np.log(recent / baseline).where((recent > 0) & (baseline > 0))
    rz, sz = cs_z(returns(f.close, k), p.winsor_sigma), cs_z(surge, p.winsor_sigma)
    heat = ((rz + sz) / 2)
    themes = pd.Series(theme_of).reindex(heat.columns)
    warmup = max(k, base - 1)
    by_theme = warm(heat.T.groupby(themes.to_numpy()).mean().T, warmup)
    out = {f"theme_heat_{t}": by_theme[t] for t in by_theme.columns}
    stock = pd.DataFrame({s: by_theme[themes[s]] if isinstance(themes[s], str) else np.nan for s in heat.columns},
                         index=heat.index)
    out["theme_heat"] = stock
    out["score"] = warm(cs_z(stock, p.winsor_sigma), warmup)
    return out


def micro_reversal(f: Frames, p) -> pd.DataFrame:
    body = f.close / f.open - 1
    size = body.abs().shift(1).rolling(p.bar_size_window, min_periods=mp(p.bar_size_window, p.min_valid_fraction)).mean()
    first_sign = np.sign(body.shift(1))
    run_ok = pd.DataFrame(True, index=body.index, columns=body.columns)
    run_known = pd.DataFrame(True, index=body.index, columns=body.columns)
    for lag in range(1, p.run_length + 1):
        prev = body.shift(lag)
        run_known &= prev.notna()
        run_ok &= (prev != 0) & (prev.abs() <= p.small_ratio * size) & (np.sign(prev) == first_sign)
    pattern = run_ok & (body.abs() >= p.large_ratio * size) & (np.sign(body) == -first_sign) & (body != 0)
    value = (body / size).where(pattern, 0.0)
    return value.where(run_known & body.notna() & (size > 0))


def f_stat(f: Frames, p) -> dict:
    fr = p.min_valid_fraction
    base = f.volume.shift(1).rolling(p.spike_window, min_periods=mp(p.spike_window, fr)).mean()
    spike = warm((f.volume / base).where(base > 0), p.spike_window)
    signed = warm((np.sign(returns(f.close)) * np.log(spike)).replace([np.inf, -np.inf], np.nan), p.spike_window)
    vwap_dev = warm(f.close / typical_vwap(f, p.vwap_window, mp(p.vwap_window, fr)) - 1, p.vwap_window - 1)
    reversal = warm(micro_reversal(f, p), p.bar_size_window)
    s = p.winsor_sigma
    score = warm(mean_valid([cs_z(signed, s), -cs_z(vwap_dev, s), cs_z(reversal, s)]),
                 max(p.spike_window, p.vwap_window - 1, p.bar_size_window))
    return {"volume_spike": spike, "signed_volume_spike": signed, "vwap_deviation": vwap_dev,
            "micro_reversal": reversal, "score": score}


def f_exec(f: Frames, p, us_name: str = "es_close") -> dict:
    fr = p.min_valid_fraction
    taiex, tx = f.series["taiex_close"], f.series["tx_close"]
    basis = tx - taiex
    resid = warm(basis - basis.rolling(p.basis_window, min_periods=mp(p.basis_window, fr)).mean(), p.basis_window - 1)
    lead = warm(returns(tx) - returns(taiex), 1)
    y, x = returns(tx), returns(f.series[us_name])
    both = y.notna() & x.notna()
    y, x = y.where(both), x.where(both)
    gw, gmp = p.global_beta_window, mp(p.global_beta_window, fr)
    g_beta = y.rolling(gw, min_periods=gmp).cov(x) / x.rolling(gw, min_periods=gmp).var()
    g_resid = warm(y - (y.rolling(gw, min_periods=gmp).mean() + g_beta * (x - x.rolling(gw, min_periods=gmp).mean())), gw)
    etf_r = returns(f.close[p.flow_etf])
    flow_z = warm(roll_z(f.volume[p.flow_etf], p.flow_window, mp(p.flow_window, fr)), p.flow_window - 1)
    flow_signed = warm(flow_z * np.sign(etf_r), p.flow_window)
    beta = warm(beta_to(returns(f.close), returns(taiex), p.beta_window, mp(p.beta_window, fr)), p.beta_window)
    bz = cs_z(beta, p.winsor_sigma)
    out = {"basis": basis, "basis_residual": resid, "futures_lead": lead, "global_beta_residual": g_resid,
           "etf_flow_volume_z": flow_z, "etf_flow_signed": flow_signed, "market_beta": beta}
    exposures = []
    for name, sig, w in [("basis_residual", resid, p.basis_window - 1), ("futures_lead", lead, 1),
                         ("global_beta_residual", g_resid, gw), ("etf_flow_signed", flow_signed, p.flow_window)]:
        e = warm(exposure(bz, sig, p), max(p.beta_window, w + p.signal_z_window - 1))
        out[f"{name}_exposure"] = e
        exposures.append(e)
    out["score"] = warm(mean_valid(exposures), max(p.beta_window, p.basis_window + p.signal_z_window - 2,
                                                   gw + p.signal_z_window - 1, p.flow_window + p.signal_z_window - 1))
    return out
