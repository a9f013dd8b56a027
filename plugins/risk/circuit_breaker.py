"""Circuit breaker: a 5-minute Sharpe below −0.5, or a 5-minute mean model residual above 3σ → HALTED.

Reads the context's intraday streams (time-indexed): ``return_stream`` (portfolio return per
update) and ``residual_stream`` (model residual per update). Over the trailing
``window_minutes``: Sharpe = mean / std (ddof 1) of the returns, not annualised; the residual
test compares the window's mean residual with ``residual_sigmas`` × σ, σ being the context's
``residual_sigma`` or else the std of the residuals before the window. Needs
``min_observations`` in the window. When the run has no intraday stream (daily paper runs) the
breaker says so in its verdict and approves.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from pydantic import Field

from jgod_core import Params, RiskRule
from jgod_core.execution.orders import Action, Order, TradingState, Verdict


class CircuitBreakerParams(Params):
    window_minutes: float = Field(5.0, gt=0, le=240, description="Trailing window, minutes.")
    min_sharpe: float = Field(-0.5, ge=-10, le=0, description="Halt when the window's Sharpe is below this.")
    residual_sigmas: float = Field(3.0, gt=0, le=20, description="Halt when the mean residual exceeds this many σ.")
    min_observations: int = Field(5, ge=2, le=10_000, description="Updates needed in the window to judge.")


class CircuitBreakerRule(RiskRule):
    """Halts trading (cancel all, flatten per pipeline, wait for a person) when the intraday P&L or model breaks."""

    name = "circuit_breaker"
    version = "1.0.0"
    Params = CircuitBreakerParams

    def evaluate(self, context) -> Verdict | None:
        """A HALTED-requesting verdict when the breaker trips, a note when it cannot judge, else None."""
        p = self.params
        start = context.now - dt.timedelta(minutes=p.window_minutes)
        streams = (context.return_stream, context.residual_stream)
        if all(s is None or len(s) == 0 for s in streams):
            return Verdict(self.name, Action.APPROVE,
                           "circuit_breaker: inactive — this run has no intraday return or residual stream", 0, {})
        returns = context.return_stream
        if returns is not None and len(returns):
            window = returns[(returns.index > start) & (returns.index <= context.now)].to_numpy(float)
            if window.size >= p.min_observations:
                std = float(np.std(window, ddof=1))
                sharpe = float(np.mean(window)) / std if std > 0 else (0.0 if np.mean(window) == 0 else
                                                                       np.sign(np.mean(window)) * np.inf)
                if sharpe < p.min_sharpe:
                    return Verdict.deny(self.name, f"circuit_breaker: {p.window_minutes:g}-minute Sharpe {sharpe:.3f} < "
                                                   f"{p.min_sharpe:g} over {window.size} updates; HALTED",
                                        state_request=TradingState.HALTED, sharpe=sharpe, observations=window.size)
        residuals = context.residual_stream
        if residuals is not None and len(residuals):
            in_window = (residuals.index > start) & (residuals.index <= context.now)
            window = residuals[in_window].to_numpy(float)
            sigma = context.residual_sigma
            if sigma is None:
                before = residuals[residuals.index <= start].to_numpy(float)
                sigma = float(np.std(before, ddof=1)) if before.size >= 30 else None
            if window.size >= p.min_observations and sigma:
                mean = float(np.mean(window))
                if mean > p.residual_sigmas * sigma:
                    return Verdict.deny(self.name, f"circuit_breaker: {p.window_minutes:g}-minute mean residual "
                                                   f"{mean:.5f} > {p.residual_sigmas:g}σ ({p.residual_sigmas * sigma:.5f}); "
                                                   "HALTED", state_request=TradingState.HALTED, mean_residual=mean,
                                        sigma=sigma)
        return None

    def check(self, order: Order, context) -> Verdict:
        verdict = self.evaluate(context)
        if verdict is None:
            return Verdict.approve(self.name, order)
        if verdict.denied:
            return verdict
        return Verdict(self.name, verdict.action, verdict.reason, order.quantity, {})

