"""The generated module's text: docstring, imports, inputs, components, `run_pipeline`, helpers, `main`."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterable
from typing import Any

from .flow_prelude import FLOW_HELPERS
from .graph import RESERVED_NAMES, Program, Source, Step, subflow_function
from .prelude import HELPERS, MAIN
from .render import WIDTH, Group, call, kwargs_call, literal, render

__all__ = ["emit_module", "CodegenError"]

FILE_PLUGIN_PREFIX = "patchwire_plugin_"
STDLIB = ["argparse", "asyncio", "fnmatch", "json", "os", "sys", "uuid"]


class CodegenError(Exception):
    """The spec cannot be written as plain Python (e.g. a component class that cannot be imported)."""


class Imports:
    """Where each class comes from, and the name the module gives it (aliased on a clash)."""

    def __init__(self, taken: Iterable[str]):
        self.flows = False  # the module runs subflows: it imports the loop's condition test
        self.taken = set(taken)
        self.names: dict[type, str] = {}
        self.modules: dict[str, list[tuple[str, str]]] = {}  # module -> [(qualname, local name)]
        self.files: dict[str, str] = {}  # plugin file path -> module variable

    def name(self, cls: type, node_id: str) -> str | None:
        """The local name of `cls`, or None when it cannot be imported by name (built at run time)."""
        if cls in self.names:
            return self.names[cls]
        where = _import_path(cls)
        if where is None:
            return None
        module, qualname = where
        local = qualname.split(".")[0]
        base, n = local, 2
        while local in self.taken:
            local, n = f"{base}{n}", n + 1
        self.taken.add(local)
        if module.startswith(FILE_PLUGIN_PREFIX):
            path = getattr(sys.modules.get(module), "__file__", None)
            if not path:
                raise CodegenError(f"Node `{node_id}`: component class `{qualname}` comes from a plugin file "
                                   "that is no longer on disk. Keep the plugin file next to the spec.")
            self.files.setdefault(path, f"_plugin_{len(self.files) + 1}")
        self.modules.setdefault(module, []).append((qualname, local))
        self.names[cls] = local if "." not in qualname else local + qualname[len(qualname.split(".")[0]):]
        return self.names[cls]

    def lines(self) -> list[str]:
        out = [f"import {m}" for m in STDLIB] + ["from typing import Any", ""]
        packages = {m: names for m, names in self.modules.items() if not m.startswith(FILE_PLUGIN_PREFIX)}
        packages.setdefault("runtime", []).append(("RunContext", "RunContext"))
        packages.setdefault("pydantic_core", []).append(("to_jsonable_python", "to_jsonable_python"))
        if self.flows:
            packages.setdefault("runtime.flow.until", []).extend([("Until", "Until"), ("holds", "holds")])
        for module in sorted(packages):
            parts = sorted({q.split(".")[0] if q.split(".")[0] == local else f"{q.split('.')[0]} as {local}"
                            for q, local in packages[module]})
            line = f"from {module} import {', '.join(parts)}"
            out.append(line if len(line) <= WIDTH else render(Group(f"from {module} import (", tuple(parts), ")")))
        return out

    def file_lines(self) -> list[str]:
        if not self.files:
            return []
        out = ["", "", "# Components from plugin files (not in an installed package), imported by path."]
        by_file = {path: var for path, var in self.files.items()}
        for module, names in self.modules.items():
            if module.startswith(FILE_PLUGIN_PREFIX):
                var = by_file[sys.modules[module].__file__]  # type: ignore[index]
                load = call("load_plugin_file", literal(sys.modules[module].__file__))
                out += [f"{var} = " + render(load, 0, len(var) + 3)]
                out += [f"{local} = {var}.{q.split('.')[0]}" for q, local in names]
        return out


def _import_path(cls: type) -> tuple[str, str] | None:
    module, qualname = cls.__module__, cls.__qualname__
    if "<locals>" in qualname or module == "__main__":
        return None
    try:
        obj: Any = importlib.import_module(module) if not module.startswith(FILE_PLUGIN_PREFIX) else \
            sys.modules[module]
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, KeyError):
        return None
    return (module, qualname) if obj is cls else None


def emit_module(program: Program, *, source: str, digest: str, node_names: set[str],
                script: str = "pipeline.py") -> str:
    imports = Imports(RESERVED_NAMES | node_names)
    programs = [*program.subflows.values(), program]
    imports.flows = bool(program.subflows)
    components = [_component_line(step, imports) for p in programs for step in p.steps if step.flow is None]
    subflows = [part for name, sub in program.subflows.items() for part in (_subflow_def(name, sub), "", "")]
    plugin_files = ["", "", _LOAD_PLUGIN.strip("\n"), *imports.file_lines()] if imports.files else []
    parts = [_docstring(program, source, digest, script), "from __future__ import annotations", "",
             "\n".join(imports.lines()), *plugin_files, "",
             "# The pipeline's inputs, as its `io.input` nodes declare them.",
             render(Group("INPUTS: dict[str, dict[str, Any]] = {",
                          tuple(Group(f"{literal(name)}: ", (literal(entry),), "")
                                for _, name, entry in program.inputs), "}")), "",
             "# The components, built once with the params saved in the spec.", *components, "", "",
             *subflows, _run_pipeline(program), "", "",
             "# --- how one step runs (the rules `patchwire run` follows) " + "-" * 38,
             HELPERS.strip("\n"), *(["", "", FLOW_HELPERS.strip("\n")] if program.subflows else []),
             "", "", MAIN.strip("\n")]
    return "\n".join(parts) + "\n"


def _component_line(step: Step, imports: Imports) -> str:
    cls_name = imports.name(step.component_cls, step.node_id)
    if cls_name is None:
        raise CodegenError(
            f"Node `{step.node_id}`: component class `{step.component_cls.__qualname__}` (module "
            f"`{step.component_cls.__module__}`) cannot be imported by name, so plain Python cannot call it. "
            "Define it at the top level of an importable module (or a plugin file) and load it from there.")
    params_cls = type(step.params)
    params_name = imports.name(params_cls, step.node_id) or f"{cls_name}.info.params_model"
    expr = call(cls_name, kwargs_call(params_name, step.raw_params))
    return f"{step.var} = " + render(expr, 0, len(step.var) + 3)


def _run_pipeline(program: Program) -> str:
    lines = ["async def run_pipeline(inputs: dict[str, Any]) -> dict[str, Any]:",
             '    """Run every step once; return the outputs by `io.output` node id."""',
             "    run = Run(inputs)"]
    lines += [f"    {var} = {{\"value\": run.inputs[{literal(name)}]}}" for var, name, _ in program.inputs]
    return "\n".join([*lines, *_steps_and_outputs(program)])


def _subflow_def(name: str, program: Program) -> str:
    """One `async def` per subflow: its steps, run inside the caller's `Run` (same id, same secrets)."""
    defaults = {entry_name: entry["default"] for _, entry_name, entry in program.inputs if "default" in entry}
    lines = [f"async def {subflow_function(name)}(run: Run, inputs: dict[str, Any]) -> dict[str, Any]:",
             f'    """Subflow `{name}`: run its steps once on `inputs`; its outputs by `io.output` node id."""']
    if defaults:
        lines.append("    inputs = " + render(Group("{", (*(Group(f"{literal(k)}: ", (literal(v),), "")
                                                           for k, v in defaults.items()), "**inputs"), "}"), 1, 9))
    lines += [f"    {var} = {{\"value\": inputs[{literal(entry_name)}]}}" for var, entry_name, _ in program.inputs]
    return "\n".join([*lines, *_steps_and_outputs(program)])


