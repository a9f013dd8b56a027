"""Validating a pipeline file: every problem, located, with hints; then assembly.

``validate_file(path)`` returns ``(pipeline or None, diagnostics)`` and never raises for a
user mistake; ``load_pipeline(path)`` raises :class:`PipelineError` carrying them all.
"""

from __future__ import annotations

import datetime as dt
import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Union

from pydantic import BaseModel, ValidationError

from jgod_core.config.assembly import Pipeline, Step
from jgod_core.config.diagnostics import Diagnostic, sort_key
from jgod_core.config.models import _CLOCK_RE, _NAME_RE, DataConfig, IntradayPhaseConfig, PipelineConfig
from jgod_core.config.yaml_source import Loc, SourceDoc, dotted, load_yaml_file, load_yaml_text
from jgod_core.errors import PipelineError
from jgod_core.plugin.components import ComponentKind, Phase
from jgod_core.plugin.manager import Kernel, PluginPolicy, load_kernel

PHASE_STEP_KINDS = (ComponentKind.FACTOR, ComponentKind.ENGINE, ComponentKind.DATA_SOURCE, ComponentKind.FEED)
_NULL_TAG = "tag:yaml.org,2002:null"
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})
#: Sections that name one component by ``plugin:`` with its params inline, and the kind they take.
SECTION_KINDS = {"combine": ComponentKind.COMBINER, "portfolio": ComponentKind.PORTFOLIO}


def _a(kind: ComponentKind) -> str:
    """``a factor`` / ``an engine``."""
    text = kind.value
    return ("an " if text[0] in "aeiou" else "a ") + text


def _kinds_text(kinds: Iterable[ComponentKind]) -> str:
    names = [k.value for k in kinds]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


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
            if raw is not None and raw.tag == _NULL_TAG and err.get("input", 0) is None:
                message = "no value given (the key is empty or null)"
            elif kind in {"unquoted", "string_type"} and raw is not None and not raw.quoted and raw.tag in _NUMBER_TAGS:
                hint = f"quote it: '{raw.text}' (unquoted, YAML reads it as a number)"
            elif kind.startswith(("date_", "datetime_")):
                hint = "write a calendar date as YYYY-MM-DD, e.g. 2024-01-02"
            elif kind == "finite_number":
                message = "must be a finite number (NaN and infinity are not allowed)"
            elif kind == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") == _NAME_RE.pattern:
                message = f"must be a lower_snake_case name (a-z, 0-9, _; at most 64 characters), got {err['input']!r}"
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
    enabled: bool = True  # a disabled step is still checked (a typo must not hide), never assembled

    inline_params: bool = False  # a component section: the params are the section's other keys
    defaulted: bool = False  # the section names no plugin: the kind's default was taken

    @property
    def plugin_loc(self) -> Loc:
        if self.defaulted:
            return self.loc
        return self.loc + (("source",) if self.loc == ("data",) else ("plugin",))

    @property
    def params_loc(self) -> Loc:
        return self.loc if self.inline_params else self.loc + ("params",)


def _ref_slot(loc: Loc, raw: Any, kinds: tuple[ComponentKind, ...], name: str | None = None) -> _Slot | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("plugin"), str):
        return None
    return _Slot(loc, name or raw["plugin"], raw["plugin"], raw.get("params", {}), kinds)


def default_entries(registry: Any, kind: ComponentKind) -> list[Any]:
    """The registered components of ``kind`` that declare ``default = True`` (one, normally)."""
    return [e for e in registry if e.kind == kind and getattr(e.cls, "default", False) is True]


def _section_slot(section: str, data: dict, registry: Any) -> _Slot | None:
    """The component a ``combine:`` / ``portfolio:`` section names (its kind's default when it
    names none); None when the section is malformed (the structural pass reports it), or absent
    while no single default is installed (a pipeline without factors needs none; the run says so)."""
    kind = SECTION_KINDS[section]
    if section not in data and len(default_entries(registry, kind)) != 1:
        return None
    raw = data.get(section, {})
    if not isinstance(raw, dict):
        return None
    params = {k: v for k, v in raw.items() if k != "plugin"}
    if raw.get("plugin") is not None:
        plugin = raw["plugin"]
        return _Slot((section,), section, plugin, params, (kind,), inline_params=True) if isinstance(plugin, str) else None
    defaults = default_entries(registry, kind)
    name = defaults[0].name if len(defaults) == 1 else ""
    return _Slot((section,), section, name, params, (kind,), inline_params=True, defaulted=True)


