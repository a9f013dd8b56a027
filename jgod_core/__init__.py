"""J-GOD kernel: hook specifications, plugin manager, component registry, pipeline models and CLI.

The kernel knows no particular factor: every component comes from a plugin, built-in or not.
"""

from jgod_core.assembly import Pipeline, Step
from jgod_core.components import (
    Backtester,
    Broker,
    Component,
    ComponentKind,
    DataKind,
    DataSource,
    Engine,
    Factor,
    Feed,
    NoParams,
    Params,
    Phase,
    RiskRule,
    Router,
)
from jgod_core.config import SecretRef, resolve_secret
from jgod_core.errors import JGodError, MissingDataError, PipelineError, PluginLoadError
from jgod_core.hookspecs import hookimpl
from jgod_core.panel import FactorResult, Panel
from jgod_core.plugin_manager import Kernel, PluginPolicy, load_kernel
from jgod_core.validate import load_pipeline, load_pipeline_text, validate_file, validate_text

__version__ = "0.1.0"

__all__ = [
    "Backtester", "Broker", "Component", "ComponentKind", "DataKind", "DataSource", "Engine", "Factor", "Feed",
    "FactorResult", "JGodError", "Kernel", "MissingDataError", "NoParams", "Panel", "Params", "Phase",
    "Pipeline", "PipelineError", "PluginLoadError", "PluginPolicy", "RiskRule", "Router", "SecretRef",
    "Step", "hookimpl", "load_kernel", "load_pipeline", "load_pipeline_text", "resolve_secret",
    "validate_file", "validate_text", "run_pipeline", "RunResult",
]


def __getattr__(name: str):
    # The runner pulls in pyarrow, scipy and matplotlib: import it only when a notebook asks for it.
    if name in {"run_pipeline", "RunResult"}:
        from jgod_core import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'jgod_core' has no attribute {name!r}")
