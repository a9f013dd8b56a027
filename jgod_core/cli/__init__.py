"""The ``jgod`` command line. User mistakes print located messages, never tracebacks.

Exit codes: 0 success, 1 invalid input or failed run, 2 usage error.
Sub-command groups of other areas register themselves through ``register(app)`` functions
listed in ``_COMMAND_GROUPS``.
"""

from __future__ import annotations

import functools
import importlib
import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from jgod_core.config.diagnostics import Diagnostic
from jgod_core.errors import JGodError

app = typer.Typer(
    name="jgod",
    help="J-GOD: a declarative rules-and-plugins quant-trading engine for the Taiwan market.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
plugins_app = typer.Typer(help="List installed plugins and their components.", invoke_without_command=True)
app.add_typer(plugins_app, name="plugins")

console = Console()
err_console = Console(stderr=True)

DEFAULT_SCHEMA_PATH = Path("schemas/pipeline.schema.json")


def _kernel():
    from jgod_core.plugin.manager import load_kernel

    return load_kernel()


def print_diagnostics(diags: list[Diagnostic], fmt: str, sources: dict[str, str]) -> None:
    """Print ``diags`` as JSON, or each as ``path:line:col: error: loc: message`` with its source line and a caret."""
    if fmt == "json":
        print(json.dumps([d.to_json() for d in diags], ensure_ascii=False, indent=1))
        return
    for d in diags:
        lines = sources.get(d.path, "").splitlines()
        line = lines[d.line - 1] if 0 < d.line <= len(lines) else None
        print(d.format_human(line), file=sys.stdout)


@app.command()
def validate(
    files: List[Path] = typer.Argument(..., help="Pipeline files to check."),
    format: str = typer.Option("human", "--format", "-f", help="human | json"),
) -> None:
    """Check pipeline files: every problem, as path:line:col: error: message."""
    from jgod_core.config.validate import validate_file
    from jgod_core.plugin.manager import PluginPolicy, load_kernel

    _check_format(format)
    # One kernel per plugin policy (a file's `plugins:` allow/block lists change it).
    kernel_for_policy = functools.lru_cache(maxsize=None)(load_kernel)
    kernel_for_policy(PluginPolicy.from_env())  # a broken plugin is reported even with no file to check
    all_diags: list[Diagnostic] = []
    sources: dict[str, str] = {}
    for path in files:
        _, diags = validate_file(path, kernel_for_policy)
        try:
            sources[str(path)] = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            sources[str(path)] = ""
        all_diags.extend(diags)
    print_diagnostics(all_diags, format, sources)
    errors = sum(d.is_error for d in all_diags)
    if format == "human":
        if errors:
            err_console.print(f"[red]{errors} error(s)[/red] in {len(files)} file(s)")
        else:
            err_console.print(f"[green]ok[/green]: {len(files)} file(s) valid")
    raise typer.Exit(1 if errors else 0)


def _check_format(fmt: str) -> None:
    if fmt not in {"human", "json"}:
        err_console.print("error: --format must be 'human' or 'json'")
        raise typer.Exit(2)


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1, default=str))


@plugins_app.callback()
def plugins_list(
    ctx: typer.Context,
    format: str = typer.Option("human", "--format", "-f", help="human | json"),
) -> None:
    """List every plugin (distribution, version, hooks) and component (kind, name, version)."""
    if ctx.invoked_subcommand is not None:
        return
    from jgod_core.config.introspect import component_rows, plugin_rows

    _check_format(format)
    kernel = _kernel()
    plugins, components = plugin_rows(kernel), component_rows(kernel)
    skipped = [{"plugin": n, "distribution": d, "reason": why} for n, d, why in kernel.skipped]
    if format == "json":
        _print_json({"plugins": plugins, "components": components, "skipped": skipped})
        return
    table = Table(title=f"{len(plugins)} plugins")
    for col in ("plugin", "distribution", "version", "hooks implemented"):
        table.add_column(col, overflow="fold")
    for p in plugins:
        table.add_row(p["plugin"], p["distribution"], p["distribution_version"], ", ".join(p["hooks"]))
    console.print(table)
    table = Table(title=f"{len(components)} components")
    for col in ("kind", "name", "version", "plugin", "distribution", "summary"):
        table.add_column(col, overflow="fold")
    for c in components:
        dist = f"{c['distribution']} {c['distribution_version']}".strip()
        table.add_row(c["kind"], c["name"], c["version"], c["plugin"], dist, c["summary"])
    console.print(table)
    for s in skipped:
        console.print(f"skipped plugin {s['plugin']!r} ({s['distribution']}): {s['reason']}")


