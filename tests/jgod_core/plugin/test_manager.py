"""Plugin loading policy: entry points, allow/block lists, autoload switch, loud failures.

Entry points are faked by monkeypatching ``importlib.metadata.entry_points`` (as pytest's own
``testing/test_config.py`` does): no package is installed by these tests.
"""

from __future__ import annotations

import importlib.metadata
import types
from dataclasses import dataclass, field

import pytest

from jgod_core import Factor, Params, PluginLoadError, PluginPolicy, hookimpl, load_kernel
from jgod_core.cli import main
from jgod_core.config.validate import validate_text
from jgod_core.plugin.components import ComponentKind


@dataclass(frozen=True)
class FakeDist:
    name: str
    version: str


@dataclass
class FakeEntryPoint:
    name: str
    value: str
    dist: FakeDist
    obj: object = None
    error: Exception | None = None
    group: str = "jgod"
    loads: list = field(default_factory=list)

    def load(self):
        self.loads.append(self.name)
        if self.error is not None:
            raise self.error
        return self.obj


def _factor_plugin(factor_name: str) -> types.SimpleNamespace:
    class _Factor(Factor):
        """A factor registered by a fake distribution."""

        name = factor_name
        version = "2.0.0"
        Params = Params

        def compute(self, panel):
            raise NotImplementedError

    @hookimpl
    def jgod_register_components(register):
        register(_Factor)

    return types.SimpleNamespace(jgod_register_components=jgod_register_components)


