"""Docs as contract: README.md documents every hook with its exact signature, and its examples
are real output."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from jgod_core.plugin import spec as hookspecs

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
GOLDEN = ROOT / "tests" / "fixtures" / "yaml" / "invalid"

HOOKS = sorted(
    (name, fn) for name, fn in vars(hookspecs).items()
    if name.startswith("jgod_") and inspect.isfunction(fn) and hasattr(fn, "jgod_spec")
)


def source_signature(fn) -> str:
    """``name(args) -> ret`` exactly as written in hookspecs.py."""
    source = inspect.getsource(fn)
    match = re.search(r"^def (\w+\(.*?\)\s*->\s*.*?):\s*$", source, re.MULTILINE | re.DOTALL)
    assert match, fn.__name__
    return " ".join(match.group(1).split())


def readme_row(name: str) -> str:
    rows = [line for line in README.splitlines() if line.startswith(f"| `{name}(")]
    assert len(rows) == 1, f"README.md must have exactly one hook table row for {name}"
    return rows[0]


def test_hookspecs_are_found():
    assert len(HOOKS) >= 3


@pytest.mark.parametrize("name, fn", HOOKS, ids=[n for n, _ in HOOKS])
def test_every_hook_is_in_the_readme_with_its_exact_signature(name, fn):
    documented = readme_row(name).split("`")[1].replace("\\|", "|")
    assert documented == source_signature(fn)


@pytest.mark.parametrize("name, fn", HOOKS, ids=[n for n, _ in HOOKS])
def test_every_hook_has_a_docstring_and_firstresult_is_documented(name, fn):
    assert (fn.__doc__ or "").strip(), name
    firstresult = fn.jgod_spec.get("firstresult", False)
    assert ("firstresult" in readme_row(name)) == firstresult
    assert ("Stops at first non-None result" in fn.__doc__) == firstresult


def test_readme_has_no_hook_that_does_not_exist():
    documented = set(re.findall(r"^\| `(jgod_\w+)\(", README, re.MULTILINE))
    assert documented == {name for name, _ in HOOKS}


def test_readme_validate_example_is_real_output():
    block = README.split("five_independent_mistakes.yaml:4:11", 1)[1].split("```", 1)[0]
    example = ("five_independent_mistakes.yaml:4:11" + block).rstrip("\n").splitlines()
    golden = (GOLDEN / "five_independent_mistakes.expected").read_text(encoding="utf-8").splitlines()
    assert example[:5] == golden[:5]  # the first diagnostic, verbatim
    rest = "\n".join(example[5:])
    assert rest in "\n".join(golden), "README example lines must appear verbatim in the golden output"


def test_readme_example_plugin_matches_the_example_package():
    source = (ROOT / "examples" / "jgod-example-momentum" / "src" / "jgod_example_momentum" / "momentum.py").read_text(
        encoding="utf-8")
    for line in ('name = "price_momentum"', "requires = frozenset({DataKind.DAILY_BARS})",
                 "phases = frozenset({Phase.PRE_MARKET, Phase.POST_MARKET})",
                 'window_days: int = Field(20, ge=1, le=504, description="Trading days between the two closes '
                 'compared.")'):
        assert line in source and line in README, line
    pyproject = (ROOT / "examples" / "jgod-example-momentum" / "pyproject.toml").read_text(encoding="utf-8")
    assert 'example_momentum = "jgod_example_momentum"' in pyproject and 'example_momentum = "jgod_example_momentum"' in README


def test_readme_command_table_lists_every_jgod_command(capsys):
    import typer

    from jgod_core import cli

    cli.main(["--help"])  # registers the command groups
    capsys.readouterr()
    commands = set(typer.main.get_command(cli.app).commands)
    rows = "\n".join(line for line in README.split("## Commands", 1)[1].splitlines() if line.startswith("| `jgod "))
    undocumented = sorted(name for name in commands if f"`jgod {name}" not in rows)
    assert commands >= {"validate", "run", "data", "paper", "trade", "halt", "resume", "audit", "replay", "serve",
                        "status"}
    assert undocumented == [], f"README.md's command table misses: {', '.join(undocumented)}"


def test_every_name_the_readme_imports_from_jgod_core_exists():
    import jgod_core

    imported = [name.strip() for line in re.findall(r"^from jgod_core import (.+)$", README, re.MULTILINE)
                for name in line.split("#")[0].split(",")]
    assert "run_pipeline" in imported
    for name in imported:
        assert getattr(jgod_core, name, None) is not None, name


def contract_row(kind) -> str:
    """The README row of one component kind, as derived from its base class."""
    from jgod_core.plugin.components import BASE_CLASS_BY_KIND

    base = BASE_CLASS_BY_KIND[kind]
    required = ", ".join(f"`{m}`" for m in base.required_methods()) or (
        "`load` or `fetch`" if kind.value == "data_source" else "none")
    optional = ", ".join(f"`{m}`" for m in base.optional_methods) or "none"
    return f"| `{kind.value}` | `jgod_core.{base.__name__}` | {required} | {optional} |"


def test_readme_contract_table_lists_every_kind_with_its_required_and_optional_methods():
    from jgod_core.plugin.components import BASE_CLASS_BY_KIND

    rows = {line for line in README.splitlines() if line.startswith("| `") and "| `jgod_core." in line}
    for kind in BASE_CLASS_BY_KIND:
        assert contract_row(kind) in rows, f"README.md contract table row for {kind.value}: {contract_row(kind)}"


def test_readme_layout_names_every_kernel_and_plugin_package():
    block = README[README.index("## Layout"):]
    block = block[block.index("```"):block.index("```", block.index("```") + 3)]
    for root in ("jgod_core", "plugins"):
        for entry in sorted((ROOT / root).iterdir()):
            if entry.name.startswith(("_", ".")) or entry.name in {"sample_data"}:
                continue
            if entry.is_dir() or entry.suffix == ".py":
                name = entry.name + ("/" if entry.is_dir() else "")
                assert name in block or entry.name in block, f"README layout misses {root}/{entry.name}"
