"""The risk and execution section of ``report.html`` (paper and live runs).

Shows what the gate did (denials and reductions per rule, with the latest reasons), the
trading-state timeline, and the execution residual (TCA actual − predicted) per order.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd


def mean_bps(costs: pd.Series | None) -> float | None:
    """Mean of the finite cost fractions, in basis points; None when there is none (JSON-safe)."""
    if costs is None:
        return None
    finite = costs[np.isfinite(costs.to_numpy(dtype=float))]
    return float(finite.mean() * 1e4) if len(finite) else None


def _table(frame: pd.DataFrame, limit: int = 30) -> str:
    if frame is None or frame.empty:
        return "<p><em>none</em></p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for _, row in frame.head(limit).iterrows():
        cells = []
        for value in row:
            if isinstance(value, float):
                text = "" if np.isnan(value) else f"{value:,.6g}"
            else:
                text = str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p>… {len(frame) - limit} more rows in the CSV</p>" if len(frame) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def render_risk_section(result: Any) -> str:
    """HTML of the section for a :class:`jgod_core.execution.paper.PaperResult`."""
    s = result.summary
    v = result.verdicts
    parts = ["<section id='risk-execution'><h2>Risk and execution</h2>"]
    facts = pd.DataFrame([{k: s.get(k) for k in ("first_day", "last_day", "trading_days", "parent_orders", "fills",
                                                   "final_equity", "state_at_start", "fill_basis")}])
    parts.append(_table(facts))
    if v is not None and not v.empty:
        counts = (v[v["action"] != "approve"].groupby(["rule", "action"]).size().rename("orders").reset_index())
        parts.append("<h3>Rules that reduced or denied orders</h3>" + _table(counts))
        latest = v[v["action"] != "approve"][["ts", "client_order_id", "stage", "rule", "action", "requested_quantity",
                                              "approved_quantity", "reason"]].tail(30)
        parts.append("<h3>Latest reductions and denials (rule and numbers)</h3>" + _table(latest))
    parts.append("<h3>Trading-state timeline</h3>" + _table(result.states))
    r = result.residuals
    if r is not None and not r.empty:
        stats = pd.DataFrame([{
            "orders": len(r), "filled orders": int((r["filled_quantity"] > 0).sum()),
            "mean actual cost (bps)": mean_bps(r["actual_cost"]),
            "mean predicted cost (bps)": mean_bps(r["predicted_cost"]),
            "mean residual (bps)": mean_bps(r["execution_residual"]),
            "residual std (bps)": float(r["execution_residual"].std(ddof=0) * 1e4),
            "total residual (NT$)": float(r["residual_twd"].sum()),
        }])
        parts.append("<h3>Execution residual (TCA actual − predicted)</h3>"
                     "<p>Costs are fractions of the arrival price (the day's open), side-signed; the prediction is the "
                     "decision-time daily-bar model, the fills are daily-bar estimates (labelled "
                     "<code>daily_bar_estimate</code>) because the sample has no recorded TWSE books.</p>"
                     + _table(stats) + _table(r.tail(30)))
    parts.append("</section>")
    return "".join(parts)
