"""An assembled pipeline: validated config plus instantiated components, phase by phase."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jgod_core.config.diagnostics import Diagnostic
from jgod_core.config.models import PipelineConfig
from jgod_core.plugin.components import Component, ComponentKind, Params, Phase

if TYPE_CHECKING:
    from jgod_core.plugin.manager import Kernel
    from jgod_core.plugin.registry import ComponentEntry


@dataclass(frozen=True)
class Step:
    """One component placed in the pipeline, with its validated params."""

    name: str
    slot: str  # dotted location in the file, e.g. phases.pre_market.steps[0]
    phase: Phase | None
    entry: ComponentEntry
    params: Params
    weight: float | None = None

    @property
    def kind(self) -> ComponentKind:
        """The component kind of the step (factor, engine, risk rule …)."""
        return self.entry.kind

    def build(self) -> Component:
        """A fresh component instance (components hold no global state)."""
        return self.entry.cls(self.params)


@dataclass
class Pipeline:
    """A validated pipeline, ready to run."""

    path: str
    text: str
    config: PipelineConfig
    kernel: Kernel
    steps: list[Step] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        """SHA-256 of the pipeline file's text: the version stamped on every run and audit record."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def phase_steps(self, phase: Phase, kind: ComponentKind | None = None) -> list[Step]:
        """Steps of ``phase`` (only those of ``kind`` when given), in file order."""
        return [s for s in self.steps if s.phase == phase and (kind is None or s.kind == kind)]

    def steps_of(self, kind: ComponentKind) -> list[Step]:
        """Steps of ``kind`` in every phase, in file order."""
        return [s for s in self.steps if s.kind == kind]

    @property
    def factor_steps(self) -> list[Step]:
        """Factor steps of every phase, in file order."""
        return self.steps_of(ComponentKind.FACTOR)

    def slot(self, slot: str) -> Step | None:
        """The step at dotted location ``slot`` (e.g. ``execution.broker``), or None."""
        return next((s for s in self.steps if s.slot == slot), None)

    @property
    def data_source(self) -> Step:
        """The ``data.source`` step (every validated pipeline has one; ``sample`` by default)."""
        step = self.slot("data.source")
        assert step is not None, "validated pipelines always have a data source"
        return step

    @property
    def combiner(self) -> Step | None:
        """The ``combine`` step (the section's ``plugin:``, else the installed default), or None
        when no combiner is installed."""
        return self.slot("combine")

    @property
    def portfolio(self) -> Step | None:
        """The ``portfolio`` step (the section's ``plugin:``, else the installed default), or None
        when no portfolio constructor is installed."""
        return self.slot("portfolio")

    @property
    def backtester(self) -> Step | None:
        """The ``backtest`` step, or None when the pipeline has none."""
        return self.slot("backtest")

    @property
    def risk_rules(self) -> list[Step]:
        """The pre-trade risk rule steps, in file order (the order the gate applies them)."""
        return self.steps_of(ComponentKind.RISK_RULE)

    @property
    def router(self) -> Step | None:
        """The ``execution.router`` step, or None."""
        return self.slot("execution.router")

    @property
    def broker(self) -> Step | None:
        """The ``execution.broker`` step, or None."""
        return self.slot("execution.broker")

    def describe(self) -> list[tuple[str, str, str, str, str]]:
        """Rows ``(slot, name, kind, plugin@version, needs)`` for a dry run."""
        rows = []
        for s in self.steps:
            needs = ",".join(sorted(k.value for k in s.entry.cls.requires)) or "-"
            weight = f" w={s.weight:g}" if s.weight is not None else ""
            rows.append((s.slot, s.name + weight, s.kind.value, f"{s.entry.name}@{s.entry.version}", needs))
        return rows
