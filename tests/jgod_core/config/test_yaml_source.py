"""The located, safe YAML loader: positions, raw text, and what it refuses."""

from __future__ import annotations

import time

from jgod_core.config.yaml_source import Mark, dotted, load_yaml_bytes, load_yaml_text


def load(text: str):
    doc, diags = load_yaml_text(text, "t.yaml")
    return doc, [(d.line, d.column, d.code) for d in diags]


def test_every_key_and_value_keeps_its_1_based_position():
    doc, diags = load("a:\n  b: [1, {c: x}]\n")
    assert diags == []
    assert doc.data == {"a": {"b": [1, {"c": "x"}]}}
    assert doc.key_marks[("a", "b")] == Mark(2, 3)
    assert doc.value_marks[("a", "b")] == Mark(2, 6)
    assert doc.value_marks[("a", "b", 1, "c")] == Mark(2, 14)
    assert doc.mark(("a", "b", 1, "missing")) == Mark(2, 10)  # nearest enclosing node


def test_raw_text_of_scalars_is_kept_with_quoting():
    doc, _ = load("a: 0050\nb: '0050'\n")
    assert doc.data == {"a": 50, "b": "0050"}
    assert (doc.raw[("a",)].text, doc.raw[("a",)].quoted) == ("0050", False)
    assert doc.raw[("b",)].quoted is True


def test_unquoted_base_60_clock_reads_as_yaml_1_1_does():
    doc, _ = load("a: 13:30\nb: '13:30'\nc: 08:30\n")
    assert doc.data == {"a": 810, "b": "13:30", "c": "08:30"}  # 08:30 is not a YAML 1.1 integer


def test_yaml_1_1_booleans_are_strings_and_special_floats_are_read():
    doc, _ = load("a: NO\nb: .nan\nc: -.inf\nd: true\n")
    assert doc.data["a"] == "NO" and doc.data["d"] is True
    assert doc.data["b"] != doc.data["b"] and doc.data["c"] == float("-inf")


def test_every_duplicate_key_is_reported_and_the_first_value_kept():
    doc, diags = load("a: 1\nb: 2\na: 3\na: 4\n")
    assert diags == [(3, 1, "duplicate-key"), (4, 1, "duplicate-key")]
    assert doc.data == {"a": 1, "b": 2}


def test_python_tags_never_construct_objects():
    doc, diags = load("a: !!python/object/apply:os.system ['true']\nb: !!python/name:os.system\nc: ok\n")
    assert diags == [(1, 4, "unsafe-tag"), (2, 4, "unsafe-tag")]
    assert doc.data == {"a": None, "b": None, "c": "ok"}


def test_billion_laughs_is_rejected_fast_and_bounded():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    started = time.perf_counter()
    doc, diags = load("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 5.0
    assert doc is None and diags[-1][2] == "alias-bomb"


def test_small_aliases_are_expanded():
    doc, diags = load("x: &x {k: 1}\ny: *x\n")
    assert diags == [] and doc.data == {"x": {"k": 1}, "y": {"k": 1}}


def test_bom_is_accepted_and_invalid_utf8_is_located():
    doc, diags = load_yaml_bytes("\ufeffa: 1\n".encode("utf-8"))
    assert doc.data == {"a": 1} and diags == []
    doc, diags = load_yaml_bytes(b"a: 1\nb: \xff\n", "x.yaml")
    assert doc is None and [(d.line, d.column, d.code) for d in diags] == [(2, 4, "encoding")]


def test_empty_and_comment_only_documents_are_reported():
    assert load("")[1] == [(1, 1, "empty")]
    assert load("# only\n\n")[1] == [(1, 1, "empty")]


def test_dotted_location():
    assert dotted(("phases", "pre_market", "steps", 0, "plugin")) == "phases.pre_market.steps[0].plugin"
    assert dotted(()) == ""
