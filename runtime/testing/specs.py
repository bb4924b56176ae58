"""Compact spec builders for tests, docs and benchmarks."""

from __future__ import annotations

from typing import Any

from runtime.spec import PipelineSpec

__all__ = ["make_spec", "chain_spec", "fan_out_spec"]


def make_spec(nodes: dict[str, tuple], edges: list[tuple[str, str, str, str]], name: str = "test") -> PipelineSpec:
    """`nodes`: id -> (component, params[, policy]); `edges`: (source, port, target, port)."""
    node_list: list[dict[str, Any]] = []
    for node_id, (component, params, *rest) in nodes.items():
        node: dict[str, Any] = {"id": node_id, "component": component, "version": 1, "params": params}
        if rest:
            node["policy"] = rest[0]
        node_list.append(node)
    edge_list = [{"source": {"node": s, "port": sp}, "target": {"node": t, "port": tp}} for s, sp, t, tp in edges]
    return PipelineSpec.model_validate({"name": name, "nodes": node_list, "edges": edge_list})


def chain_spec(length: int, component: str = "demo.echo", params: dict | None = None) -> PipelineSpec:
    """io.input -> `length` nodes in a line -> io.output."""
    nodes: dict[str, tuple] = {"query": ("io.input", {})}
    edges, previous = [], "query"
    for i in range(length):
        nodes[f"n{i}"] = (component, params or {})
        edges.append((previous, "value", f"n{i}", "value"))
        previous = f"n{i}"
    nodes["out"] = ("io.output", {})
    edges.append((previous, "value", "out", "value"))
    return make_spec(nodes, edges, name=f"chain-{length}")


def fan_out_spec(width: int, seconds: float) -> PipelineSpec:
    """io.input -> `width` parallel delays -> one fan-in concat -> io.output."""
    nodes: dict[str, tuple] = {"query": ("io.input", {})}
    edges = []
    for i in range(width):
        nodes[f"d{i}"] = ("demo.delay", {"seconds": seconds})
        edges += [("query", "value", f"d{i}", "value"), (f"d{i}", "value", "join", "values")]
    nodes["join"] = ("demo.concat", {})
    nodes["out"] = ("io.output", {})
    edges.append(("join", "value", "out", "value"))
    return make_spec(nodes, edges, name=f"fan-out-{width}")