def _steps_and_outputs(program: Program) -> list[str]:
    lines: list[str] = []
    for step in program.steps:
        lines += ["", *_step_function(step)]
    lines += ["", "    # One task per step, in dependency order: each waits only for the steps it reads from."]
    lines += [f"    {s.var}_task = asyncio.create_task({s.var}_step())" for s in program.steps]
    tasks = Group("[", tuple(f"{s.var}_task" for s in program.steps), "]")
    lines.append("    await " + render(call("run.finish", tasks), 1, len("await ")))
    outputs = Group("{", tuple(Group(f"{literal(node_id)}: ", (_value(source, result=True),), "")
                               for node_id, source in program.outputs), "}")
    lines.append("    return " + render(call("collect", outputs), 1, len("return ")))
    return lines


def _step_function(step: Step) -> list[str]:
    lines = [f"    async def {step.var}_step() -> Fired:"]
    upstream = step.upstream
    if len(upstream) == 1:
        lines.append(f"        {upstream[0]}_out = await {upstream[0]}_task")
    elif upstream:
        targets = ", ".join(f"{u}_out" for u in upstream)
        gather = call("asyncio.gather", *(f"{u}_task" for u in upstream))
        lines.append(f"        {targets} = await " + render(gather, 2, len(targets) + 9))
    checks = _skip_checks(step)
    if checks and len("        if ") + len(" or ".join(checks)) + 1 <= WIDTH:
        checks = [" or ".join(c if len(checks) == 1 or " and " not in c else f"({c})" for c in checks)]
    for i, check in enumerate(checks):
        lines.append(f"        if {check}:")
        lines.append("            return {}" + ("  # skipped: a branch upstream did not fire (or its step was "
                                                 "skipped)" if i == 0 else ""))
    values = Group("{", tuple(Group(f"{literal(w.port)}: ", (_wire_value(w, w.port in step.required),), "")
                              for w in step.wires), "}")
    kwargs = {k: literal(v) for k, v in step.policy.items()}
    expr = call("run.call", step.var, literal(step.node_id), values, **kwargs) if step.flow is None else \
        _flow_call(step, values, kwargs)
    lines.append("        return await " + render(expr, 2, len("return await ")))
    return lines


