"""Validating a pipeline file: every problem, located, with hints; then assembly.

``validate_file(path)`` returns ``(pipeline or None, diagnostics)`` and never raises for a
user mistake; ``load_pipeline(path)`` raises :class:`PipelineError` carrying them all.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
import types
import typing
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from jgod_core.assembly import Pipeline, Step
from jgod_core.components import ComponentKind, Phase
from jgod_core.config import DataConfig, PipelineConfig
from jgod_core.diagnostics import Diagnostic, sort_key
from jgod_core.errors import PipelineError
from jgod_core.plugin_manager import Kernel, PluginPolicy, load_kernel
from jgod_core.yaml_source import Loc, SourceDoc, dotted, load_yaml_file, load_yaml_text

PHASE_STEP_KINDS = (ComponentKind.FACTOR, ComponentKind.ENGINE, ComponentKind.DATA_SOURCE)


# -- pydantic error → diagnostic ----------------------------------------------------------------


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes and containers an annotation may hold."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [x for arg in typing.get_args(annotation) for x in _unwrap(arg)]
    return [annotation]


def _model_fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            if typing.get_origin(current) is list:
                current = typing.get_args(current)[0]
                current = next((c for c in _unwrap(current) if c is not type(None)), current)
                continue
            return []
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = next((c for c in _unwrap(field.annotation) if c is not type(None)), None)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def pydantic_diagnostics(
    doc: SourceDoc, exc: ValidationError, model: type[BaseModel], prefix: Loc = ()
) -> list[Diagnostic]:
    """Map every pydantic error to a located diagnostic (``prefix`` roots plugin params)."""
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
        full = prefix + loc
        kind = err["type"]
        hint = ""
        if kind == "extra_forbidden":
            key = loc[-1] if loc else ""
            message = f"unknown key {key!r}"
            choices = _model_fields_at(model, loc[:-1])
            close = difflib.get_close_matches(str(key), choices, n=1, cutoff=0.6)
            if close:
                hint = f"did you mean {close[0]!r}?"
            elif choices:
                hint = "allowed keys: " + ", ".join(choices)
            mark = doc.mark(full, key=True)
        elif kind == "missing":
            message = f"missing required key {loc[-1]!r}" if loc else "missing value"
            mark = doc.mark(full[:-1])
        else:
            message = err["msg"]
            raw = doc.raw.get(full)
            if kind == "unquoted" and raw is not None:
                hint = f"quote it: '{raw.text}' (unquoted, YAML reads it as a number)"
            elif kind in {"finite_number"}:
                message = "must be a finite number (NaN and infinity are not allowed)"
            mark = doc.mark(full)
        out.append(Diagnostic(doc.path, mark.line, mark.column, "error", kind, dotted(full), message, hint))
    return out


# -- second pass: plugins, phases, names ----------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """A place in the file that names a component (read from the raw data, so it is checked
    even when another part of the file fails the structural validation)."""

    loc: Loc
    name: str
    plugin: str
    params: Any
    kinds: tuple[ComponentKind, ...]
    phase: Phase | None = None
    named: bool = False
    weight: Any = None

    @property
    def plugin_loc(self) -> Loc:
        return self.loc + (("source",) if self.loc == ("data",) else ("plugin",))


def _ref_slot(loc: Loc, raw: Any, kinds: tuple[ComponentKind, ...], name: str | None = None) -> _Slot | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("plugin"), str):
        return None
    return _Slot(loc, name or raw["plugin"], raw["plugin"], raw.get("params", {}), kinds)


def _slots(data: dict) -> Iterable[_Slot]:
    """Every place a component is named, in file order."""
    data_section = data.get("data", {})
    if isinstance(data_section, dict):
        source = data_section.get("source", "sample")
        if isinstance(source, str):
            yield _Slot(("data",), "data_source", source, data_section.get("params", {}),
                        (ComponentKind.DATA_SOURCE,))
    phases = data.get("phases", {})
    for phase in Phase:
        phase_section = phases.get(phase.value) if isinstance(phases, dict) else None
        steps = phase_section.get("steps", []) if isinstance(phase_section, dict) else []
        for i, step in enumerate(steps if isinstance(steps, list) else []):
            if not isinstance(step, dict) or not isinstance(step.get("plugin"), str) or step.get("enabled") is False:
                continue
            name = step.get("name") if isinstance(step.get("name"), str) else step["plugin"]
            yield _Slot(("phases", phase.value, "steps", i), name, step["plugin"], step.get("params", {}),
                        PHASE_STEP_KINDS, phase, "name" in step, step.get("weight"))
    if (slot := _ref_slot(("backtest",), data.get("backtest"), (ComponentKind.BACKTESTER,), "backtest")):
        yield slot
    risk = data.get("risk", {})
    rules = risk.get("rules", []) if isinstance(risk, dict) else []
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if (slot := _ref_slot(("risk", "rules", i), rule, (ComponentKind.RISK_RULE,))):
            yield slot
    execution = data.get("execution", {})
    for attr, kind in (("router", ComponentKind.ROUTER), ("broker", ComponentKind.BROKER)):
        raw = execution.get(attr) if isinstance(execution, dict) else None
        if (slot := _ref_slot(("execution", attr), raw, (kind,), attr)):
            yield slot


def _diag(doc: SourceDoc, loc: Loc, code: str, message: str, hint: str = "", severity: str = "error",
          key: bool = False) -> Diagnostic:
    mark = doc.mark(loc, key=key)
    return Diagnostic(doc.path, mark.line, mark.column, severity, code, dotted(loc), message, hint)


def _lookback_days(data: dict) -> int:
    section = data.get("data")
    value = section.get("lookback_days") if isinstance(section, dict) else None
    default = DataConfig.model_fields["lookback_days"].default
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _check_components(doc: SourceDoc, kernel: Kernel) -> tuple[list[Step], list[Diagnostic]]:
    """Resolve every named component, validate its params and its place in the pipeline."""
    registry = kernel.registry
    diags: list[Diagnostic] = []
    steps: list[Step] = []
    seen_names: dict[str, Loc] = {}
    lookback_days = _lookback_days(doc.data)
    for slot in _slots(doc.data):
        loc, name, plugin, params, kinds, phase = slot.loc, slot.name, slot.plugin, slot.params, slot.kinds, slot.phase
        plugin_loc = slot.plugin_loc
        params_loc = loc + ("params",)
        if not isinstance(params, dict):
            continue  # the structural pass reports it
        if phase is not None:
            if name in seen_names:
                diags.append(_diag(doc, loc + (("name",) if slot.named else ("plugin",)), "duplicate-step",
                                   f"step name {name!r} is used twice (first at {dotted(seen_names[name])})",
                                   "give each step a unique `name:`"))
                continue
            seen_names[name] = loc
        entries = [e for k in kinds if (e := registry.get(k, plugin)) is not None]
        if not entries:
            other = [e.kind.value for e in registry.find(plugin)]
            if other:
                diags.append(_diag(doc, plugin_loc, "wrong-kind",
                                   f"{plugin!r} is a {other[0]}, but this place takes a "
                                   f"{' or '.join(k.value for k in kinds)}"))
                continue
            close = [s for k in kinds if (s := registry.suggest(plugin, k))]
            hint = f"did you mean {close[0]!r}?" if close else "run `jgod plugins` to list installed components"
            diags.append(_diag(doc, plugin_loc, "unknown-plugin",
                               f"unknown {' or '.join(k.value for k in kinds)} {plugin!r}", hint))
            continue
        entry = entries[0]
        try:
            validated = entry.params_model.model_validate(params)
        except ValidationError as exc:
            diags.extend(pydantic_diagnostics(doc, exc, entry.params_model, params_loc))
            continue
        if phase is not None:
            cls = entry.cls
            if phase not in cls.phases:
                diags.append(_diag(doc, plugin_loc, "phase-mismatch",
                                   f"{entry.kind.value} {plugin!r} cannot run in {phase.value}; "
                                   f"it runs in {', '.join(sorted(p.value for p in cls.phases))}"))
                continue
            if phase != Phase.INTRADAY:
                live = sorted(k.value for k in cls.requires if k.is_live_intraday)
                if live:
                    diags.append(_diag(doc, plugin_loc, "phase-data",
                                       f"{plugin!r} needs {', '.join(live)}, which exist only during the "
                                       f"intraday phase; move it to phases.intraday"))
                    continue
            weight = slot.weight if isinstance(slot.weight, (int, float)) and not isinstance(slot.weight, bool) else None
            if slot.weight is not None and entry.kind != ComponentKind.FACTOR:
                diags.append(_diag(doc, loc + ("weight",), "weight-not-factor",
                                   f"only factor steps take a weight; {plugin!r} is a {entry.kind.value}"))
                continue
            if entry.kind == ComponentKind.FACTOR and weight is None:
                weight = 1.0
            warmup = cls.warmup_days(validated)
            if warmup > lookback_days:
                diags.append(_diag(doc, plugin_loc, "warmup", severity="warning",
                                   message=f"{plugin!r} needs {warmup} trading days of history but "
                                   f"data.lookback_days is {lookback_days}; its first "
                                   f"{warmup - lookback_days} days will have no value",
                                   hint=f"set data.lookback_days: {warmup}"))
            steps.append(Step(name, dotted(loc), phase, entry, validated, weight))
        else:
            slot = "data.source" if loc == ("data",) else dotted(loc)
            steps.append(Step(name, slot, None, entry, validated, None))

    return steps, diags


def _check_config(doc: SourceDoc, config: PipelineConfig, steps: list[Step]) -> list[Diagnostic]:
    """Cross-field checks that need the validated config."""
    diags: list[Diagnostic] = []
    factor_names = {s.name for s in steps if s.kind == ComponentKind.FACTOR}
    for i, inter in enumerate(config.combine.interactions):
        for side in inter.factors:
            if side not in factor_names:
                close = difflib.get_close_matches(side, sorted(factor_names), n=1)
                diags.append(_diag(doc, ("combine", "interactions", i, "term"), "unknown-factor",
                                   f"interaction term names {side!r}, which is not a factor step",
                                   f"did you mean {close[0]!r}?" if close else
                                   f"factor steps: {', '.join(sorted(factor_names)) or 'none'}"))
    if config.data.start and config.data.end and config.data.start > config.data.end:
        diags.append(_diag(doc, ("data", "end"), "date-range", "data.end is before data.start"))
    if config.phases.intraday.end <= config.phases.intraday.schedule:
        diags.append(_diag(doc, ("phases", "intraday", "end"), "time-range",
                           "phases.intraday.end must be after its schedule (start)"))
    return diags


# -- entry points -------------------------------------------------------------------------------


def _policy_for(data: dict) -> PluginPolicy:
    """The environment's plugin policy merged with the file's ``plugins:`` lists."""
    section = data.get("plugins")
    lists = {"allow": [], "block": []}
    if isinstance(section, dict):
        for key in lists:
            value = section.get(key)
            if isinstance(value, list):
                lists[key] = [v for v in value if isinstance(v, str)]
    return PluginPolicy.from_env().merged(lists["allow"], lists["block"])


def validate_doc(doc: SourceDoc, kernel: Kernel | None = None) -> tuple[Pipeline | None, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    if not isinstance(doc.data, dict):
        shown = type(doc.data).__name__ if doc.data is not None else "nothing"
        diags.append(_diag(doc, (), "top-level", f"a pipeline file must be a mapping at the top level, "
                                                 f"got a {'list' if isinstance(doc.data, list) else shown}"))
        return None, diags
    config: PipelineConfig | None = None
    try:
        config = PipelineConfig.model_validate(doc.data)
    except ValidationError as exc:
        diags.extend(pydantic_diagnostics(doc, exc, PipelineConfig))
    if kernel is None:
        kernel = load_kernel(_policy_for(doc.data))
    steps, component_diags = _check_components(doc, kernel)
    seen = {(d.line, d.column, d.code) for d in diags}
    diags.extend(d for d in component_diags if (d.line, d.column, d.code) not in seen)
    if config is not None:
        diags.extend(_check_config(doc, config, steps))
    diags.sort(key=sort_key)
    if any(d.is_error for d in diags):
        return None, diags
    pipeline = Pipeline(doc.path, doc.text, config, kernel, steps, [d for d in diags if not d.is_error])
    kernel.hook.jgod_pipeline_assembled(pipeline=pipeline)
    return pipeline, diags


def validate_file(path: str | Path, kernel: Kernel | None = None) -> tuple[Pipeline | None, list[Diagnostic]]:
    """Validate one pipeline file. Never raises for a mistake in the file."""
    doc, diags = load_yaml_file(path)
    if doc is None or any(d.is_error for d in diags):
        return None, sorted(diags, key=sort_key)
    return validate_doc(doc, kernel)


def validate_text(text: str, path: str = "<string>", kernel: Kernel | None = None) -> tuple[Pipeline | None, list[Diagnostic]]:
    doc, diags = load_yaml_text(text, path)
    if doc is None or any(d.is_error for d in diags):
        return None, sorted(diags, key=sort_key)
    return validate_doc(doc, kernel)


def load_pipeline(path: str | Path, kernel: Kernel | None = None) -> Pipeline:
    """Load and assemble a pipeline file; raise :class:`PipelineError` with every problem."""
    pipeline, diags = validate_file(path, kernel)
    if pipeline is None:
        raise PipelineError([d for d in diags if d.is_error])
    return pipeline


def load_pipeline_text(text: str, path: str = "<string>", kernel: Kernel | None = None) -> Pipeline:
    pipeline, diags = validate_text(text, path, kernel)
    if pipeline is None:
        raise PipelineError([d for d in diags if d.is_error])
    return pipeline