def _slots(data: dict, registry: Any) -> Iterable[_Slot]:
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
            if not isinstance(step, dict) or not isinstance(step.get("plugin"), str):
                continue
            name = step.get("name") if isinstance(step.get("name"), str) else step["plugin"]
            yield _Slot(("phases", phase.value, "steps", i), name, step["plugin"], step.get("params", {}),
                        PHASE_STEP_KINDS, phase, "name" in step, step.get("weight"), step.get("enabled") is not False)
    for section in SECTION_KINDS:
        if (slot := _section_slot(section, data, registry)):
            yield slot
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


def _check_components(doc: SourceDoc, kernel: Kernel) -> tuple[list[Step], list[Diagnostic], set[str]]:
    """Resolve every named component, validate its params and its place in the pipeline.

    Returns the assembled steps, the diagnostics, and the names of every factor step (also
    those whose params are invalid, so an interaction term naming one is not reported twice).
    """
    registry = kernel.registry
    diags: list[Diagnostic] = []
    steps: list[Step] = []
    factor_names: set[str] = set()
    seen_names: dict[str, Loc] = {}
    lookback_days = _lookback_days(doc.data)
    for slot in _slots(doc.data, registry):
        loc, name, plugin, params, kinds, phase = slot.loc, slot.name, slot.plugin, slot.params, slot.kinds, slot.phase
        plugin_loc = slot.plugin_loc
        params_loc = slot.params_loc
        if not isinstance(params, dict):
            continue  # the structural pass reports it
        if phase is not None and slot.enabled:
            if name in seen_names:
                diags.append(_diag(doc, loc + (("name",) if slot.named else ("plugin",)), "duplicate-step",
                                   f"step name {name!r} is used twice (first at {dotted(seen_names[name])})",
                                   "give each step a unique `name:`"))
                continue
            seen_names[name] = loc
        entries = [e for k in kinds if (e := registry.get(k, plugin)) is not None]
        if not entries:
            diags.append(_no_default(doc, slot, registry) if slot.defaulted else _unresolved(doc, slot, registry))
            continue
        entry = entries[0]
        if phase is not None and entry.kind == ComponentKind.FACTOR and slot.enabled:
            factor_names.add(name)
        try:
            validated = entry.params_model.model_validate(params)
        except ValidationError as exc:
            diags.extend(pydantic_diagnostics(doc, exc, entry.params_model, params_loc))
            continue
        if phase is not None:
            cls = entry.cls
            misplaced = _misplaced(doc, slot, entry)
            if misplaced is not None:
                diags.append(misplaced)
                continue
            weight = slot.weight if isinstance(slot.weight, (int, float)) and not isinstance(slot.weight, bool) else None
            if entry.kind == ComponentKind.FACTOR and weight is None:
                weight = 1.0
            if not slot.enabled:
                continue
            warmup = cls.warmup_days(validated)
            if warmup > lookback_days:
                diags.append(_diag(doc, plugin_loc, "warmup", severity="warning",
                                   message=f"{plugin!r} needs {warmup} trading days of history but "
                                   f"data.lookback_days is {lookback_days}; its first "
                                   f"{warmup - lookback_days} days will have no value",
                                   hint=f"set data.lookback_days: {warmup}"))
            steps.append(Step(name, dotted(loc), phase, entry, validated, weight))
        else:
            steps.append(Step(name, "data.source" if loc == ("data",) else dotted(loc), None, entry, validated, None))
            diags.extend(_factor_references(doc, slot, entry, validated, factor_names))

    diags.extend(_check_venue(doc, registry))
    return steps, diags, factor_names


def _check_venue(doc: SourceDoc, registry: Any) -> list[Diagnostic]:
    """A named ``venue:`` must be an installed venue component (a typo is caught by ``jgod validate``,
    not at the first order). An absent one is resolved when the pipeline runs."""
    name = doc.data.get("venue")
    if not isinstance(name, str) or registry.get(ComponentKind.VENUE, name) is not None:
        return []
    installed = registry.names(ComponentKind.VENUE)
    close = registry.suggest(name, ComponentKind.VENUE)
    return [_diag(doc, ("venue",), "unknown-venue", f"no venue {name!r} is installed "
                  f"(installed: {', '.join(installed) or 'none'})",
                  f"did you mean {close!r}?" if close else "install the venue plugin or fix the name")]


