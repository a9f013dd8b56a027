"""Submit throttle: at most ``max_submits`` orders to the broker per ``window_seconds``; the excess is denied."""

from __future__ import annotations

from pydantic import Field

from jgod_core import Params, RiskRule
from jgod_core.execution.orders import Order, Verdict
from jgod_core.risk.engine import CHILD


class SubmitThrottleParams(Params):
    max_submits: int = Field(25, ge=1, le=10_000, description="Orders allowed per window.")
    window_seconds: float = Field(1.0, gt=0, le=3600, description="Length of the sliding window, seconds.")


class SubmitThrottleRule(RiskRule):
    """Denies (never queues) a child order when the window already holds ``max_submits`` submissions."""

    name = "submit_throttle"
    version = "1.0.0"
    Params = SubmitThrottleParams
    stages = (CHILD,)

    def pacing(self) -> tuple[int, float]:
        """The paper and live loops space their releases to this rate instead of tripping the rule."""
        return self.params.max_submits, self.params.window_seconds

    def check(self, order: Order, context) -> Verdict:
        now = context.now.timestamp()
        start = now - self.params.window_seconds
        recent = 0
        for t in reversed(context.submit_times):  # appended in time order: stop at the window start
            if t <= start:
                break
            recent += 1
        if recent >= self.params.max_submits:
            return Verdict.deny(self.name, f"submit_throttle: {recent} orders in the last {self.params.window_seconds:g} s "
                                           f"(max {self.params.max_submits}); order denied, not queued",
                                recent=recent, max_submits=self.params.max_submits,
                                window_seconds=self.params.window_seconds)
        return Verdict.approve(self.name, order)
