"""The component registry: (kind, name) -> class, with declarations checked at registration."""

from __future__ import annotations

import pytest

from jgod_core import Engine, Factor, Params
from jgod_core.errors import RegistryError
from jgod_core.plugin.components import ComponentKind
from jgod_core.plugin.registry import ComponentRegistry


class GoodFactor(Factor):
    """A factor."""

    name = "good_factor"
    version = "1.2.0"

    def compute(self, panel):
        raise NotImplementedError


def test_registered_component_is_found_by_kind_and_name_with_its_origin():
    registry = ComponentRegistry()
    registry.registrar("plug", "dist-a", "3.1")(GoodFactor)
    entry = registry.get(ComponentKind.FACTOR, "good_factor")
    assert (entry.cls, entry.plugin, entry.distribution, entry.distribution_version, entry.version) == (
        GoodFactor, "plug", "dist-a", "3.1", "1.2.0")
    assert registry.get(ComponentKind.ENGINE, "good_factor") is None
    assert registry.find("good_factor") == [entry] and len(registry) == 1


def test_class_of_another_kind_is_rejected():
    class AnEngine(Engine):
        name = "an_engine"

    with pytest.raises(RegistryError, match="registered .*AnEngine.* as a factor, but it does not subclass "
                                            "jgod_core.Factor"):
        ComponentRegistry().add(ComponentKind.FACTOR, AnEngine, "plug")


@pytest.mark.parametrize("bad_name", ["CamelCase", "with-dash", "", "1starts_with_digit", None, "x" * 65])
def test_name_must_be_lower_snake_case(bad_name):
    bad = type("Bad", (GoodFactor,), {"name": bad_name})
    with pytest.raises(RegistryError, match="name must be a lower_snake_case string"):
        ComponentRegistry().add(ComponentKind.FACTOR, bad, "plug")


def test_params_must_subclass_jgod_params():
    from pydantic import BaseModel

    bad = type("Bad", (GoodFactor,), {"name": "bad", "Params": BaseModel})
    with pytest.raises(RegistryError, match="Bad.Params must subclass jgod_core.Params"):
        ComponentRegistry().add(ComponentKind.FACTOR, bad, "plug")


def test_same_kind_and_name_twice_is_an_error_naming_both_plugins():
    registry = ComponentRegistry()
    registry.add(ComponentKind.FACTOR, GoodFactor, "first", "dist-a")
    with pytest.raises(RegistryError, match=r"factor 'good_factor' is registered twice: by 'first' \(dist-a\) and "
                                            r"by 'second' \(local\)"):
        registry.add(ComponentKind.FACTOR, GoodFactor, "second")


def test_suggest_gives_the_closest_name_of_the_kind():
    registry = ComponentRegistry()
    registry.add(ComponentKind.FACTOR, GoodFactor, "plug")
    assert registry.suggest("good_factr", ComponentKind.FACTOR) == "good_factor"
    assert registry.suggest("good_factr", ComponentKind.ENGINE) is None
    assert registry.suggest("zzz") is None


def test_params_base_is_frozen_forbids_unknown_keys_and_rejects_nan():
    from pydantic import Field, ValidationError

    class P(Params):
        x: float = Field(1.0, ge=0)

    with pytest.raises(ValidationError):
        P(y=1)
    with pytest.raises(ValidationError):
        P(x=float("nan"))
    with pytest.raises(ValidationError):
        P().x = 2.0  # type: ignore[misc]