def _factor_references(doc: SourceDoc, slot: _Slot, entry: Any, params: Any, factor_names: set[str]) -> list[Diagnostic]:
    """Factor steps a component's params name (e.g. a combiner's interaction terms) that the
    pipeline does not have. Component sections come after the phases, so every step is known."""
    references = getattr(entry.cls, "factor_references", None)
    out = []
    for where, step, what in (references(params) if callable(references) else ()):
        if step in factor_names:
            continue
        close = difflib.get_close_matches(step, sorted(factor_names), n=1)
        out.append(_diag(doc, slot.params_loc + tuple(where), "unknown-factor",
                         f"{what} names {step!r}, which is not a factor step",
                         f"did you mean {close[0]!r}?" if close else
                         f"factor steps: {', '.join(sorted(factor_names)) or 'none'}"))
    return out


def _no_default(doc: SourceDoc, slot: _Slot, registry: Any) -> Diagnostic:
    """A component section without ``plugin:`` when no single installed component of its kind is the default."""
    kind = slot.kinds[0]
    defaults = [e.name for e in default_entries(registry, kind)]
    names = registry.names(kind)
    if defaults:
        message = f"{slot.loc[0]}: several installed {kind.value}s declare themselves the default ({', '.join(defaults)})"
    else:
        message = f"{slot.loc[0]}: no installed {kind.value} is the default"
    hint = (f"name one with `plugin:` ({', '.join(names)})" if names
            else f"install a plugin that registers {_a(kind)}")
    return _diag(doc, slot.loc, "no-default", message, hint, key=True)


def _unresolved(doc: SourceDoc, slot: _Slot, registry: Any) -> Diagnostic:
    """Why ``slot.plugin`` names no component of the kinds its place takes: another kind, a near
    miss, an import path, or simply unknown."""
    plugin, kinds = slot.plugin, slot.kinds
    other = [e.kind for e in registry.find(plugin)]
    if other:
        return _diag(doc, slot.plugin_loc, "wrong-kind",
                     f"{plugin!r} is {_a(other[0])}, but this place takes "
                     + (_a(kinds[0]) if len(kinds) == 1 else "a " + _kinds_text(kinds)))
    close = [s for k in kinds if (s := registry.suggest(plugin, k))]
    if close:
        hint = f"did you mean {close[0]!r}?"
    elif any(c in plugin for c in ".:/"):
        hint = "components are named by their registered short name (see `jgod plugins`), never by import path"
    else:
        hint = "run `jgod plugins` to list installed components"
    return _diag(doc, slot.plugin_loc, "unknown-plugin", f"unknown {_kinds_text(kinds)} {plugin!r}", hint)


def _misplaced(doc: SourceDoc, slot: _Slot, entry: Any) -> Diagnostic | None:
    """A step whose component cannot run in its phase, needs live intraday data outside the
    intraday phase, or carries a weight without being a factor; None when it fits."""
    cls, plugin, phase = entry.cls, slot.plugin, slot.phase
    if phase not in cls.phases:
        return _diag(doc, slot.plugin_loc, "phase-mismatch",
                     f"{entry.kind.value} {plugin!r} cannot run in {phase.value}; "
                     f"it runs in {', '.join(sorted(p.value for p in cls.phases))}")
    if phase != Phase.INTRADAY:
        live = sorted(k.value for k in cls.requires if k.is_live_intraday)
        if live:
            return _diag(doc, slot.plugin_loc, "phase-data",
                         f"{plugin!r} needs {', '.join(live)}, which exist only during the "
                         f"intraday phase; move it to phases.intraday")
    if slot.weight is not None and entry.kind != ComponentKind.FACTOR:
        return _diag(doc, slot.loc + ("weight",), "weight-not-factor",
                     f"only factor steps take a weight; {plugin!r} is {_a(entry.kind)}")
    return None


def _clock_text(value: Any) -> str | None:
    return value if isinstance(value, str) and _CLOCK_RE.match(value) else None


