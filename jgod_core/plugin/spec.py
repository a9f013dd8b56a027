"""Hook specifications of J-GOD: one registration hook per component kind, plus lifecycle hooks.

Hooks are for registration and lifecycle, and for decision chains; never for the per-bar or
per-tick hot path (the pipeline calls components directly on arrays).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:
    from jgod_core.plugin.components import Backtester, Broker, DataSource, Engine, Factor, Feed, RiskRule, Router

PROJECT_NAME = "jgod"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def jgod_register_factors(register: Callable[[type[Factor]], None]) -> None:
    """Register factor components.

    Called once when the plugin manager is built. Call ``register(FactorClass)`` for each
    factor the plugin contributes; the class must subclass :class:`jgod_core.Factor`.
    """


@hookspec
def jgod_register_engines(register: Callable[[type[Engine]], None]) -> None:
    """Register engine components (subclasses of :class:`jgod_core.Engine`).

    Called once when the plugin manager is built.
    """


@hookspec
def jgod_register_risk_rules(register: Callable[[type[RiskRule]], None]) -> None:
    """Register pre-trade risk rules (subclasses of :class:`jgod_core.RiskRule`).

    Called once when the plugin manager is built.
    """


@hookspec
def jgod_register_routers(register: Callable[[type[Router]], None]) -> None:
    """Register execution routers (subclasses of :class:`jgod_core.Router`).

    Called once when the plugin manager is built.
    """


@hookspec
def jgod_register_brokers(register: Callable[[type[Broker]], None]) -> None:
    """Register brokers (subclasses of :class:`jgod_core.Broker`).

    Called once when the plugin manager is built.
    """


@hookspec
def jgod_register_data_sources(register: Callable[[type[DataSource]], None]) -> None:
    """Register data sources (subclasses of :class:`jgod_core.DataSource`).

    Called once when the plugin manager is built.
    """


@hookspec
def jgod_register_backtesters(register: Callable[[type[Backtester]], None]) -> None:
    """Register backtesters (subclasses of :class:`jgod_core.Backtester`).

    Called once when the plugin manager is built.
    """


@hookspec
def jgod_register_feeds(register: Callable[[type[Feed]], None]) -> None:
    """Register realtime feeds (subclasses of :class:`jgod_core.Feed`).

    Called once when the plugin manager is built.
    """


@hookspec
def jgod_pipeline_assembled(pipeline: Any) -> None:
    """Called after a pipeline file is validated and assembled, before it runs.

    ``pipeline`` is the :class:`jgod_core.pipeline.assembly.Pipeline`. Use it for logging or checks;
    raise :class:`jgod_core.errors.JGodError` to refuse the pipeline.
    """


@hookspec(firstresult=True)
def jgod_pretrade_check(order: Any, context: Any) -> Any | None:
    """Judge one order before it may reach an execution component.

    Called by the risk engine for each order, after the pipeline's own risk rules.
    Return a denial verdict to stop the order, or ``None`` to let it pass.
    Stops at first non-None result.
    """