@plugins_app.command("show")
def plugins_show(
    name: str = typer.Argument(..., help="Component name."),
    format: str = typer.Option("human", "--format", "-f", help="human | json"),
) -> None:
    """Show one component: its docs, data needs, phases, warm-up and params with defaults and bounds."""
    from jgod_core.config.introspect import component_detail

    _check_format(format)
    kernel = _kernel()
    entries = kernel.registry.find(name)
    if not entries:
        hint = kernel.registry.suggest(name)
        err_console.print(f"error: no component named {name!r}" + (f"; did you mean {hint!r}?" if hint else ""))
        raise typer.Exit(1)
    details = [component_detail(e) for e in entries]
    if format == "json":
        _print_json(details)
        return
    for d in details:
        dist = f"{d['distribution']} {d['distribution_version']}".strip()
        console.print(f"[bold]{d['name']}[/bold]  {d['kind']} {d['version']}  from {d['plugin']} ({dist})",
                      highlight=False)
        console.print(d["doc"], highlight=False)
        console.print(f"needs: {', '.join(d['requires']) or '-'}")
        console.print(f"phases: {', '.join(d['phases'])}")
        if d["warmup_days"] is not None:
            console.print(f"warm-up (default params): {d['warmup_days']} trading days")
        table = Table(title="params")
        for col in ("name", "type", "default", "bounds", "description"):
            table.add_column(col, overflow="fold")
        for p in d["params"]:
            default = "required" if p["required"] else repr(p["default"])
            bounds = ", ".join(f"{k} {v}" for k, v in p["bounds"].items())
            table.add_row(p["name"], p["type"], default, bounds, p["description"])
        console.print(table)


@app.command()
def schema(
    out: Path = typer.Option(DEFAULT_SCHEMA_PATH, "--out", "-o", help="Where to write the schema."),
    check: bool = typer.Option(False, "--check", help="Exit 1 if the file differs from a fresh export."),
) -> None:
    """Write the JSON Schema (2020-12) of pipeline files, with every installed plugin's params."""
    from jgod_core.config.schema import render_schema

    text = render_schema(_kernel())
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            err_console.print(f"error: {out} is stale; run `jgod schema`{_schema_component_drift(current, text)}")
            raise typer.Exit(1)
        console.print(f"{out} is up to date")
        return
    from jgod_core.storage.files import atomic_write_text

    atomic_write_text(out, text)
    console.print(f"wrote {out}")


def _schema_component_drift(current: str, fresh: str) -> str:
    """Why a schema differs when the cause is the installed plugin set (not a params change):
    the components only the file has, or only the installation has."""
    def components(text: str) -> set[str]:
        try:
            defs = json.loads(text).get("$defs", {})
        except (ValueError, AttributeError):
            return set()
        return {key.removesuffix(".params").replace(".", " ", 1) for key in defs if key.endswith(".params")}

    in_file, installed = components(current), components(fresh)
    if not in_file:
        return ""
    parts = []
    if in_file - installed:
        parts.append(f"in the file but not installed: {', '.join(sorted(in_file - installed))} "
                     "(install that plugin, e.g. `python -m pip install -e examples/jgod-example-momentum`, "
                     "before regenerating, or the regenerated file drops it)")
    if installed - in_file:
        parts.append(f"installed but not in the file: {', '.join(sorted(installed - in_file))}")
    return "".join(f"\n  {part}" for part in parts)


def check_out_dir(out: Path, flag: str = "--out") -> None:
    """Refuse an output directory that cannot be one, before any work is done."""
    if out.exists() and not out.is_dir():
        raise JGodError(f"{flag} {out} is an existing file, not a directory; give a directory")


