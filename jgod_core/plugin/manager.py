"""Loading plugins: built-ins and third-party distributions through the ``jgod`` entry-point group.

Policy (like pytest and datasette):

- ``JGOD_DISABLE_PLUGIN_AUTOLOAD=1`` loads only the built-ins (distribution ``jgod``) plus the
  modules named in ``JGOD_PLUGINS`` (comma separated);
- ``JGOD_PLUGINS_ALLOW`` / ``JGOD_PLUGINS_BLOCK`` (comma separated entry-point or distribution
  names), merged with the ``plugins:`` section of a pipeline file;
- a misspelt hook implementation (``check_pending``) and a plugin that fails to import are
  errors that name the plugin and its distribution; nothing is swallowed.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import inspect
import os
from dataclasses import dataclass, field
from types import ModuleType
from typing import Iterable, Mapping

import pluggy

from jgod_core.errors import PluginLoadError, RegistryError
from jgod_core.plugin import spec as hookspecs
from jgod_core.plugin.registry import ComponentRegistry, plugin_origin
from jgod_core.plugin.spec import API_VERSION

ENTRY_POINT_GROUP = "jgod"
BUILTIN_DISTRIBUTION = "jgod"

REGISTRATION_HOOK = "jgod_register_components"



def _split_env(value: str | None) -> frozenset[str]:
    return frozenset(p.strip() for p in (value or "").split(",") if p.strip())


@dataclass(frozen=True)
class PluginPolicy:
    """Which plugins may load. Names match entry-point names or distribution names."""

    allow: frozenset[str] = frozenset()
    block: frozenset[str] = frozenset()
    autoload: bool = True
    explicit_modules: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "PluginPolicy":
        """The policy of ``JGOD_PLUGINS_ALLOW`` / ``_BLOCK`` / ``JGOD_DISABLE_PLUGIN_AUTOLOAD`` / ``JGOD_PLUGINS``."""
        env = os.environ if environ is None else environ
        return cls(
            allow=_split_env(env.get("JGOD_PLUGINS_ALLOW")),
            block=_split_env(env.get("JGOD_PLUGINS_BLOCK")),
            autoload=env.get("JGOD_DISABLE_PLUGIN_AUTOLOAD", "").strip().lower() not in {"1", "true", "yes"},
            explicit_modules=tuple(sorted(_split_env(env.get("JGOD_PLUGINS")))),
        )

    def merged(self, allow: Iterable[str] = (), block: Iterable[str] = ()) -> "PluginPolicy":
        """This policy with a config file's lists added."""
        return PluginPolicy(self.allow | set(allow), self.block | set(block), self.autoload, self.explicit_modules)

    def permits(self, entry_point: str, distribution: str) -> bool:
        """Whether a plugin may load: blocked never; built-ins always; others only with autoload
        on and, when an allow-list is set, on it."""
        names = {entry_point, distribution}
        if names & self.block:
            return False
        if distribution == BUILTIN_DISTRIBUTION:
            return True
        if not self.autoload:
            return False
        return not self.allow or bool(names & self.allow)


@dataclass(frozen=True)
class PluginInfo:
    """A loaded plugin: its registered name, the distribution it came from, and its hooks."""

    name: str
    distribution: str
    distribution_version: str
    hooks: tuple[str, ...]


@dataclass
class Kernel:
    """The loaded plugin manager and the component registry built from it."""

    pm: pluggy.PluginManager
    registry: ComponentRegistry
    plugins: list[PluginInfo] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def hook(self) -> pluggy.HookRelay:
        """The plugin manager's hook relay (``kernel.hook.jgod_pretrade_check(...)``)."""
        return self.pm.hook


class JGodPluginManager(pluggy.PluginManager):
    """A pluggy manager that also treats an undecorated ``jgod_*`` function as a hook
    implementation (as pytest does for ``pytest_*``), so a forgotten ``@hookimpl`` or a misspelt
    hook name is an error at ``check_pending()`` instead of being silently ignored."""

    def parse_hookimpl_opts(self, plugin: object, name: str):  # type: ignore[override]
        """Hook options of ``name``: an undecorated ``jgod_*`` function counts as an implementation."""
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith(f"{hookspecs.PROJECT_NAME}_"):
            if inspect.isroutine(getattr(plugin, name, None)):
                return {
                    "wrapper": False, "hookwrapper": False, "optionalhook": False,
                    "tryfirst": False, "trylast": False, "specname": None,
                }
        return opts


def new_plugin_manager() -> pluggy.PluginManager:
    """A plugin manager with J-GOD's hook specifications and no plugin."""
    pm = JGodPluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    seen: set[tuple[str, str]] = set()
    unique = []
    for ep in sorted(eps, key=lambda e: (e.dist.name if e.dist else "", e.name)):
        key = (ep.name, ep.value)
        if key not in seen:
            seen.add(key)
            unique.append(ep)
    return unique


def _origin(name: str, dists: Mapping[str, tuple[str, str]]) -> str:
    return plugin_origin(name, *dists.get(name, ("local", "")))


