"""An assembled pipeline: validated config plus instantiated components, phase by phase."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jgod_core.components import Component, ComponentKind, Params, Phase
from jgod_core.config import PipelineConfig
from jgod_core.diagnostics import Diagnostic

if TYPE_CHECKING:
    from jgod_core.plugin_manager import Kernel
    from jgod_core.registry import ComponentEntry


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
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def phase_steps(self, phase: Phase, kind: ComponentKind | None = None) -> list[Step]:
        return [s for s in self.steps if s.phase == phase and (kind is None or s.kind == kind)]

    def steps_of(self, kind: ComponentKind) -> list[Step]:
        return [s for s in self.steps if s.kind == kind]

    @property
    def factor_steps(self) -> list[Step]:
        """Factor steps of every phase, in file order."""
        return self.steps_of(ComponentKind.FACTOR)

    def slot(self, slot: str) -> Step | None:
        return next((s for s in self.steps if s.slot == slot), None)

    @property
    def data_source(self) -> Step:
        step = self.slot("data.source")
        assert step is not None, "validated pipelines always have a data source"
        return step

    @property
    def backtester(self) -> Step | None:
        return self.slot("backtest")

    @property
    def risk_rules(self) -> list[Step]:
        return self.steps_of(ComponentKind.RISK_RULE)

    @property
    def router(self) -> Step | None:
        return self.slot("execution.router")

    @property
    def broker(self) -> Step | None:
        return self.slot("execution.broker")

    def describe(self) -> list[tuple[str, str, str, str, str]]:
        """Rows ``(slot, name, kind, plugin@version, needs)`` for a dry run."""
        rows = []
        for s in self.steps:
            needs = ",".join(sorted(k.value for k in s.entry.cls.requires)) or "-"
            weight = f" w={s.weight:g}" if s.weight is not None else ""
            rows.append((s.slot, s.name + weight, s.kind.value, f"{s.entry.name}@{s.entry.version}", needs))
        return rows