def _load_or_exit(pipeline_path: Path):
    from jgod_core.config.validate import validate_file

    pipeline, diags = validate_file(pipeline_path)
    source = pipeline_path.read_text(encoding="utf-8", errors="replace") if pipeline_path.is_file() else ""
    if pipeline is None:
        print_diagnostics(diags, "human", {str(pipeline_path): source})
        raise typer.Exit(1)
    print_diagnostics(diags, "human", {str(pipeline_path): source})
    return pipeline


def print_plan(pipeline) -> None:
    """Print the assembled pipeline's steps (slot, step, kind, component, data needed) as a table."""
    table = Table(title=f"pipeline {pipeline.config.name} ({pipeline.sha256[:12]})")
    for col in ("slot", "step", "kind", "component", "needs"):
        table.add_column(col)
    for row in pipeline.describe():
        table.add_row(*row)
    console.print(table)


@app.command()
def run(
    pipeline_path: Path = typer.Argument(..., metavar="PIPELINE", help="Pipeline file."),
    out: Path = typer.Option(Path("runs/latest"), "--out", "-o", help="Output directory."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and print the plan; run nothing."),
) -> None:
    """Run a pipeline on the store (the embedded real sample by default) and write the report."""
    check_out_dir(out)
    pipeline = _load_or_exit(pipeline_path)
    print_plan(pipeline)
    if dry_run:
        return
    runner = importlib.import_module("jgod_core.pipeline.runner")
    runner.run_cli(pipeline, out, console)


# Sub-command groups contributed by other areas of the kernel (data, paper trading, realtime).
_COMMAND_GROUPS: tuple[str, ...] = ("jgod_core.cli.data", "jgod_core.cli.realtime", "jgod_core.cli.trading",
                                     "jgod_core.cli.new")


#: Hook implementations of ``jgod_register_commands`` already called in this process (the app is global).
_COMMANDS_REGISTERED: set[tuple[str, object]] = set()
#: Why plugin commands are missing: the plugins could not be loaded (reported by the commands that need them).
_plugin_commands_error: Optional[str] = None


def _register_groups() -> None:
    """Add the kernel's command groups, then every plugin's commands (``jgod_register_commands``)."""
    for module_name in _COMMAND_GROUPS:
        importlib.import_module(module_name).register(app)
    _register_plugin_commands()


def _register_plugin_commands() -> None:
    """Call each plugin's ``jgod_register_commands(app)`` once; one that raises is an error naming the
    plugin. Plugins that cannot be loaded add no command: the commands that load them report why."""
    global _plugin_commands_error
    from jgod_core.errors import PluginLoadError
    from jgod_core.plugin.manager import load_plugins
    from jgod_core.plugin.registry import plugin_origin

    try:
        kernel = load_plugins()  # plugins only: collecting commands imports no component
    except PluginLoadError as exc:
        _plugin_commands_error = str(exc)
        return
    _plugin_commands_error = None
    origins = {p.name: p for p in kernel.plugins}
    for impl in kernel.pm.hook.jgod_register_commands.get_hookimpls():
        key = (impl.plugin_name, impl.function)
        if key in _COMMANDS_REGISTERED:
            continue
        try:
            impl.function(app=app)
        except Exception as exc:  # noqa: BLE001 - reported with the plugin's identity
            info = origins.get(impl.plugin_name)
            origin = plugin_origin(impl.plugin_name, *((info.distribution, info.distribution_version) if info else ()))
            raise PluginLoadError(f"{origin} failed in jgod_register_commands: {type(exc).__name__}: {exc}") from exc
        _COMMANDS_REGISTERED.add(key)


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the ``jgod`` script."""
    try:
        _register_groups()
        # standalone_mode=False: click returns the code of a raised Exit instead of exiting.
        code = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:  # click usage errors in standalone_mode=False surface here
        return int(exc.code or 0)
    except JGodError as exc:
        from rich.markup import escape

        err_console.print(f"[red]error[/red]: {escape(str(exc))}")  # a message may hold "[postgres]"
        return 1
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        return 130
    except Exception as exc:  # click usage errors: typer >= 0.26 vendors click, so match by shape
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            if _plugin_commands_error is not None:
                err_console.print(f"note: the commands of plugins are unavailable: {_plugin_commands_error}",
                                  markup=False)
            return exc.exit_code
        raise
    return code if isinstance(code, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
