"""The risk and execution section of ``report.html`` (paper and live runs).

Shows what the gate did (denials and reductions per rule, with the latest reasons), the
trading-state timeline, and the execution residual (TCA actual − predicted) per order. The
analysis plugin returns it from ``jgod_report_sections`` for a
:class:`jgod_core.execution.paper.PaperResult`; the markup is ``templates/risk_section.html.j2``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from jgod_core.execution.paper import mean_bps
from jgod_core.pipeline.outputs import ReportSection
from jgod_plugins.analysis.report import templates

ROW_LIMIT = 30


def _cells(frame: pd.DataFrame | None, limit: int = ROW_LIMIT) -> dict[str, Any] | None:
    """Header, formatted rows (floats ``,.6g``, NaN blank) and the count of rows left out."""
    if frame is None or frame.empty:
        return None
    rows = [["" if isinstance(v, float) and np.isnan(v) else f"{v:,.6g}" if isinstance(v, float) else str(v)
             for v in row] for _, row in frame.head(limit).iterrows()]
    return {"header": [str(c) for c in frame.columns], "rows": rows, "more": max(len(frame) - limit, 0)}


def risk_section(result: Any) -> ReportSection:
    """The section for a :class:`jgod_core.execution.paper.PaperResult`."""
    s = result.summary
    v = result.verdicts
    facts = pd.DataFrame([{k: s.get(k) for k in ("first_day", "last_day", "trading_days", "parent_orders", "fills",
                                                   "final_equity", "state_at_start", "fill_basis")}])
    counts = latest = None
    if v is not None and not v.empty:
        counts = v[v["action"] != "approve"].groupby(["rule", "action"]).size().rename("orders").reset_index()
        latest = v[v["action"] != "approve"][["ts", "client_order_id", "stage", "rule", "action", "requested_quantity",
                                              "approved_quantity", "reason"]].tail(ROW_LIMIT)
    r = result.residuals
    stats = residuals = None
    if r is not None and not r.empty:
        stats = pd.DataFrame([{
            "orders": len(r), "filled orders": int((r["filled_quantity"] > 0).sum()),
            "mean actual cost (bps)": mean_bps(r["actual_cost"]),
            "mean predicted cost (bps)": mean_bps(r["predicted_cost"]),
            "mean residual (bps)": mean_bps(r["execution_residual"]),
            "residual std (bps)": float(r["execution_residual"].std(ddof=0) * 1e4),
            "total residual (NT$)": float(r["residual_twd"].sum()),
        }])
        residuals = r.tail(ROW_LIMIT)
    body = templates().get_template("risk_section.html.j2").render(
        facts=_cells(facts), has_verdicts=counts is not None, counts=_cells(counts), latest=_cells(latest),
        states=_cells(result.states), has_residuals=stats is not None, stats=_cells(stats),
        residuals=_cells(residuals))
    return ReportSection("Risk and execution", body, id="risk-execution")


def render_risk_section(result: Any) -> str:
    """HTML of :func:`risk_section` (``<section id='risk-execution'>…</section>``)."""
    return risk_section(result).to_html()
