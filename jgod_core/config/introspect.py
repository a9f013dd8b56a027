"""What is installed: plugins, their components and each component's params, as plain data.

``jgod plugins`` renders these rows as tables or JSON; the docs tests read them too, so what a
user sees is generated from the same params models the validator uses.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from typing import Any

from pydantic.fields import FieldInfo

from jgod_core.config.models import SecretRef
from jgod_core.plugin.components import Component
from jgod_core.plugin.manager import Kernel
from jgod_core.plugin.registry import ComponentEntry

_BOUND_ATTRS = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length")


def plugin_rows(kernel: Kernel) -> list[dict[str, Any]]:
    """One row per loaded plugin: name, distribution, version, hooks it implements."""
    return [
        {
            "plugin": p.name,
            "distribution": p.distribution,
            "distribution_version": p.distribution_version,
            "hooks": list(p.hooks),
        }
        for p in kernel.plugins
    ]


def component_rows(kernel: Kernel) -> list[dict[str, Any]]:
    """One row per registered component, sorted by kind then name."""
    hooks = {p.name: list(p.hooks) for p in kernel.plugins}
    return [
        {
            "kind": e.kind.value,
            "name": e.name,
            "version": e.version,
            "plugin": e.plugin,
            "distribution": e.distribution,
            "distribution_version": e.distribution_version,
            "hooks": hooks.get(e.plugin, []),
            "summary": e.cls.summary(),
        }
        for e in kernel.registry
    ]


def type_text(annotation: Any) -> str:
    """A params field's type as a user reads it: ``int``, ``str | None``, ``'zscore' | 'rank'``."""
    if annotation == SecretRef:
        return "secret ${ENV_VAR}"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_text(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_text(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin is not None and args:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(type_text(a) for a in args)}]"
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type):
        return annotation.__name__
    return re.sub(r"\b(typing|typing_extensions|datetime|pathlib)\.", "", str(annotation))


def field_bounds(field: FieldInfo) -> dict[str, Any]:
    """The numeric/length constraints of a params field, e.g. ``{"ge": 2, "le": 252}``."""
    bounds: dict[str, Any] = {}
    for meta in field.metadata:
        for attr in _BOUND_ATTRS:
            value = getattr(meta, attr, None)
            if value is not None:
                bounds[attr] = value
    return bounds


def _default(field: FieldInfo) -> Any:
    return field.get_default(call_default_factory=True)


def _warmup(cls: type[Component]) -> int | None:
    try:
        return cls.warmup_days(cls.Params())
    except Exception:  # noqa: BLE001 - a params model with required fields has no default warm-up
        return None


def component_detail(entry: ComponentEntry) -> dict[str, Any]:
    """Everything a user needs to configure one component."""
    cls = entry.cls
    params = []
    for name, field in entry.params_model.model_fields.items():
        required = field.is_required()
        params.append(
            {
                "name": name,
                "type": type_text(field.annotation),
                "required": required,
                "default": None if required else _default(field),
                "bounds": field_bounds(field),
                "description": field.description or "",
            }
        )
    return {
        "kind": entry.kind.value,
        "name": entry.name,
        "version": entry.version,
        "plugin": entry.plugin,
        "distribution": entry.distribution,
        "distribution_version": entry.distribution_version,
        "doc": inspect.cleandoc(cls.__doc__ or ""),
        "requires": sorted(k.value for k in cls.requires),
        "phases": sorted(p.value for p in cls.phases),
        "warmup_days": _warmup(cls),
        "params": params,
    }
