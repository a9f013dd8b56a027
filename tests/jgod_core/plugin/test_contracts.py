"""Every component kind is a contract a third party can meet through ``from jgod_core import ...`` only.

A conforming class of each kind registers through the one hook; a class that leaves a required
method out is a load error located at the class (file:line) that names the plugin's distribution;
a plugin written for another API major is refused by name.
"""

from __future__ import annotations

import inspect
import re
import types

import pytest

import jgod_core
from jgod_core import (
    API_VERSION,
    Backtester,
    Broker,
    ComponentKind,
    DataSource,
    Engine,
    ExecutionAssumptions,
    Factor,
    Feed,
    PluginLoadError,
    PluginPolicy,
    RiskRule,
    Router,
    hookimpl,
    load_kernel,
)
from jgod_core.plugin.components import BASE_CLASS_BY_KIND

ONLY_LOCAL = PluginPolicy(block=frozenset({"jgod"}), autoload=False)


class ThirdFactor(Factor):
    """Third-party factor."""

    name = "third_factor"

    def compute(self, panel):
        return None


class ThirdEngine(Engine):
    """Third-party engine."""

    name = "third_engine"


class ThirdRule(RiskRule):
    """Third-party risk rule."""

    name = "third_rule"

    def check(self, order, context):
        return None


class ThirdRouter(Router):
    """Third-party router."""

    name = "third_router"

    def schedule(self, approved, market=None):
        return []


class ThirdBroker(Broker):
    """Third-party broker."""

    name = "third_broker"

    def submit(self, approved):
        return []

    def cancel_all(self, reason=""):
        return []


class ThirdSource(DataSource):
    """Third-party data source."""

    name = "third_source"

    def load(self, store, progress=True):
        return {}


class ThirdBacktester(Backtester):
    """Third-party backtester."""

    name = "third_backtester"

    def run(self, panel, target_weights, first_day=0):
        return None

    def execution_assumptions(self):
        return ExecutionAssumptions()


class ThirdFeed(Feed):
    """Third-party feed."""

    name = "third_feed"

    def symbols(self):
        return []

    def transport(self, clock, day=None, source=""):
        return None


CONFORMING = {
    ComponentKind.FACTOR: ThirdFactor, ComponentKind.ENGINE: ThirdEngine, ComponentKind.RISK_RULE: ThirdRule,
    ComponentKind.ROUTER: ThirdRouter, ComponentKind.BROKER: ThirdBroker, ComponentKind.DATA_SOURCE: ThirdSource,
    ComponentKind.BACKTESTER: ThirdBacktester, ComponentKind.FEED: ThirdFeed,
}


def plugin_of(*classes, **attributes) -> types.SimpleNamespace:
    @hookimpl
    def jgod_register_components(register):
        for cls in classes:
            register(cls)

    return types.SimpleNamespace(jgod_register_components=jgod_register_components, **attributes)


def test_every_kind_has_a_conforming_third_party_class_here():
    """Adding a component kind without a contract test here fails this test."""
    assert set(CONFORMING) | set(EXTRA_KINDS) == set(BASE_CLASS_BY_KIND)


# Kinds whose base class lives beside its subsystem; their conforming classes are built from the
# base's own list of required methods so this module stays in step with the contract.
EXTRA_KINDS = {kind: base for kind, base in BASE_CLASS_BY_KIND.items() if kind not in CONFORMING}


def _conforming_extra(kind: ComponentKind, base: type) -> type:
    body = {"__doc__": f"Third-party {kind.value}.", "name": f"third_{kind.value}"}
    body.update({method: (lambda self, *args, **kwargs: None) for method in base.required_methods()})
    return type(f"Third{base.__name__}", (base,), body)


def test_a_class_of_every_kind_registers_through_the_public_api_only():
    classes = [*CONFORMING.values(), *(_conforming_extra(k, b) for k, b in EXTRA_KINDS.items())]
    kernel = load_kernel(ONLY_LOCAL, [("third", plugin_of(*classes))])
    for cls in classes:
        entry = kernel.registry.get(cls.kind, cls.name)
        assert entry is not None and entry.cls is cls and entry.plugin == "third"


@pytest.mark.parametrize("kind", sorted(CONFORMING, key=lambda k: k.value), ids=lambda k: k.value)
def test_leaving_a_required_method_out_is_a_located_load_error_naming_the_distribution(kind):
    base = BASE_CLASS_BY_KIND[kind]
    required = base.required_methods()
    if not required and kind is not ComponentKind.DATA_SOURCE:
        pytest.skip(f"{kind.value} has no required method")
    good = CONFORMING[kind]
    broken = type(f"Broken{base.__name__}", (base,), {
        "__doc__": "Broken.", "name": "broken", "__module__": __name__,
        **{m: getattr(good, m) for m in required[1:]},  # every required method but the first
    })
    with pytest.raises(PluginLoadError) as info:
        load_kernel(ONLY_LOCAL, [("brokenplug", plugin_of(broken))])
    message = str(info.value)
    assert re.match(r"^.+test_contracts\.py: error: plugin 'brokenplug' \(distribution 'local'\) registered "
                    rf"Broken{base.__name__} as a {kind.value}, but it breaks the jgod_core\.{base.__name__} "
                    "contract: ", message), message
    assert (required[0] if required else "neither load") in message


def test_located_error_points_at_the_class_definition():
    class MissingCheck(RiskRule):
        """No check."""

        name = "missing_check"

    line = inspect.getsourcelines(MissingCheck)[1]
    with pytest.raises(PluginLoadError, match=rf"test_contracts\.py:{line}: error: .*required method check"):
        load_kernel(ONLY_LOCAL, [("plug", plugin_of(MissingCheck))])


def test_a_plugin_for_another_api_major_is_refused_by_name():
    with pytest.raises(PluginLoadError, match=rf"plugin 'future' \(distribution 'local'\) needs J-GOD plugin API "
                                              rf"2, but this kernel offers API {API_VERSION}"):
        load_kernel(ONLY_LOCAL, [("future", plugin_of(ThirdFactor, JGOD_API_VERSION="2"))])
    kernel = load_kernel(ONLY_LOCAL, [("same", plugin_of(ThirdFactor, JGOD_API_VERSION=API_VERSION))])
    assert kernel.registry.get(ComponentKind.FACTOR, "third_factor") is not None


def test_a_class_of_no_kind_is_an_error_naming_the_bases():
    class NotAComponent:
        name = "nothing"

    with pytest.raises(PluginLoadError, match=r"registered .*NotAComponent.*which subclasses no component base class"):
        load_kernel(ONLY_LOCAL, [("plug", plugin_of(NotAComponent))])


def test_public_surface_holds_every_name_a_plugin_needs():
    needed = {"Order", "ChildOrder", "Fill", "Verdict", "Action", "Side", "TradingState", "RiskContext", "MarketView",
              "ApprovedOrder", "PARENT", "CHILD", "API_VERSION", "Panel", "FactorResult", "Params", "hookimpl",
              *(base.__name__ for base in BASE_CLASS_BY_KIND.values())}
    assert needed <= set(jgod_core.__all__)
