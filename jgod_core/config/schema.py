"""JSON Schema (2020-12) of pipeline files, built from the pydantic models and every plugin's params.

Plugin ``params`` become a ``oneOf``/``if-then`` on the ``plugin`` name, so yaml-language-server
autocompletes each installed component's params and flags unknown keys.
"""

from __future__ import annotations

import json
from typing import Any

from jgod_core.plugin.components import ComponentKind
from jgod_core.config.models import PipelineConfig
from jgod_core.plugin.manager import Kernel
from jgod_core.config.validate import PHASE_STEP_KINDS

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
    schema["$schema"] = SCHEMA_DIALECT
    schema["$id"] = SCHEMA_ID
    schema["$defs"] = dict(sorted(defs.items()))
    return schema


def render_schema(kernel: Kernel) -> str:
    """The pipeline JSON Schema as the text ``jgod schema`` writes (2-space indent, final newline)."""
    return json.dumps(build_schema(kernel), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
