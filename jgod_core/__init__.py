"""J-GOD kernel: hook specifications, plugin manager, component registry, pipeline models and CLI.

The kernel knows no particular factor: every component comes from a plugin, built-in or not.

The public names below are imported on first use (PEP 562), so ``from jgod_core import
hookimpl`` or ``jgod --help`` does not pay for pandas, pydantic models and the validator.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Pipeline": "jgod_core.config.assembly",
    "Step": "jgod_core.config.assembly",
    **{
        name: "jgod_core.plugin.components"
        for name in (
            "Backtester", "Broker", "Combiner", "Component", "ComponentKind", "DataKind", "DataSource", "Engine",
            "ExecutionAssumptions", "Factor", "Feed", "NoParams", "Params", "Phase", "PortfolioConstructor",
            "RiskRule", "Router", "Venue",
        )
    },
    "Combination": "jgod_core.data.panel",
    "ReportSection": "jgod_core.pipeline.outputs",
    **{
        name: "jgod_core.execution.orders"
        for name in ("AccountReport", "Action", "ChildOrder", "Fill", "Order", "OrderStatus", "Side", "TradingState",
                     "Verdict")
    },
    **{name: "jgod_core.risk.engine" for name in ("ApprovedOrder", "CHILD", "PARENT", "RiskContext")},
    "MarketView": "jgod_core.risk.market_view",
    "Book5": "jgod_core.risk.market_view",
    **{name: "jgod_core.venue" for name in ("AssetClass", "Instrument", "VenueError")},
    "SecretRef": "jgod_core.config.models",
    "resolve_secret": "jgod_core.config.models",
    **{name: "jgod_core.errors" for name in ("JGodError", "MissingDataError", "PipelineError", "PluginLoadError",
                                                      "RegistryError")},
    "hookimpl": "jgod_core.plugin.spec",
    "API_VERSION": "jgod_core.plugin.spec",
    "IntradaySignal": "jgod_core.realtime.signal",
    "RunResult": "jgod_core.pipeline.runner",
    "run_pipeline": "jgod_core.pipeline.runner",
    "FactorResult": "jgod_core.data.panel",
    "Panel": "jgod_core.data.panel",
    **{name: "jgod_core.plugin.manager" for name in ("Kernel", "PluginPolicy", "load_kernel")},
    **{
        name: "jgod_core.config.validate"
        for name in ("load_pipeline", "load_pipeline_text", "validate_file", "validate_text")
    },
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        if importlib.util.find_spec(f"jgod_core.{name}") is not None:  # `jgod_core.data.panel` without importing it
            return importlib.import_module(f"jgod_core.{name}")
        raise AttributeError(f"module 'jgod_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # pragma: no cover - static analysers see the eager imports
    from jgod_core.config.assembly import Pipeline, Step
    from jgod_core.config.models import SecretRef, resolve_secret
    from jgod_core.config.validate import load_pipeline, load_pipeline_text, validate_file, validate_text
    from jgod_core.data.panel import Combination, FactorResult, Panel
    from jgod_core.errors import JGodError, MissingDataError, PipelineError, PluginLoadError, RegistryError
    from jgod_core.execution.orders import (
        AccountReport,
        Action,
        ChildOrder,
        Fill,
        Order,
        OrderStatus,
        Side,
        TradingState,
        Verdict,
    )
    from jgod_core.pipeline.outputs import ReportSection
    from jgod_core.pipeline.runner import RunResult, run_pipeline
    from jgod_core.plugin.components import (
        Backtester,
        Broker,
        Combiner,
        Component,
        ComponentKind,
        DataKind,
        DataSource,
        Engine,
        ExecutionAssumptions,
        Factor,
        Feed,
        NoParams,
        Params,
        Phase,
        PortfolioConstructor,
        RiskRule,
        Router,
        Venue,
    )
    from jgod_core.plugin.manager import Kernel, PluginPolicy, load_kernel
    from jgod_core.plugin.spec import API_VERSION, hookimpl
    from jgod_core.realtime.signal import IntradaySignal
    from jgod_core.risk.engine import CHILD, PARENT, ApprovedOrder, RiskContext
    from jgod_core.risk.market_view import Book5, MarketView
    from jgod_core.venue import AssetClass, Instrument, VenueError