def _flow_call(step: Step, values: Any, policy: dict[str, Any]) -> Any:
    """A flow node as plain asyncio: its subflow's `async def`, once, per item (`run_map`) or in a `for` loop
    (`run_loop`), made anew for each attempt under the node's own policy (time limit, retries, `on_error`);
    its inner steps keep their policies."""
    params = step.raw_params
    fn = subflow_function(params["subflow"])
    if step.flow == "map":
        work = call("run_map", "run", fn, values, over=literal(params["over"]),
                    concurrency=literal(params.get("concurrency", 8)),
                    on_item_error=literal(params.get("on_item_error", "fail")), outputs=literal(step.flow_outputs))
    elif step.flow == "loop":
        work = call("run_loop", "run", fn, values, max_iterations=literal(params["max_iterations"]),
                    until=literal(params.get("until")), carry=literal(params.get("carry", {})))
    else:
        work = call(fn, "run", call("collect", values))
    return call("flow_step", "run", literal(step.node_id), literal(step.component_id), Group("lambda: ", (work,), ""),
                **policy)


def _skip_checks(step: Step) -> list[str]:
    """When the step is skipped, as the executor decides it: a required input got no value, or (with
    only optional inputs) no value arrived at all. Values from `io.input` nodes always arrive."""
    checks = []
    for wire in step.wires:
        if wire.port in step.required and all(s.is_task for s in wire.sources):
            checks.append(_none_arrived(wire.sources))
    if not step.required and step.wires and all(s.is_task for w in step.wires for s in w.sources):
        checks.append(_none_arrived([s for w in step.wires for s in w.sources]))
    return list(dict.fromkeys(checks))


def _none_arrived(sources: list[Source]) -> str:
    unique = list(dict.fromkeys((s.var, s.port) for s in sources))
    return " and ".join(f"{literal(port)} not in {var}_out" for var, port in unique)


def _wire_value(wire: Any, required: bool) -> Any:
    if wire.fan_in:
        return call("fan_in", *(call("spread", _value(s)) if s.spread else _value(s) for s in wire.sources))
    source = wire.sources[0]
    if required or not source.is_task:  # present: checked above, or an input's value
        return f"{source.var if not source.is_task else source.var + '_out'}[{literal(source.port)}]"
    return _value(source)


def _value(source: Source, result: bool = False) -> Any:
    if not source.is_task:
        holder = source.var
    else:
        holder = f"{source.var}_task.result()" if result else f"{source.var}_out"
    return call("one", holder, literal(source.port))


def _docstring(program: Program, source: str, digest: str, script: str) -> str:
    title = f"Pipeline `{program.name}`" + (f": {program.description}" if program.description else ".")
    example = " ".join(f"--input {name}=..." for _, name, entry in program.inputs if "default" not in entry)
    body = (f"Generated by `patchwire export-python` from `{source}` (spec sha256 {digest}). It performs "
            "the pipeline's steps with plain asyncio, without the Patchwire executor: each step is a task that "
            "starts once the steps it reads from have finished, and a branch runs only when the output port "
            "feeding it fired. It needs `pip install patchwire` only for the component classes it imports "
            "(and their `RunContext`).")
    text = "\n".join([*textwrap.wrap(title, WIDTH - 4), "", *textwrap.wrap(body, WIDTH - 4), "",
                      f"Run it:    python {script} {example}".rstrip(),
                      "Or import: outputs = asyncio.run(run_pipeline({...}))"])
    return '"""' + text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '\n"""\n'


_LOAD_PLUGIN = '''
def load_plugin_file(path: str) -> Any:
    """Import a plugin file by its path (its components are not in an installed package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"pipeline_plugin_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import plugin file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
'''
