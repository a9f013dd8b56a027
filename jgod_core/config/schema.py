"""JSON Schema (2020-12) of pipeline files, built from the pydantic models and every plugin's params.

Plugin ``params`` become a ``oneOf``/``if-then`` on the ``plugin`` name, so yaml-language-server
autocompletes each installed component's params and flags unknown keys.
"""

from __future__ import annotations

import json
from typing import Any

from jgod_core.config.models import PipelineConfig
from jgod_core.config.validate import PHASE_STEP_KINDS, default_entries
from jgod_core.plugin.components import ComponentKind
from jgod_core.plugin.manager import Kernel

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://jgod.dev/schemas/pipeline.schema.json"


def _params_branches(kernel: Kernel, kinds: tuple[ComponentKind, ...], defs: dict[str, Any]) -> list[dict]:
    branches = []
    for entry in kernel.registry:
        if entry.kind not in kinds:
            continue
        schema = entry.params_model.model_json_schema(ref_template="#/$defs/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            defs.setdefault(name, sub)
        key = f"{entry.kind.value}.{entry.name}.params"
        schema["title"] = f"{entry.name} params"
        defs[key] = schema
        branches.append(
            {
                "if": {"properties": {"plugin": {"const": entry.name}}, "required": ["plugin"]},
                "then": {"properties": {"params": {"$ref": f"#/$defs/{key}"}}},
            }
        )
    return branches


def _plugin_enum(kernel: Kernel, kinds: tuple[ComponentKind, ...]) -> list[str]:
    return sorted({e.name for e in kernel.registry if e.kind in kinds})


def _section_schema(kernel: Kernel, base: dict, kind: ComponentKind, defs: dict[str, Any]) -> dict:
    """A ``combine:`` / ``portfolio:`` section: ``plugin`` (an installed name, or absent for the
    default of the kind) and, beside it, exactly that component's params."""
    section = json.loads(json.dumps(base))
    names = _plugin_enum(kernel, (kind,))
    if names:
        section["properties"]["plugin"] = {**section["properties"]["plugin"], "enum": names}
    section.pop("additionalProperties", None)
    defaults = {e.name for e in default_entries(kernel.registry, kind)}
    branches = []
    for branch in _params_branches(kernel, (kind,), defs):
        name = branch["if"]["properties"]["plugin"]["const"]
        key = branch["then"]["properties"]["params"]["$ref"].removeprefix("#/$defs/")
        params = defs[key]
        inline = {"plugin": True, **{p: {"$ref": f"#/$defs/{key}/properties/{p}"} for p in params.get("properties", {})}}
        then = {"properties": inline, "additionalProperties": False}
        if params.get("required"):
            then["required"] = params["required"]
        branches.append({"if": branch["if"], "then": then})
        if name in defaults and len(defaults) == 1:
            branches.append({"if": {"not": {"required": ["plugin"]}}, "then": then})
    section["allOf"] = branches
    return section


def build_schema(kernel: Kernel) -> dict[str, Any]:
    """The pipeline JSON Schema for the plugins loaded in ``kernel``. Deterministic output."""
    schema = PipelineConfig.model_json_schema(ref_template="#/$defs/{model}", mode="validation")
    defs: dict[str, Any] = schema.setdefault("$defs", {})

    def constrain(def_name: str, kinds: tuple[ComponentKind, ...], name_field: str = "plugin") -> dict:
        base = defs[def_name]
        names = _plugin_enum(kernel, kinds)
        constrained = json.loads(json.dumps(base))
        if names:
            constrained["properties"][name_field] = {
                **constrained["properties"][name_field],
                "enum": names,
            }
        constrained["allOf"] = _params_branches(kernel, kinds, defs)
        return constrained

    slot_kinds = {
        "StepConfig": PHASE_STEP_KINDS,
        "RiskRuleRef": (ComponentKind.RISK_RULE,),
        "RouterRef": (ComponentKind.ROUTER,),
        "BrokerRef": (ComponentKind.BROKER,),
        "BacktestRef": (ComponentKind.BACKTESTER,),
    }
    ref = defs["ComponentRef"]
    for name in ("RiskRuleRef", "RouterRef", "BrokerRef", "BacktestRef"):
        defs[name] = json.loads(json.dumps(ref))
    for name, kinds in slot_kinds.items():
        defs[name] = constrain(name, kinds)

    def retarget(node: dict, new: str) -> None:
        text = json.dumps(node).replace('"#/$defs/ComponentRef"', f'"#/$defs/{new}"')
        node.clear()
        node.update(json.loads(text))

    retarget(defs["RiskConfig"]["properties"]["rules"], "RiskRuleRef")
    retarget(defs["ExecutionConfig"]["properties"]["router"], "RouterRef")
    retarget(defs["ExecutionConfig"]["properties"]["broker"], "BrokerRef")
    retarget(schema["properties"]["backtest"], "BacktestRef")
    del defs["ComponentRef"]

    for def_name, kind in (("CombineSection", ComponentKind.COMBINER), ("PortfolioSection", ComponentKind.PORTFOLIO)):
        defs[def_name] = _section_schema(kernel, defs[def_name], kind, defs)

    data = defs["DataConfig"]
    sources = _plugin_enum(kernel, (ComponentKind.DATA_SOURCE,))
    if sources:
        data["properties"]["source"]["enum"] = sources
    data["allOf"] = [
        {
            "if": {"properties": {"source": {"const": b["if"]["properties"]["plugin"]["const"]}}},
            "then": b["then"],
        }
        for b in _params_branches(kernel, (ComponentKind.DATA_SOURCE,), defs)
    ]
    covered = {k for kinds in slot_kinds.values() for k in kinds} | {
        ComponentKind.DATA_SOURCE, ComponentKind.COMBINER, ComponentKind.PORTFOLIO}
    # components named without params (e.g. a venue) still document theirs
    _params_branches(kernel, tuple(k for k in ComponentKind if k not in covered), defs)
    schema["$schema"] = SCHEMA_DIALECT
    schema["$id"] = SCHEMA_ID
    schema["$defs"] = dict(sorted(defs.items()))
    return schema


def render_schema(kernel: Kernel) -> str:
    """The pipeline JSON Schema as the text ``jgod schema`` writes (2-space indent, final newline)."""
    return json.dumps(build_schema(kernel), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
