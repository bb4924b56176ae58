"""Editing a subflow on the canvas: which spec the canvas shows, and how an edit of it lands in the pipeline.

The editor keeps one spec, the pipeline's; when the user opens a subflow (`spec.subflows[name]`), the
canvas shows that subflow and every edit goes into it. The subflow is shown *with the pipeline's
subflows* (a subflow may use the others), so flow nodes inside it get their real ports, validation
sees the whole picture, and an edit that makes or removes subflows (group, ungroup) works the same
inside a subflow as at the top. Pure functions; no Reflex here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runtime import Issue, PipelineSpec, Registry
from runtime.flow import FLOW_IDS, FlowScope
from runtime.validation import analyse

__all__ = ["Shown", "show", "view", "apply", "opens", "users"]


@dataclass(frozen=True, slots=True)
class Shown:
    spec: PipelineSpec  # what the canvas shows (a subflow: with the pipeline's subflows)
    name: str  # the subflow shown; "" for the pipeline itself (also when `name` no longer exists)
    issues: list[Issue]
    scope: FlowScope  # where its flow nodes read their ports


def view(top: PipelineSpec | None, name: str) -> PipelineSpec | None:
    """The subflow `name` as the canvas edits it, or `top` itself ("" or a subflow that is gone)."""
    if top is None or not name or name not in top.subflows:
        return top
    return top.subflows[name].model_copy(update={"subflows": top.subflows})


def apply(top: PipelineSpec, name: str, edit: Callable[[PipelineSpec], PipelineSpec]) -> PipelineSpec:
    """`edit` made to the subflow `name` (or to `top` itself), as a new pipeline spec."""
    shown = view(top, name)
    assert shown is not None
    if shown is top:
        return edit(top)
    after = edit(shown)
    if after is shown:
        return top
    subflows = {**after.subflows, name: after.model_copy(update={"subflows": {}})}
    return top.model_copy(update={"subflows": subflows})


def show(top: PipelineSpec, name: str, registry: Registry) -> Shown:
    """What the canvas shows of `top` with the subflow `name` open: the spec, its issues, its flow scope."""
    shown = view(top, name)
    assert shown is not None
    name = name if shown is not top else ""
    analysis = analyse(shown, registry)
    issues = analysis.issues
    if name:  # the open subflow's own issues are pinned to its nodes: drop their copies named by path
        own = f"subflows.{name}"
        issues = [i for i in issues if not (i.path == own or (i.path or "").startswith(own + "."))
                  or i.code == "subflow_cycle"]
    return Shown(shown, name, issues, analysis.scope)


def opens(spec: PipelineSpec | None, node_id: str) -> str | None:
    """The subflow a double-click on `node_id` opens (a flow node naming one of the spec's subflows)."""
    node = spec.node(node_id) if spec is not None else None
    if node is None or node.component not in FLOW_IDS:
        return None
    name = node.params.get("subflow")
    return name if isinstance(name, str) and name in spec.subflows else None  # type: ignore[union-attr]


def users(spec: PipelineSpec, name: str) -> list[str]:
    """Where the subflow `name` is used: `node` in the pipeline, `subflow/node` inside other subflows."""
    found = [n.id for n in spec.nodes if n.component in FLOW_IDS and n.params.get("subflow") == name]
    for other, sub in spec.subflows.items():
        found += [f"{other}/{n.id}" for n in sub.nodes if n.component in FLOW_IDS and n.params.get("subflow") == name]
    return found