def _check_pending(pm: pluggy.PluginManager, dists: Mapping[str, tuple[str, str]]) -> None:
    """Every hook implementation must match a hook specification: report all that do not."""
    known = sorted(n for n in dir(hookspecs) if n.startswith(f"{hookspecs.PROJECT_NAME}_"))
    problems = []
    for hook_name in sorted(n for n in dir(pm.hook) if not n.startswith("_")):
        caller = getattr(pm.hook, hook_name)
        if caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            close = difflib.get_close_matches(hook_name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known hooks: {', '.join(known)}"
            problems.append(f"{_origin(impl.plugin_name, dists)} implements unknown hook {hook_name!r}{hint}")
    if problems:
        raise PluginLoadError("\n".join(problems))


def _register(pm: pluggy.PluginManager, obj: object, name: str, dists: Mapping[str, tuple[str, str]]) -> None:
    wanted = getattr(obj, "JGOD_API_VERSION", None)
    if wanted is not None and str(wanted).split(".")[0] != API_VERSION:
        raise PluginLoadError(
            f"{_origin(name, dists)} needs J-GOD plugin API {wanted}, but this kernel offers API {API_VERSION}: "
            f"install a release of the plugin written for API {API_VERSION}"
        )
    try:
        pm.register(obj, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:  # bad hook arguments; registered twice
        reason = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise PluginLoadError(f"{_origin(name, dists)} cannot be registered: {reason}") from exc


def load_plugins(
    policy: PluginPolicy | None = None,
    extra_plugins: Iterable[tuple[str, object]] = (),
) -> Kernel:
    """Import and register the permitted plugins, with an empty registry: what the CLI needs to
    collect plugin commands without importing any component (see :func:`load_kernel`)."""
    policy = policy or PluginPolicy.from_env()
    pm = new_plugin_manager()
    dists: dict[str, tuple[str, str]] = {}
    skipped: list[tuple[str, str, str]] = []

    for ep in _entry_points():
        dist_name = ep.dist.name if ep.dist else "unknown"
        dist_version = ep.dist.version if ep.dist else ""
        if not policy.permits(ep.name, dist_name):
            skipped.append((ep.name, dist_name, "blocked by plugin policy"))
            continue
        dists[ep.name] = (dist_name, dist_version)
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - reported with the plugin's identity, never swallowed
            raise PluginLoadError(
                f"{_origin(ep.name, dists)} failed to import ({ep.value}): {type(exc).__name__}: {exc}"
            ) from exc
        _register(pm, obj, ep.name, dists)

    for module_name in policy.explicit_modules:
        if module_name in dists:
            continue
        if module_name in policy.block:
            skipped.append((module_name, "local", "blocked by plugin policy"))
            continue
        try:
            module: ModuleType = importlib.import_module(module_name)
        except Exception as exc:  # noqa: BLE001
            raise PluginLoadError(
                f"plugin {module_name!r} (named in JGOD_PLUGINS) failed to import: {type(exc).__name__}: {exc}"
            ) from exc
        dists[module_name] = ("local", "")
        _register(pm, module, module_name, dists)

    for name, obj in extra_plugins:
        dists[name] = ("local", "")
        _register(pm, obj, name, dists)

    _check_pending(pm, dists)

    infos = []
    for name, plugin in pm.list_name_plugin():  # registration order: deterministic messages
        dist, version = dists.get(name, ("local", ""))
        hooks = tuple(sorted(c.name for c in pm.get_hookcallers(plugin) or []))
        infos.append(PluginInfo(name, dist, version, hooks))
    infos.sort(key=lambda i: (i.distribution != BUILTIN_DISTRIBUTION, i.name))
    return Kernel(pm=pm, registry=ComponentRegistry(), plugins=infos, skipped=skipped)


def load_kernel(
    policy: PluginPolicy | None = None,
    extra_plugins: Iterable[tuple[str, object]] = (),
) -> Kernel:
    """Build the plugin manager and the component registry.

    ``extra_plugins`` are ``(name, module_or_object)`` pairs registered as plugins of
    distribution ``local``: the door used by tests and notebooks.
    """
    kernel = load_plugins(policy, extra_plugins)
    pm, registry = kernel.pm, kernel.registry
    origins = {info.name: info for info in kernel.plugins}
    for name, plugin in pm.list_name_plugin():  # registration order: deterministic messages
        info = origins[name]
        dist, version = info.distribution, info.distribution_version
        for impl in getattr(pm.hook, REGISTRATION_HOOK).get_hookimpls():
            if impl.plugin is plugin:
                try:
                    impl.function(register=registry.registrar(name, dist, version))
                except PluginLoadError:
                    raise
                except RegistryError as exc:
                    raise PluginLoadError(str(exc)) from exc
                except Exception as exc:  # noqa: BLE001
                    raise PluginLoadError(
                        f"{plugin_origin(name, dist, version)} failed in {REGISTRATION_HOOK}: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
    return kernel
