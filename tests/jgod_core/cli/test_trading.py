"""`jgod paper` / `jgod trade`: which router and broker a pipeline gets, decided by what the component
classes declare (``is_default``, ``simulated``), never by their names."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from jgod_core import Broker
from jgod_core.cli import main
from jgod_core.cli.trading import _default, _simulated
from jgod_core.errors import JGodError
from jgod_core.plugin.registry import ComponentEntry, ComponentRegistry
from jgod_plugins.execution.paper import PaperBroker
from jgod_plugins.execution.slicer import SlicerRouter
from jgod_plugins.execution.twap import TwapRouter


class _Registry(ComponentRegistry):
    """A registry holding exactly ``entries`` (no plugin loading)."""

    def __init__(self, entries):
        super().__init__()
        self._listed = entries

    def __iter__(self):
        return iter(self._listed)

    def names(self, kind=None):
        return sorted(e.name for e in self._listed if kind is None or e.kind == kind)


def _pipeline(*classes):
    entries = [ComponentEntry(c.kind, c.name, c, "test", "local", "") for c in classes]
    return SimpleNamespace(path="p.yaml", kernel=SimpleNamespace(registry=_Registry(entries)))


def test_default_router_when_one_router_declares_is_default_then_builds_it():
    router = _default(_pipeline(TwapRouter, SlicerRouter), "router")

    assert isinstance(router, SlicerRouter)


def test_default_broker_when_none_declares_is_default_then_located_error_asks_to_add_one():
    with pytest.raises(JGodError) as info:
        _default(_pipeline(TwapRouter), "broker")

    assert str(info.value).startswith("p.yaml: no execution.broker in the pipeline and no installed broker is a "
                                      "default; add one")


def test_default_router_when_two_declare_is_default_then_error_names_both():
    class OtherDefault(TwapRouter):
        name = "other_default"
        is_default = True

    with pytest.raises(JGodError, match=r"several installed routers .*\(other_default, slicer\)"):
        _default(_pipeline(SlicerRouter, OtherDefault), "router")


class FakeVenueBroker(Broker):
    """A venue broker that happens to be called paper."""

    name = "paper"

    def submit(self, approved):
        return []

    def cancel_all(self, reason=""):
        return []


def test_simulated_when_class_declares_it_then_true_whatever_its_name():
    class Renamed(PaperBroker):
        name = "sim_with_another_name"

    assert _simulated(PaperBroker()) and _simulated(Renamed())
    assert not _simulated(FakeVenueBroker())  # a broker named "paper" is not simulated unless it declares it


PAPER_WITHOUT_EXECUTION = """version: 1
name: paper_test
data:
  source: sample
"""


def test_paper_when_broker_is_not_simulated_then_error_without_traceback(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text(PAPER_WITHOUT_EXECUTION + "execution:\n  broker:\n    plugin: shioaji\n", encoding="utf-8")

    code = main(["paper", str(path), "--start", "2024-01-02", "--end", "2024-01-03", "--out", str(tmp_path / "o"),
                 "--store", f"sqlite:///{tmp_path / 's.sqlite'}"])

    err = capsys.readouterr().err
    assert code == 1
    assert "`jgod paper` needs a simulated broker" in " ".join(err.split()) and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # refused before the pipeline runs
