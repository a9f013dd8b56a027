"""Property: whatever is done to a valid pipeline, the validator answers with located diagnostics.

Mutations of the golden valid files: keys deleted or renamed, values swapped for other types
(NaN, huge numbers, unicode, deep nesting, lists, nulls), raw bytes and unicode inserted into the
text, lines duplicated, anchors and aliases spliced in. The validator must never raise, and every
diagnostic must point at a real position (line >= 1, column >= 1, line within the file).

Always-on runs are short; ``pytest -m slow`` runs the long version.
"""

from __future__ import annotations

import functools
import importlib
import io
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from jgod_core import PluginPolicy, load_kernel
from jgod_core.config.validate import validate_doc
from jgod_core.config.yaml_source import load_yaml_bytes

HERE = Path(__file__).parent
VALID = sorted((HERE.parents[1] / "fixtures" / "yaml" / "valid").glob("*.yaml"))
VALID_BYTES = [p.read_bytes() for p in VALID]

SHORT = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def kernel():
    """Fixture plugins only (built-ins blocked): the golden files name fx_* components."""
    sys.path.insert(0, str(HERE.parent))
    try:
        fixture_plugins = importlib.import_module("fixture_plugins")
    finally:
        sys.path.remove(str(HERE.parent))
    return load_kernel(PluginPolicy(block=frozenset({"jgod"})), [("fixture_plugins", fixture_plugins)])


def check(data: bytes) -> list:
    """Validate ``data``; assert the answer is well-formed diagnostics, never an exception."""
    doc, diags = load_yaml_bytes(data, "mutant.yaml")
    pipeline = None
    if doc is not None:
        pipeline, diags = validate_doc(doc, kernel(), diags)
    line_count = data.count(b"\n") + 1
    for d in diags:
        assert d.line >= 1 and d.column >= 1, d
        assert d.line <= line_count + 1, (d, line_count)
        assert d.severity in {"error", "warning"} and d.message, d
    assert (pipeline is None) == any(d.is_error for d in diags)
    return diags


def dump(data: Any) -> bytes:
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(data, out)
    return out.getvalue().encode("utf-8")


def plain_data(raw: bytes) -> Any:
    return YAML(typ="safe", pure=True).load(raw)


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every location in a nested dict/list structure."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += paths(value, prefix + (i,))
    return found


def parent_of(root: Any, path: tuple) -> Any:
    for part in path[:-1]:
        root = root[part]
    return root


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["0050", "13:30", "${SHIOAJI_API_KEY}", "fx_momentum", "nan", "-.inf", "", "NO", "~"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)


@st.composite
def mutated_data(draw) -> bytes:
    data = plain_data(draw(st.sampled_from(VALID_BYTES)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        locations = paths(data)
        if not locations:
            break
        path = draw(st.sampled_from(locations))
        parent, key = parent_of(data, path), path[-1]
        action = draw(st.sampled_from(["delete", "rename", "replace", "nest"]))
        if action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=15))] = parent.pop(key)
        elif action == "nest":
            depth = draw(st.integers(min_value=1, max_value=80))
            nested: Any = parent[key]
            for _ in range(depth):
                nested = [nested]
            parent[key] = nested
        else:
            parent[key] = draw(values)
    return dump(data)


@st.composite
def mutated_text(draw) -> bytes:
    text = bytearray(draw(st.sampled_from(VALID_BYTES)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        action = draw(st.sampled_from(["bytes", "unicode", "delete", "duplicate_line", "alias", "tab"]))
        if action == "bytes":
            text[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "unicode":
            text[at:at] = draw(st.text(min_size=1, max_size=8)).encode("utf-8")
        elif action == "delete":
            del text[at : at + draw(st.integers(min_value=1, max_value=40))]
        elif action == "duplicate_line":
            start = text.rfind(b"\n", 0, at) + 1
            end = text.find(b"\n", at)
            line = bytes(text[start : (end if end >= 0 else len(text))]) + b"\n"
            text[start:start] = line
        elif action == "alias":
            text[at:at] = draw(st.sampled_from([b" &a [1, 2]", b" *a", b" *undefined", b"\n<<: *a\n", b" !!python/none",
                                                 b" &x\n  - *x", b" !custom {a: 1}"]))
        else:
            text[at:at] = b"\t"
    return bytes(text)


def test_valid_fixtures_are_valid():
    for raw in VALID_BYTES:
        assert [d for d in check(raw) if d.is_error] == []


@SHORT
@given(mutated_data())
def test_structural_mutations_give_located_diagnostics_never_a_crash(data):
    check(data)


@SHORT
@given(mutated_text())
def test_text_mutations_give_located_diagnostics_never_a_crash(data):
    check(data)


@SHORT
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_located_diagnostics_never_a_crash(data):
    check(data)


@SHORT
@given(mutated_text())
def test_validation_is_deterministic(data):
    assert check(data) == check(data)


@pytest.mark.slow
@LONG
@given(st.one_of(mutated_data(), mutated_text(), st.binary(max_size=2000)))
def test_long_run_validator_never_crashes(data):
    check(data)
