"""Issues about one node's component and params: unknown components and versions, invalid or unknown params
(with the nearest name), and a component's own `param_warnings` — each with what, where and how to fix it."""

from __future__ import annotations

import difflib
import functools
from typing import Any

from pydantic import BaseModel

from .component import ComponentInfo
from .issues import Issue
from .loading import yaml_boolean_hint
from .registry import Registry
from .secrets import LITERAL_SECRET_ERROR
from .spec import NodeSpec
from .text import short_repr, shorten

__all__ = ["param_warnings", "who", "param_issue", "unknown_params", "unknown_component"]


def param_warnings(node: NodeSpec, info: ComponentInfo, params: BaseModel) -> list[Issue]:
    """The component's own warnings about valid params, pinned to the node and the param."""
    check = getattr(info.cls, "param_warnings", None)
    if check is None:
        return []
    try:
        warnings = check(params)
    except Exception as exc:  # noqa: BLE001 - a component's own check must not break validation
        return [Issue(code="param_check_failed", severity="warning", node_id=node.id, path="params",
                      message=f"{who(node, info)}: its params check failed ({type(exc).__name__}: {exc}).",
                      hint="Report this to the component's author; the node may still run.")]
    return [Issue(code=w.code, severity="warning", node_id=node.id, path=f"params.{w.param}",
                  message=f"{who(node, info)}: {w.message}", hint=w.hint) for w in warnings]


def who(node: NodeSpec, info: ComponentInfo) -> str:
    return f"Node `{node.id}` (`{info.id}` v{info.version})"


def param_issue(node: NodeSpec, info: ComponentInfo, error: Any) -> Issue:
    path = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        return _unknown_param(node, info, path)
    what = f"param `{path}` is invalid" if path else "params are invalid"
    quiet = error["type"] in ("missing", LITERAL_SECRET_ERROR)  # a literal credential is not echoed back
    got = "" if quiet else f" (got {short_repr(error.get('input'))})"
    return Issue(code="invalid_params", node_id=node.id, path=f"params.{path}" if path else "params",
                 message=f"{who(node, info)}: {what}: {_reason(error)}{got}.", hint=_param_hint(info, error))


def _reason(error: Any) -> str:
    """pydantic's message without the "Value error, " it puts before a validator's own words."""
    msg: str = error["msg"]
    return msg.removeprefix("Value error, ") if error["type"] == "value_error" else msg


def unknown_params(node: NodeSpec, info: ComponentInfo) -> list[Issue]:
    """Params the model would silently ignore (pydantic's default): almost always a typo."""
    model = info.params_model
    if not node.params or model.model_config.get("extra", "ignore") != "ignore":
        return []  # "forbid" is reported by pydantic; "allow" takes anything
    names = _param_names(model)
    if names is None:
        return []
    return [_unknown_param(node, info, key) for key in node.params if key not in names]


@functools.lru_cache(maxsize=1024)
def _param_names(model: type[BaseModel]) -> tuple[str, ...] | None:
    """The keys a params model reads (aliases, and names unless aliased), or None when it cannot be told."""
    config = model.model_config
    by_name = bool(config.get("validate_by_name") or config.get("populate_by_name")
                   or config.get("validate_by_alias") is False)
    names: list[str] = []
    for name, field_info in model.model_fields.items():
        alias = field_info.validation_alias if field_info.validation_alias is not None else field_info.alias
        if alias is None:
            names.append(name)
        elif isinstance(alias, str):
            names += [name, alias] if by_name else [alias]
        else:
            return None  # AliasPath / AliasChoices
    return tuple(names)


def _unknown_param(node: NodeSpec, info: ComponentInfo, key: str) -> Issue:
    names = list(_param_names(info.params_model) or info.params_model.model_fields)
    close = difflib.get_close_matches(key, names, n=1)
    guess = f" Did you mean `{close[0]}`?" if close else ""
    allowed = ", ".join(f"`{name}`" for name in names) or "none"
    return Issue(code="invalid_params", node_id=node.id, path=f"params.{key}",
                 message=f"{who(node, info)}: unknown param `{key}`.{guess}",
                 hint=f"Remove `{key}`. `{info.id}` params: {allowed}.")


def unknown_component(node: NodeSpec, registry: Registry) -> Issue:
    versions = registry.versions(node.component)
    if versions:
        listed = ", ".join(f"v{v}" for v in versions)
        return Issue(code="unknown_version", node_id=node.id,
                     message=f"Node `{node.id}` uses `{node.component}` v{node.version}, which is not installed. "
                             f"Installed versions: {listed}.",
                     hint=f"Set the node's version to {versions[-1]}, or install the plugin that provides "
                          f"v{node.version}.")
    family = node.component.split(".")[0]
    same_family = [cid for cid in registry.ids() if cid.split(".")[0] == family]
    close = difflib.get_close_matches(node.component, registry.ids(), n=3, cutoff=0.7)  # typos only
    if close:
        known = " Did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
    elif same_family:
        listed = ", ".join(f"`{c}`" for c in same_family[:8])
        more = f" and {len(same_family) - 8} more" if len(same_family) > 8 else ""
        known = f" Installed {family} components: {listed}{more}."
    else:
        known = ""
    hint = "Install the plugin that provides it (see `patchwire components`)."
    failed = [p.source for p in registry.problems]
    if failed:
        hint += (f" {len(failed)} plugin{'s' if len(failed) > 1 else ''} failed to load ("
                 + ", ".join(failed[:3]) + (", ..." if len(failed) > 3 else "") + "): see `patchwire components`.")
    name = shorten(node.component, 100)
    return Issue(code="unknown_component", node_id=node.id,
                 message=f"Unknown component `{name}` on node `{node.id}`.{known}", hint=hint)


def _param_hint(info: ComponentInfo, error: Any) -> str:
    loc = error["loc"]
    if error["type"] == "missing":
        return f"Set `{loc[-1]}`."
    if yaml_boolean_hint(error):
        return str(yaml_boolean_hint(error))
    described = info.params_model.model_fields.get(str(loc[0])) if loc else None
    if described is not None and described.description:
        return f"`{loc[0]}`: {described.description}."
    return "See the component's params in the inspector or `patchwire components --json`."
