"""``jgod new``: write a ready plugin package or a starter pipeline from the templates beside this module.

- ``jgod new plugin NAME [--dir D]`` writes ``D/NAME/``: a pip-installable package with a
  ``jgod`` entry point, a factor (params model, docstring, a complete ``compute``: N-day momentum
  of the adjusted close with warm-up NaN) built on :mod:`jgod_plugins.sdk.factors`, tests that use
  the kit (:func:`jgod_core.testing.check_factor`, :func:`jgod_core.testing.make_panel`) and run
  the factor in a pipeline, and that pipeline;
- ``jgod new pipeline NAME [--dir D] [--factor F]`` writes ``D/NAME.yaml``, a commented pipeline
  that passes ``jgod validate``.

Neither overwrites anything: an existing target is an ``error:`` (exit 1), as is a NAME that is
not a lower_snake_case Python identifier.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from jgod_core.errors import JGodError

new_app = typer.Typer(help="Write a new plugin package or pipeline from a template.", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # the registry's rule for component names
DEFAULT_WINDOW_DAYS = 20
# The plugin package's own pipeline: a small real universe and a short period, so its test runs in seconds.
PLUGIN_PIPELINE_SYMBOLS = ("0050", "1101", "1216", "2303", "2317", "2330", "2382", "2454", "2603", "2881", "2882",
                           "2891")
STARTER_STEPS = (
    {"plugin": "f_c", "weight": 1.0, "comment": "cycle / chips: LAC deviation z-score, regime"},
    {"plugin": "f_stat", "weight": 0.5, "comment": "microstructure, daily versions: VWAP deviation, volume spike"},
)


def register(app: typer.Typer) -> None:
    """Add the ``new`` command group to the main CLI."""
    app.add_typer(new_app, name="new")


@dataclass(frozen=True)
class Written:
    """What a template wrote: the root and the files under it."""

    root: Path
    files: tuple[Path, ...]


def _environment():
    import jinja2

    def load(name: str) -> str:
        return (resources.files("jgod_core.cli") / "templates").joinpath(*name.split("/")).read_text(encoding="utf-8")

    return jinja2.Environment(loader=jinja2.FunctionLoader(load), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, autoescape=False)


def render(template: str, **context: Any) -> str:
    """Render ``templates/<template>`` with ``context`` (unknown variables are an error, never blank)."""
    return _environment().get_template(template).render(**context)


def _jgod_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jgod")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "0.1"


def check_name(name: str, what: str) -> None:
    """Refuse a NAME that cannot be a component name and a Python module name."""
    if not NAME_RE.match(name) or not name.isidentifier() or keyword.iskeyword(name):
        raise JGodError(f"{what} name {name!r} must be a lower_snake_case Python identifier: a lowercase letter, then "
                        "lowercase letters, digits or '_' (at most 64), not a Python keyword; e.g. 'my_factor'")


def _check_free_plugin_name(name: str) -> None:
    spec = importlib.util.find_spec(name)
    if spec is not None:
        where = spec.origin or ", ".join(spec.submodule_search_locations or [])
        raise JGodError(f"a module named {name!r} is already importable ({where}); the new package would shadow it "
                        "or be shadowed; pick another name")
    from jgod_core.plugin.manager import load_kernel

    taken = load_kernel().registry.find(name)
    if taken:
        entry = taken[0]
        raise JGodError(f"a {entry.kind.value} named {name!r} is already installed (from {entry.distribution}); "
                        "component names are unique per kind; pick another name")


def _refuse_existing(path: Path) -> None:
    if path.exists() or path.is_symlink():
        raise JGodError(f"{path} already exists; refusing to overwrite it (remove it or choose another --dir)")


def _write(files: dict[Path, str]) -> None:
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def pipeline_text(name: str, factor: str | None = None, *, file_name: str | None = None,
                  symbols: tuple[str, ...] = (), start: str = "2018-01-02", end: str = "2025-05-23",
                  lookback_days: int = 320, window_days: int = DEFAULT_WINDOW_DAYS) -> str:
    """The starter pipeline YAML: ``factor`` as its one step, else the built-in ``f_c`` and ``f_stat``."""
    steps = ([{"plugin": factor, "weight": 1.0, "comment": f"{window_days}-day momentum (your plugin)",
               "params": {"window_days": window_days}}] if factor else [dict(s, params={}) for s in STARTER_STEPS])
    description = (f"The {factor} factor on the embedded real sample, long-only top 5, backtested with Taiwan rules."
                   if factor else "Two built-in factors on the embedded real sample, long-only top 10, backtested "
                                  "with Taiwan rules. Add your own factor as a step.")
    top_n = 5 if factor else 10
    return render("pipeline.yaml.j2", name=name, description=description, jgod_version=_jgod_version(),
                  file_name=file_name or f"{name}.yaml", symbols=list(symbols), start=start, end=end,
                  lookback_days=lookback_days, steps=steps, top_n=top_n,
                  max_weight=0.2 if factor else 0.1, sector_cap=0.6 if factor else 0.3)


def write_plugin(name: str, directory: Path) -> Written:
    """Write the plugin package ``directory/name/`` (see the module docstring); refuses to overwrite."""
    check_name(name, "plugin")
    root = directory / name
    _refuse_existing(root)
    _check_free_plugin_name(name)
    context = {
        "name": name,
        "module": name,
        "distribution": "jgod-" + name.replace("_", "-"),
        "class_name": "".join(part.capitalize() for part in name.split("_") if part) or name.capitalize(),
        "window_days": DEFAULT_WINDOW_DAYS,
        "jgod_version": _jgod_version(),
    }
    files = {
        root / "pyproject.toml": render("plugin/pyproject.toml.j2", **context),
        root / "README.md": render("plugin/README.md.j2", **context),
        root / "src" / name / "__init__.py": render("plugin/__init__.py.j2", **context),
        root / "src" / name / "factor.py": render("plugin/factor.py.j2", **context),
        root / "tests" / f"test_{name}.py": render("plugin/test_factor.py.j2", **context),
        root / "pipelines" / f"{name}.yaml": pipeline_text(
            name, name, file_name=f"pipelines/{name}.yaml", symbols=PLUGIN_PIPELINE_SYMBOLS, start="2019-01-02",
            end="2020-12-31", lookback_days=DEFAULT_WINDOW_DAYS + 10),
    }
    _write(files)
    return Written(root, tuple(files))


def write_pipeline(name: str, directory: Path, factor: str | None = None) -> Written:
    """Write the starter pipeline ``directory/name.yaml``; refuses to overwrite."""
    check_name(name, "pipeline")
    if factor is not None:
        check_name(factor, "factor")
    path = directory / f"{name}.yaml"
    _refuse_existing(path)
    _write({path: pipeline_text(name, factor, file_name=str(path))})
    return Written(path, (path,))


DIR_HELP = "Directory to write into (default: the current directory)."


@new_app.command("plugin")
def new_plugin(
    name: str = typer.Argument(..., help="Factor and package name, lower_snake_case (e.g. my_factor)."),
    directory: Path = typer.Option(Path("."), "--dir", "-d", help=DIR_HELP),
) -> None:
    """Write a ready plugin package NAME/: pyproject with the `jgod` entry point, a factor, tests, a pipeline."""
    written = write_plugin(name, directory)
    console.print(f"wrote {written.root}/ ({len(written.files)} files):")
    for path in written.files:
        console.print(f"  {path.relative_to(written.root)}")
    console.print(f"next: python -m pip install -e '{written.root}[test]' && (cd {written.root} && python -m pytest)")


@new_app.command("pipeline")
def new_pipeline(
    name: str = typer.Argument(..., help="Pipeline name, lower_snake_case; the file is NAME.yaml."),
    directory: Path = typer.Option(Path("."), "--dir", "-d", help=DIR_HELP),
    factor: Optional[str] = typer.Option(None, "--factor", "-f",
                                         help="A factor plugin for the one step (default: built-in f_c and f_stat)."),
) -> None:
    """Write a commented starter pipeline NAME.yaml that passes `jgod validate`."""
    written = write_pipeline(name, directory, factor)
    console.print(f"wrote {written.root}")
    console.print(f"next: jgod validate {written.root} && jgod run {written.root} --out runs/{name}")

