"""The component registry: ``(kind, name)`` → component class, params model, distribution, version."""

from __future__ import annotations

import difflib
import inspect
import re
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterator

from jgod_core.errors import RegistryError
from jgod_core.plugin.components import BASE_CLASS_BY_KIND, Component, ComponentKind, Params

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class ComponentEntry:
    """One registered component and where it came from."""

    kind: ComponentKind
    name: str
    cls: type[Component]
    plugin: str
    distribution: str
    distribution_version: str

    @property
    def version(self) -> str:
        """The component's own version (``cls.version``)."""
        return self.cls.version

    @property
    def params_model(self) -> type[Params]:
        """The component's params model (``cls.Params``)."""
        return self.cls.Params


@dataclass
class ComponentRegistry:
    """Maps ``(kind, name)`` to a :class:`ComponentEntry`. Names are unique per kind."""

    _entries: dict[tuple[ComponentKind, str], ComponentEntry] = field(default_factory=dict)

    def registrar(
        self, plugin: str, distribution: str, distribution_version: str
    ) -> Callable[[type[Component]], None]:
        """Return the ``register`` callable handed to one plugin's ``jgod_register_components``.

        ``register(cls)`` files ``cls`` under the kind of the base class it subclasses
        (:class:`jgod_core.Factor` → factor, :class:`jgod_core.Broker` → broker, ...)."""

        def register(cls: type[Component]) -> None:
            self.add(kind_of(cls, plugin, distribution), cls, plugin, distribution, distribution_version)

        return register

    def add(
        self,
        kind: ComponentKind,
        cls: type[Component],
        plugin: str,
        distribution: str = "",
        distribution_version: str = "",
    ) -> None:
        """Register ``cls`` as a ``kind`` contributed by ``plugin``; a :class:`RegistryError` when it
        does not subclass the kind's base, lacks a snake_case ``name`` or a ``Params`` model, or
        its ``(kind, name)`` is taken."""
        base = BASE_CLASS_BY_KIND[kind]
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise RegistryError(
                f"plugin {plugin!r} registered {cls!r} as a {kind.value}, "
                f"but it does not subclass jgod_core.{base.__name__}"
            )
        missing = cls.contract_problems()
        if missing:
            raise RegistryError(
                f"{where_defined(cls)}: error: {plugin_origin(plugin, distribution, distribution_version)} registered "
                f"{cls.__name__} as a {kind.value}, but it breaks the jgod_core.{base.__name__} contract: "
                + "; ".join(missing)
            )
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise RegistryError(
                f"plugin {plugin!r}: {cls.__name__}.name must be a lower_snake_case string, got {name!r}"
            )
        params = getattr(cls, "Params", None)
        if not (isinstance(params, type) and issubclass(params, Params)):
            raise RegistryError(f"plugin {plugin!r}: {cls.__name__}.Params must subclass jgod_core.Params")
        key = (kind, name)
        if key in self._entries:
            other = self._entries[key]
            raise RegistryError(
                f"{kind.value} {name!r} is registered twice: by {other.plugin!r} "
                f"({other.distribution or 'local'}) and by {plugin!r} ({distribution or 'local'})"
            )
        self._entries[key] = ComponentEntry(kind, name, cls, plugin, distribution, distribution_version)

    def get(self, kind: ComponentKind, name: str) -> ComponentEntry | None:
        """The entry registered as ``(kind, name)``, or None."""
        return self._entries.get((kind, name))

    def find(self, name: str) -> list[ComponentEntry]:
        """Every entry called ``name``, whatever its kind."""
        return [e for (k, n), e in self._entries.items() if n == name]

    def names(self, kind: ComponentKind | None = None) -> list[str]:
        """Registered names (of ``kind`` when given), sorted."""
        return sorted(n for (k, n) in self._entries if kind is None or k == kind)

    def suggest(self, name: str, kind: ComponentKind | None = None) -> str | None:
        """The closest registered name, for a did-you-mean hint."""
        match = difflib.get_close_matches(name, self.names(kind), n=1, cutoff=0.6)
        return match[0] if match else None

    def __iter__(self) -> Iterator[ComponentEntry]:
        return iter(sorted(self._entries.values(), key=lambda e: (e.kind.value, e.name)))

    def __len__(self) -> int:
        return len(self._entries)


def plugin_origin(plugin: str, distribution: str = "", version: str = "") -> str:
    """``plugin 'x' (distribution 'd' 1.0)``: how every load error names a plugin."""
    return f"plugin {plugin!r} (distribution {distribution or 'local'!r}{' ' + version if version else ''})"


def where_defined(cls: type) -> str:
    """``file:line`` of a class's definition (``<unknown>`` when it has no source file)."""
    try:
        return f"{inspect.getsourcefile(cls)}:{inspect.getsourcelines(cls)[1]}"
    except (OSError, TypeError):  # built at run time (``type(...)``): the module's file at least
        module_file = getattr(sys.modules.get(cls.__module__), "__file__", None)
        return module_file or f"<{cls.__module__}>"


def kind_of(cls: object, plugin: str, distribution: str = "") -> ComponentKind:
    """The component kind of a registered class: that of the kernel base class it subclasses."""
    if isinstance(cls, type):
        for kind, base in BASE_CLASS_BY_KIND.items():
            if issubclass(cls, base):
                return kind
    bases = ", ".join(f"jgod_core.{b.__name__}" for b in BASE_CLASS_BY_KIND.values())
    raise RegistryError(
        f"{plugin_origin(plugin, distribution)} registered {cls!r}, which subclasses no component base class "
        f"(one of {bases})"
    )
