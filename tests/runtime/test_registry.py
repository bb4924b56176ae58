"""The registry: built-ins, entry points and plugins load the same way (the `@component` contract:
test_component_contract.py)."""

from __future__ import annotations

import sys
import textwrap
import uuid
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from pydantic import BaseModel

from runtime import Component, RunContext, component
from runtime import registry as registry_module
from runtime.builtins import PipelineInput, PipelineOutput
from runtime.registry import ComponentLoadError, Registry, default_registry, plugin_refs_from_env
from runtime.testing.components import Echo

PLUGIN = '''
from pydantic import BaseModel
from runtime import Component, RunContext, component

class Value(BaseModel):
    value: str = ""

@component(id="{id}", version={version}, category="Acme")
class {cls}(Component):
    """An acme component."""
    async def run(self, inputs: Value, ctx: RunContext) -> Value:
        return inputs
'''


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch):
    """Write plugin modules into an importable folder; forget every module they created afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)

    def write(name: str, source: str) -> Path:
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return path

    yield write
    for name in set(sys.modules) - before:
        sys.modules.pop(name, None)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def plugin_source(id: str = "acme.thing", version: int = 1, cls: str = "Thing") -> str:
    return PLUGIN.format(id=id, version=version, cls=cls)


# --- the registry itself -----------------------------------------------------------------------

class Value(BaseModel):
    value: str = ""


@component(id="demo.echo", version=2, category="Utility")
class EchoV2(Component):
    async def run(self, inputs: Value, ctx: RunContext) -> Value:
        return inputs


@component(id="demo.echo", version=1)
class OtherEcho(Component):
    async def run(self, inputs: Value, ctx: RunContext) -> Value:
        return inputs


def test_lookup_by_id_and_version(registry):
    registry.add(EchoV2, source="tests")
    assert registry.get("demo.echo", 1).cls is Echo
    assert registry.get("demo.echo", 2).cls is EchoV2
    assert registry.get("demo.echo").cls is EchoV2          # no version: the newest
    assert registry.get("demo.echo", 3) is None
    assert registry.get("demo.nope") is None
    assert registry.versions("demo.echo") == [1, 2]
    assert "demo.echo" in registry and "demo.nope" not in registry
    assert "io.input" in registry.ids() and registry.ids() == sorted(registry.ids())
    assert len(registry) == len({(i.id, i.version) for i in registry})


def test_iteration_is_by_category_then_id_then_version():
    registry = Registry([PipelineOutput, EchoV2, Echo, PipelineInput])
    assert [(i.category, i.id, i.version) for i in registry] == [
        ("Inputs & outputs", "io.input", 1), ("Inputs & outputs", "io.output", 1),
        ("Utility", "demo.echo", 1), ("Utility", "demo.echo", 2)]


def test_adding_the_same_class_twice_is_harmless():
    registry = Registry([Echo])
    registry.add(Echo)
    assert len(registry) == 1


def test_a_duplicate_id_names_both_classes_and_sources():
    registry = Registry([Echo], source="runtime.testing")
    with pytest.raises(ComponentLoadError) as caught:
        registry.add(OtherEcho, source="plugin `other.py`")
    assert str(caught.value) == (
        "Duplicate component `demo.echo` v1: defined by `runtime.testing.components.Echo` (from runtime.testing) and "
        f"by `{OtherEcho.__module__}.OtherEcho` (from plugin `other.py`). Give one of them another id or version.")
    assert registry.get("demo.echo", 1).cls is Echo  # the first one stays


def test_an_undecorated_class_is_refused():
    class Plain(Component):
        async def run(self, inputs: Value, ctx: RunContext) -> Value:
            return inputs

    with pytest.raises(ComponentLoadError) as caught:
        Registry().add(Plain, source="plugin `p.py`")
    assert str(caught.value) == ("`test_an_undecorated_class_is_refused.<locals>.Plain` from plugin `p.py` is not a "
                                 "registered component. Decorate it with `@component(id=..., version=...)`.")


def test_a_subclass_of_a_component_needs_its_own_decorator():
    class Louder(Echo):
        pass

    with pytest.raises(ComponentLoadError, match="is not a registered component"):
        Registry().add(Louder)


# --- plugins -----------------------------------------------------------------------------------

def test_a_plugin_loads_from_a_file_path(plugins):
    path = plugins(unique("acme"), plugin_source())
    registry = Registry()
    registry.load_plugin(str(path))
    assert registry.problems == []
    info = registry.get("acme.thing", 1)
    assert info is not None and info.cls.__name__ == "Thing"
    assert info.source == f"plugin `{path}`"
    assert info.description == "An acme component."


def test_a_plugin_loads_from_a_module_name(plugins):
    name = unique("acme_mod")
    plugins(name, plugin_source())
    registry = Registry()
    registry.load_plugin(name)
    assert registry.problems == []
    assert registry.get("acme.thing").source == f"plugin `{name}`"


def test_a_plugin_named_twice_loads_once(plugins):
    path = plugins(unique("acme"), plugin_source())
    registry = Registry()
    registry.load_plugin(str(path))
    registry.load_plugin(str(path))
    assert registry.problems == []
    assert registry.ids() == ["acme.thing"]


def test_components_imported_into_a_plugin_are_not_its_own(plugins):
    path = plugins(unique("reexport"), "from runtime.testing.components import Echo\n" + plugin_source())
    registry = Registry([Echo])
    registry.load_plugin(str(path))
    assert registry.problems == []
    assert registry.ids() == ["acme.thing", "demo.echo"]


@pytest.mark.parametrize(("body", "error"), [
    ("import definitely_not_installed_xyz\n", "ModuleNotFoundError: No module named 'definitely_not_installed_xyz'"),
    ("x = 1 / 0\n", "ZeroDivisionError: division by zero"),
    ("def broken(:\n", "SyntaxError: invalid syntax"),
    ("raise SystemExit(3)\n", "SystemExit: 3"),
], ids=["missing-import", "raises", "syntax-error", "sys-exit"])
def test_a_plugin_that_fails_to_import_is_reported_with_its_error(plugins, body: str, error: str):
    path = plugins(unique("broken"), body)
    registry = Registry([Echo])
    registry.load_plugin(str(path))
    assert len(registry.problems) == 1
    problem = registry.problems[0]
    assert problem.source == f"plugin `{path}`"
    assert problem.message.startswith(f"plugin `{path}` failed to load: {error}")
    assert str(path) in problem.detail  # the traceback points into the plugin file
    assert registry.ids() == ["demo.echo"]  # the registry still works


def test_a_plugin_with_a_broken_component_reports_the_decorators_fix(plugins):
    path = plugins(unique("badhint"), '''
        from pydantic import BaseModel
        from runtime import Component, RunContext, component

        class Value(BaseModel):
            value: str = ""

        @component(id="acme.bad", version=1)
        class Bad(Component):
            async def run(self, inputs: str, ctx: RunContext) -> Value:
                return Value()
        ''')
    registry = Registry()
    registry.load_plugin(str(path))
    assert [p.message for p in registry.problems] == [
        f"plugin `{path}` failed to load: ComponentDefinitionError: Component `Bad`: the `inputs` parameter of `run` "
        "must be annotated with a pydantic BaseModel subclass, got `str`. Fix: `async def run(self, inputs: "
        "BadInputs, ctx: RunContext) -> BadOutputs`."]


def test_a_plugin_without_components_is_reported(plugins):
    path = plugins(unique("empty"), "X = 1\n")
    registry = Registry()
    registry.load_plugin(str(path))
    assert [p.message for p in registry.problems] == [f"plugin `{path}` defines no `@component` classes."]


def test_a_missing_plugin_file_is_reported():
    registry = Registry()
    registry.load_plugin("plugins/nope.py")
    assert [p.message for p in registry.problems] == ["plugin `plugins/nope.py`: no such file."]


def test_a_missing_plugin_module_is_reported():
    registry = Registry()
    registry.load_plugin("no_such_plugin_module_xyz")
    assert [p.message for p in registry.problems] == [
        "plugin `no_such_plugin_module_xyz` failed to load: ModuleNotFoundError: "
        "No module named 'no_such_plugin_module_xyz'"]


def test_a_plugin_duplicating_an_installed_id_names_both_sources(plugins):
    path = plugins(unique("dup"), plugin_source(id="demo.echo", cls="Clash") + plugin_source(cls="Fine"))
    registry = Registry([Echo], source="runtime.testing")
    registry.load_plugin(str(path))
    assert [p.message for p in registry.problems] == [
        "Duplicate component `demo.echo` v1: defined by `runtime.testing.components.Echo` (from runtime.testing) and "
        f"by `{path}:Clash` (from plugin `{path}`). Give one of them another id or version."]
    assert registry.get("acme.thing") is not None  # the plugin's other component still loads
    assert registry.get("demo.echo").cls is Echo


def test_two_plugins_with_the_same_id_name_both(plugins):
    first = plugins(unique("one"), plugin_source())
    second_name = unique("two")
    plugins(second_name, plugin_source())
    registry = Registry()
    registry.load_plugin(str(first))
    registry.load_plugin(second_name)
    assert [p.message for p in registry.problems] == [
        f"Duplicate component `acme.thing` v1: defined by `{first}:Thing` (from plugin `{first}`) and by "
        f"`{second_name}.Thing` (from plugin `{second_name}`). Give one of them another id or version."]


# --- entry points --------------------------------------------------------------------------------

def fake_entry_points(monkeypatch, *specs: tuple[str, str]) -> None:
    eps = [EntryPoint(name=name, value=value, group=registry_module.ENTRY_POINT_GROUP) for name, value in specs]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [ep for ep in eps if ep.group == group])


def test_entry_points_load_modules_lists_and_factories(monkeypatch):
    fake_entry_points(monkeypatch, ("builtins", "runtime.builtins"),
                      ("samples", "runtime.testing.components:SAMPLE_COMPONENTS"),
                      ("one", "tests_factory_does_not_exist:x"))
    registry = Registry()
    registry.load_entry_points()
    assert {"io.input", "io.output", "demo.echo", "demo.concat"} <= set(registry.ids())
    assert registry.get("io.input").source == "entry point `builtins` (runtime.builtins)"
    assert [p.message for p in registry.problems] == [
        "entry point `one` (tests_factory_does_not_exist:x) failed to load: ModuleNotFoundError: "
        "No module named 'tests_factory_does_not_exist'"]


def test_an_entry_point_to_something_else_is_reported_with_its_source(monkeypatch):
    fake_entry_points(monkeypatch, ("weird", "runtime.registry:ENTRY_POINT_GROUP"))
    registry = Registry()
    registry.load_entry_points()
    assert [p.message for p in registry.problems] == [
        "entry point `weird` (runtime.registry:ENTRY_POINT_GROUP): expected a module, a component class or a list "
        "of them, got 'patchwire.components'."]


def test_plugin_refs_from_env(monkeypatch):
    monkeypatch.setenv("PATCHWIRE_PLUGINS", "a.py: :my_pkg.components::b.py")
    assert plugin_refs_from_env() == ["a.py", "my_pkg.components", "b.py"]


def test_default_registry_adds_env_and_explicit_plugins(monkeypatch, plugins):
    fake_entry_points(monkeypatch, ("builtins", "runtime.builtins"))
    env_plugin = plugins(unique("envp"), plugin_source(id="acme.env"))
    arg_plugin = plugins(unique("argp"), plugin_source(id="acme.arg"))
    monkeypatch.setenv("PATCHWIRE_PLUGINS", str(env_plugin))
    registry = default_registry([str(arg_plugin)], fresh=True)
    assert registry.problems == []
    # flow.subflow / flow.map / flow.loop are part of the spec language: always there, like io.*
    assert set(registry.ids()) == {"io.input", "io.output", "acme.env", "acme.arg", "flow.subflow", "flow.map",
                                   "flow.loop"}
    assert default_registry([str(arg_plugin)]) is registry  # cached per plugin list