@pytest.fixture
def entry_points(monkeypatch):
    """Install a list of fake entry points of group ``jgod``; returns the list to fill."""
    installed: list[FakeEntryPoint] = []

    def fake_entry_points(**params):
        assert params == {"group": "jgod"}
        return list(installed)

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    for name in ("JGOD_PLUGINS", "JGOD_PLUGINS_ALLOW", "JGOD_PLUGINS_BLOCK", "JGOD_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)
    return installed


@pytest.fixture
def builtin_and_third_party(entry_points):
    entry_points.append(FakeEntryPoint("builtin_factors", "fake.builtin", FakeDist("jgod", "0.1.0"),
                                       _factor_plugin("builtin_alpha")))
    entry_points.append(FakeEntryPoint("momentum", "jgod_example_momentum.plugin",
                                       FakeDist("jgod-example-momentum", "1.2.3"), _factor_plugin("third_alpha")))
    return entry_points


def factor_names(kernel) -> list[str]:
    return kernel.registry.names(ComponentKind.FACTOR)


def test_entry_points_of_group_jgod_are_loaded_with_their_distribution(builtin_and_third_party):
    kernel = load_kernel(PluginPolicy.from_env())

    assert factor_names(kernel) == ["builtin_alpha", "third_alpha"]
    entry = kernel.registry.get(ComponentKind.FACTOR, "third_alpha")
    assert (entry.plugin, entry.distribution, entry.distribution_version, entry.version) == (
        "momentum", "jgod-example-momentum", "1.2.3", "2.0.0")
    infos = {p.name: p for p in kernel.plugins}
    assert infos["momentum"].hooks == ("jgod_register_components",)
    assert [p.name for p in kernel.plugins] == ["builtin_factors", "momentum"]  # built-ins first


def test_allow_list_from_env_loads_only_the_listed_third_party_plugins(builtin_and_third_party, monkeypatch):
    monkeypatch.setenv("JGOD_PLUGINS_ALLOW", "some-other-dist")
    kernel = load_kernel(PluginPolicy.from_env())

    assert factor_names(kernel) == ["builtin_alpha"]  # built-ins always load unless blocked
    assert kernel.skipped == [("momentum", "jgod-example-momentum", "blocked by plugin policy")]
    assert builtin_and_third_party[1].loads == []  # never even imported


@pytest.mark.parametrize("allowed", ["momentum", "jgod-example-momentum"])
def test_allow_list_matches_entry_point_or_distribution_name(builtin_and_third_party, monkeypatch, allowed):
    monkeypatch.setenv("JGOD_PLUGINS_ALLOW", f" {allowed} , other")
    assert factor_names(load_kernel(PluginPolicy.from_env())) == ["builtin_alpha", "third_alpha"]


@pytest.mark.parametrize("blocked", ["momentum", "jgod-example-momentum"])
def test_block_list_from_env_skips_a_plugin_by_entry_point_or_distribution(builtin_and_third_party, monkeypatch,
                                                                         blocked):
    monkeypatch.setenv("JGOD_PLUGINS_BLOCK", blocked)
    kernel = load_kernel(PluginPolicy.from_env())
    assert factor_names(kernel) == ["builtin_alpha"]
    assert builtin_and_third_party[1].loads == []


def test_block_list_wins_over_allow_list_and_can_block_builtins(builtin_and_third_party, monkeypatch):
    monkeypatch.setenv("JGOD_PLUGINS_ALLOW", "momentum")
    monkeypatch.setenv("JGOD_PLUGINS_BLOCK", "momentum,jgod")
    assert factor_names(load_kernel(PluginPolicy.from_env())) == []


def test_block_list_in_the_pipeline_file_is_merged_with_the_environment(builtin_and_third_party):
    text = (
        "version: 1\nname: p\nplugins:\n  block: [jgod-example-momentum]\n"
        "phases:\n  pre_market:\n    steps:\n      - plugin: third_alpha\n"
    )
    _, diags = validate_text(text, "p.yaml")
    unknown = [d for d in diags if d.code == "unknown-plugin" and d.loc.startswith("phases")]
    assert [(d.line, d.column, d.message) for d in unknown] == [
        (8, 17, "unknown factor, engine, data_source or feed 'third_alpha'")]


def test_allow_list_in_the_pipeline_file_restricts_third_party_plugins(builtin_and_third_party):
    policy = PluginPolicy.from_env().merged(allow=["nothing-else"])
    assert factor_names(load_kernel(policy)) == ["builtin_alpha"]


@pytest.mark.parametrize("switch", ["1", "true", "YES"])
def test_disable_autoload_keeps_builtins_and_explicit_modules_only(builtin_and_third_party, monkeypatch, switch):
    module = types.ModuleType("jgod_test_explicit_plugin")
    module.jgod_register_components = _factor_plugin("explicit_alpha").jgod_register_components
    monkeypatch.setitem(__import__("sys").modules, "jgod_test_explicit_plugin", module)
    monkeypatch.setenv("JGOD_DISABLE_PLUGIN_AUTOLOAD", switch)
    monkeypatch.setenv("JGOD_PLUGINS", "jgod_test_explicit_plugin")

    kernel = load_kernel(PluginPolicy.from_env())

    assert factor_names(kernel) == ["builtin_alpha", "explicit_alpha"]
    assert builtin_and_third_party[1].loads == []
    explicit = kernel.registry.get(ComponentKind.FACTOR, "explicit_alpha")
    assert (explicit.plugin, explicit.distribution) == ("jgod_test_explicit_plugin", "local")


def test_misspelt_hook_is_an_error_naming_plugin_distribution_and_the_right_hook(entry_points):
    @hookimpl
    def jgod_register_component(register):  # missing the final "s"
        raise AssertionError("never called")

    entry_points.append(FakeEntryPoint("typo", "typo_pkg", FakeDist("jgod-typo", "0.3.0"),
                                       types.SimpleNamespace(jgod_register_component=jgod_register_component)))
    with pytest.raises(PluginLoadError) as info:
        load_kernel(PluginPolicy.from_env())
    assert str(info.value) == (
        "plugin 'typo' (distribution 'jgod-typo' 0.3.0) implements unknown hook 'jgod_register_component'; "
        "did you mean 'jgod_register_components'?"
    )


def test_undecorated_jgod_function_counts_as_a_hook_implementation(entry_points):
    def jgod_register_compnents(register):  # no @hookimpl and misspelt: still reported, never ignored
        pass

    entry_points.append(FakeEntryPoint("nodeco", "nodeco", FakeDist("jgod-nodeco", "1.0"),
                                       types.SimpleNamespace(jgod_register_compnents=jgod_register_compnents)))
    with pytest.raises(PluginLoadError, match=r"'nodeco' \(distribution 'jgod-nodeco' 1.0\) implements unknown "
                                              r"hook 'jgod_register_compnents'; did you mean 'jgod_register_components'"):
        load_kernel(PluginPolicy.from_env())


def test_hook_with_wrong_argument_names_is_an_error_naming_the_plugin(entry_points):
    @hookimpl
    def jgod_register_components(registry):
        pass

    entry_points.append(FakeEntryPoint("badargs", "badargs", FakeDist("jgod-badargs", "1.0"),
                                       types.SimpleNamespace(jgod_register_components=jgod_register_components)))
    with pytest.raises(PluginLoadError, match=r"plugin 'badargs' \(distribution 'jgod-badargs' 1.0\) cannot be "
                                              r"registered: .*registry"):
        load_kernel(PluginPolicy.from_env())


def test_plugin_that_fails_to_import_is_reported_with_name_and_distribution(entry_points):
    entry_points.append(FakeEntryPoint("broken", "broken_pkg.plugin", FakeDist("jgod-broken", "0.0.1"),
                                       error=ModuleNotFoundError("No module named 'talib'")))
    with pytest.raises(PluginLoadError) as info:
        load_kernel(PluginPolicy.from_env())
    assert str(info.value) == (
        "plugin 'broken' (distribution 'jgod-broken' 0.0.1) failed to import (broken_pkg.plugin): "
        "ModuleNotFoundError: No module named 'talib'"
    )


def test_failing_import_is_a_cli_error_without_traceback(entry_points, capsys):
    entry_points.append(FakeEntryPoint("broken", "broken_pkg.plugin", FakeDist("jgod-broken", "0.0.1"),
                                       error=ImportError("boom")))
    assert main(["plugins"]) == 1
    out, err = capsys.readouterr()
    assert "plugin 'broken' (distribution 'jgod-broken' 0.0.1) failed to import" in err
    assert "Traceback" not in out + err


def test_blocked_broken_plugin_is_never_imported(entry_points, monkeypatch):
    broken = FakeEntryPoint("broken", "broken_pkg", FakeDist("jgod-broken", "0.0.1"), error=ImportError("boom"))
    entry_points.append(broken)
    monkeypatch.setenv("JGOD_PLUGINS_BLOCK", "jgod-broken")
    load_kernel(PluginPolicy.from_env())
    assert broken.loads == []


def test_explicit_module_that_fails_to_import_is_reported(entry_points, monkeypatch):
    monkeypatch.setenv("JGOD_PLUGINS", "jgod_no_such_module_xyz")
    with pytest.raises(PluginLoadError, match="plugin 'jgod_no_such_module_xyz' \\(named in JGOD_PLUGINS\\) "
                                              "failed to import: ModuleNotFoundError"):
        load_kernel(PluginPolicy.from_env())


def test_registration_hook_that_raises_is_reported_with_plugin_and_hook(entry_points):
    @hookimpl
    def jgod_register_components(register):
        raise KeyError("config")

    entry_points.append(FakeEntryPoint("raiser", "raiser", FakeDist("jgod-raiser", "1.0"),
                                       types.SimpleNamespace(jgod_register_components=jgod_register_components)))
    with pytest.raises(PluginLoadError, match=r"plugin 'raiser' \(distribution 'jgod-raiser' 1.0\) failed in "
                                              r"jgod_register_components: KeyError: 'config'"):
        load_kernel(PluginPolicy.from_env())


def test_same_component_name_from_two_distributions_is_an_error_naming_both(entry_points):
    entry_points.append(FakeEntryPoint("one", "one", FakeDist("dist-one", "1"), _factor_plugin("alpha")))
    entry_points.append(FakeEntryPoint("two", "two", FakeDist("dist-two", "1"), _factor_plugin("alpha")))
    with pytest.raises(PluginLoadError, match=r"factor 'alpha' is registered twice: by 'one' \(dist-one\) "
                                              r"and by 'two' \(dist-two\)"):
        load_kernel(PluginPolicy.from_env())


def test_same_entry_point_listed_twice_loads_once(entry_points):
    plugin = _factor_plugin("alpha")
    entry_points.append(FakeEntryPoint("one", "pkg", FakeDist("dist-one", "1"), plugin))
    entry_points.append(FakeEntryPoint("one", "pkg", FakeDist("dist-one", "1"), plugin))
    assert factor_names(load_kernel(PluginPolicy.from_env())) == ["alpha"]


# -- the pytest plugin for plugin authors (jgod_core.testing) -------------------------------------


def test_make_kernel_and_pipeline_from_yaml_fixtures(make_kernel, pipeline_from_yaml, monkeypatch):
    monkeypatch.delenv("JGOD_PLUGINS", raising=False)
    kernel = make_kernel(("mine", _factor_plugin("my_alpha")), ("fx", _source_plugin()),
                         policy=PluginPolicy(block=frozenset({"jgod"})))
    pipeline = pipeline_from_yaml("""
        version: 1
        name: mine
        data: {source: fx_src}
        phases:
          pre_market:
            steps:
              - plugin: my_alpha
                weight: 0.5
        """, kernel)
    [step] = pipeline.factor_steps
    assert (step.name, step.weight, step.entry.plugin, step.entry.distribution) == ("my_alpha", 0.5, "mine", "local")
    assert pipeline.data_source.entry.name == "fx_src"


def test_pipeline_assembled_hook_sees_the_pipeline_and_may_refuse_it(make_kernel, pipeline_from_yaml):
    from jgod_core.errors import JGodError

    seen = []

    class Auditor:
        @hookimpl
        def jgod_pipeline_assembled(self, pipeline):
            seen.append(pipeline.config.name)
            if pipeline.config.name == "refused":
                raise JGodError("pipeline 'refused' is not approved")

    kernel = make_kernel(("fx", _source_plugin()), ("auditor", Auditor()), policy=PluginPolicy(block=frozenset({"jgod"})))
    pipeline_from_yaml("version: 1\nname: fine\ndata: {source: fx_src}\n", kernel)
    with pytest.raises(JGodError, match="not approved"):
        pipeline_from_yaml("version: 1\nname: refused\ndata: {source: fx_src}\n", kernel)
    assert seen == ["fine", "refused"]


def _source_plugin() -> types.SimpleNamespace:
    from jgod_core import DataSource

    class FxSrc(DataSource):
        """A data source."""

        name = "fx_src"

        def load(self, store, progress=True):
            return {}

    @hookimpl
    def jgod_register_components(register):
        register(FxSrc)

    return types.SimpleNamespace(jgod_register_components=jgod_register_components)