def _date_value(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None  # the structural pass reports it


def _section(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _check_cross_fields(doc: SourceDoc) -> list[Diagnostic]:
    """Checks spanning several fields, read from the raw data so they run even when another
    part of the file fails the structural validation."""
    diags: list[Diagnostic] = []
    start, end = (_date_value(_section(doc.data, "data", k)) for k in ("start", "end"))
    if start and end and start > end:
        diags.append(_diag(doc, ("data", "end"), "date-range", "data.end is before data.start"))
    intraday = _section(doc.data, "phases", "intraday")
    defaults = IntradayPhaseConfig.model_fields
    opens = _clock_text(intraday.get("schedule", defaults["schedule"].default) if isinstance(intraday, dict) else None)
    closes = _clock_text(intraday.get("end", defaults["end"].default) if isinstance(intraday, dict) else None)
    if opens and closes and closes <= opens:
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


KernelSource = Union[Kernel, Callable[[PluginPolicy], Kernel], None]
"""A loaded kernel, or a function building one for a file's plugin policy (the CLI passes a
cached ``load_kernel`` so several files with the same policy share one), or ``None``."""

# Loader errors after which the data at their location is a placeholder (None) or incomplete:
# structural errors at or under that location would only repeat them.
_MASKING_CODES = frozenset({"unsafe-tag", "yaml-merge", "yaml-scalar"})


def _kernel_for(source: KernelSource, data: dict) -> Kernel:
    if isinstance(source, Kernel):
        return source
    policy = _policy_for(data)
    return source(policy) if source is not None else load_kernel(policy)


def _masked(diag: Diagnostic, masks: list[str]) -> bool:
    return any(diag.loc == m or diag.loc.startswith((m + ".", m + "[")) for m in masks)


def validate_doc(
    doc: SourceDoc, kernel: KernelSource = None, loader_diags: Iterable[Diagnostic] = ()
) -> tuple[Pipeline | None, list[Diagnostic]]:
    """Validate loaded data: structure, components, params, phases and cross-field rules.

    ``loader_diags`` are the YAML loader's own findings on this document (duplicate keys,
    unsafe tags...); they are reported together with everything found here.
    """
    diags: list[Diagnostic] = list(loader_diags)
    if not isinstance(doc.data, dict):
        shown = type(doc.data).__name__ if doc.data is not None else "nothing"
        diags.append(_diag(doc, (), "top-level", f"a pipeline file must be a mapping at the top level, "
                                                 f"got a {'list' if isinstance(doc.data, list) else shown}"))
        return None, sorted(diags, key=sort_key)
    masks = [d.loc for d in diags if d.code in _MASKING_CODES and d.loc]
    found: list[Diagnostic] = []
    config: PipelineConfig | None = None
    try:
        config = PipelineConfig.model_validate(doc.data)
    except ValidationError as exc:
        found.extend(pydantic_diagnostics(doc, exc, PipelineConfig))
    loaded = _kernel_for(kernel, doc.data)
    steps, component_diags, _ = _check_components(doc, loaded)
    # At a place both passes flag (an unknown plugin name that is also malformed), the
    # component pass says more: keep its diagnostic only.
    taken = {(d.line, d.column) for d in component_diags}
    found = [d for d in found if (d.line, d.column) not in taken] + component_diags
    found.extend(_check_cross_fields(doc))
    diags.extend(d for d in found if not _masked(d, masks))
    diags.sort(key=sort_key)
    if config is None or any(d.is_error for d in diags):
        return None, diags
    pipeline = Pipeline(doc.path, doc.text, config, loaded, steps, [d for d in diags if not d.is_error])
    loaded.hook.jgod_pipeline_assembled(pipeline=pipeline)
    return pipeline, diags


def validate_file(path: str | Path, kernel: KernelSource = None) -> tuple[Pipeline | None, list[Diagnostic]]:
    """Validate one pipeline file. Never raises for a mistake in the file."""
    doc, diags = load_yaml_file(path)
    if doc is None:
        return None, sorted(diags, key=sort_key)
    return validate_doc(doc, kernel, diags)


def validate_text(
    text: str, path: str = "<string>", kernel: KernelSource = None
) -> tuple[Pipeline | None, list[Diagnostic]]:
    """Validate pipeline text (``path`` is only used in the diagnostics)."""
    doc, diags = load_yaml_text(text, path)
    if doc is None:
        return None, sorted(diags, key=sort_key)
    return validate_doc(doc, kernel, diags)


def load_pipeline(path: str | Path, kernel: Kernel | None = None) -> Pipeline:
    """Load and assemble a pipeline file; raise :class:`PipelineError` with every problem."""
    pipeline, diags = validate_file(path, kernel)
    if pipeline is None:
        raise PipelineError([d for d in diags if d.is_error])
    return pipeline


def load_pipeline_text(text: str, path: str = "<string>", kernel: Kernel | None = None) -> Pipeline:
    """The assembled pipeline of YAML ``text`` (``path`` names it in messages); a :class:`PipelineError`
    carrying every error when it does not validate."""
    pipeline, diags = validate_text(text, path, kernel)
    if pipeline is None:
        raise PipelineError([d for d in diags if d.is_error])
    return pipeline
