"""Which components exist: built-ins, the catalog and plugins all load the same way.

An entry point in group `patchwire.components` (or a `--plugin`/`PATCHWIRE_PLUGINS` item)
names a module, a component class, a list of classes, or a function returning them.
A module contributes every `@component` class defined in it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from .component import Component, ComponentInfo

__all__ = ["Registry", "ComponentLoadError", "LoadProblem", "default_registry", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "patchwire.components"


class ComponentLoadError(Exception):
    """A component or plugin could not be registered."""


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """A plugin that failed to load (shown greyed out in the palette, printed by the CLI)."""

    source: str
    message: str
    detail: str = ""


class Registry:
    """Component classes by (id, version). `generation` counts changes, so compiled plans know when
    a component was added after them."""

    def __init__(self, components: Iterable[type[Component]] = (), *, source: str = "explicit"):
        self._by_key: dict[tuple[str, int], ComponentInfo] = {}
        self.generation = 0
        self.problems: list[LoadProblem] = []
        self._plugins: set[str] = set()  # loaded refs: a plugin named twice loads once
        for cls in components:
            self.add(cls, source=source)

    def add(self, cls: type[Component], *, source: str = "explicit") -> ComponentInfo:
        info = getattr(cls, "info", None)
        if not isinstance(info, ComponentInfo) or info.cls is not cls:
            raise ComponentLoadError(
                f"`{getattr(cls, '__qualname__', cls)}` from {source} is not a registered component. "
                "Decorate it with `@component(id=..., version=...)`.")
        existing = self._by_key.get(info.key)
        if existing is not None and existing.cls is not cls:
            raise ComponentLoadError(
                f"Duplicate component `{info.id}` v{info.version}: defined by "
                f"`{_qualname(existing.cls)}` (from {existing.source}) and by `{_qualname(cls)}` (from {source}). "
                "Give one of them another id or version.")
        info.source = source
        if existing is None:
            self.generation += 1
        self._by_key[info.key] = info
        return info

    def get(self, component_id: str, version: int | None = None) -> ComponentInfo | None:
        if version is not None:
            return self._by_key.get((component_id, version))
        versions = self.versions(component_id)
        return self._by_key[(component_id, versions[-1])] if versions else None

    def versions(self, component_id: str) -> list[int]:
        return sorted(v for (cid, v) in self._by_key if cid == component_id)

    def __contains__(self, component_id: str) -> bool:
        return bool(self.versions(component_id))

    def __iter__(self):
        return iter(sorted(self._by_key.values(), key=lambda i: (i.category, i.id, i.version)))

    def __len__(self) -> int:
        return len(self._by_key)

    def ids(self) -> list[str]:
        return sorted({cid for cid, _ in self._by_key})

    # --- loading -----------------------------------------------------------------------------
    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        for ep in sorted(entry_points(group=group), key=lambda e: e.name):
            source = f"entry point `{ep.name}` ({ep.value})"
            try:
                self._add_all(_classes_from(ep.load()), source)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - reported, never swallowed (nor exiting)
                self._problem(source, exc)

    def load_plugin(self, ref: str) -> None:
        """Load a plugin file (`path/to/plugin.py`) or module (`my_pkg.components`)."""
        source = f"plugin `{ref}`"
        key = str(Path(ref).resolve()) if Path(ref).is_file() else ref
        if key in self._plugins:
            return
        self._plugins.add(key)
        try:
            module = _import_plugin(ref)
            self._add_all(_classes_from(module), source)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - reported, never swallowed (nor exiting)
            self._problem(source, exc)

    def _add_all(self, classes: list[type[Component]], source: str) -> None:
        if not classes:
            raise ComponentLoadError(f"{source} defines no `@component` classes.")
        errors = []
        for cls in classes:
            try:
                self.add(cls, source=source)
            except ComponentLoadError as exc:
                errors.append(str(exc))
        if errors:
            raise ComponentLoadError("; ".join(errors))

    def _problem(self, source: str, exc: BaseException) -> None:
        if isinstance(exc, ComponentLoadError):
            message = str(exc) if source in str(exc) else f"{source}: {exc}"
        else:
            message = f"{source} failed to load: {type(exc).__name__}: {exc}"
        detail = "".join(traceback.format_exception(exc, limit=-4))
        self.problems.append(LoadProblem(source=source, message=message, detail=detail))


def _qualname(cls: type) -> str:
    file = getattr(sys.modules.get(cls.__module__), "__file__", None)
    if cls.__module__.startswith(_FILE_PLUGIN_PREFIX) and file:
        return f"{file}:{cls.__qualname__}"  # not the generated module name
    return f"{cls.__module__}.{cls.__qualname__}"


_FILE_PLUGIN_PREFIX = "patchwire_plugin_"


def _import_plugin(ref: str) -> ModuleType:
    path = Path(ref)
    if ref.endswith(".py") or path.is_file():
        if not path.is_file():
            raise ComponentLoadError(f"plugin `{ref}`: no such file.")
        name = f"{_FILE_PLUGIN_PREFIX}{path.stem}_{abs(hash(str(path.resolve()))) % 10**8}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ComponentLoadError(f"plugin `{ref}`: cannot be imported as a Python file.")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module
    return importlib.import_module(ref)


def _classes_from(obj: Any) -> list[type[Component]]:
    if isinstance(obj, ModuleType):
        return [v for v in vars(obj).values()
                if isinstance(v, type) and issubclass(v, Component) and v.__module__ == obj.__name__
                and "info" in v.__dict__]
    if isinstance(obj, type):
        return [obj]  # a non-component class is refused by `Registry.add` with the fix
    if callable(obj):
        obj = obj()
    if isinstance(obj, list | tuple):
        return list(obj)
    raise ComponentLoadError(f"expected a module, a component class or a list of them, got {obj!r}.")


def plugin_refs_from_env() -> list[str]:
    """`PATCHWIRE_PLUGINS`: plugin paths or module names separated by `:`."""
    raw = os.environ.get("PATCHWIRE_PLUGINS", "")
    return [item for item in raw.split(":") if item.strip()]


def default_registry(plugins: Sequence[str] = (), *, fresh: bool = False) -> Registry:
    """Entry points plus `PATCHWIRE_PLUGINS` plus `plugins`; cached per plugin list unless `fresh`."""
    key = (tuple(plugins), os.environ.get("PATCHWIRE_PLUGINS", ""))
    if not fresh and key in _DEFAULT_CACHE:
        return _DEFAULT_CACHE[key]
    registry = Registry()
    registry.load_entry_points()
    for ref in [*plugin_refs_from_env(), *plugins]:
        registry.load_plugin(ref)
    _DEFAULT_CACHE[key] = registry
    return registry


_DEFAULT_CACHE: dict[tuple, Registry] = {}
