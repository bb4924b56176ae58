"""Compact spec builders for tests, docs and benchmarks."""

from __future__ import annotations

import random
from typing import Any

from runtime.spec import PipelineSpec

__all__ = ["make_spec", "chain_spec", "fan_out_spec", "layered_spec", "yaml_alias_bomb"]


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


def layered_spec(n_nodes: int = 1000, n_edges: int = 1300, layers: int = 20, seed: int = 7) -> dict[str, Any]:
    """A big editor pipeline (spec data with a layout): `layers` columns of constants, then echo (one input)
    and concat (fan-in) nodes wired to the column before; extra wires go to the concats until `n_edges`."""
    rng = random.Random(seed)
    width = n_nodes // layers
    nodes, layout, edges = [], {}, []
    concat_ids: list[str] = []
    for layer in range(layers):
        for row in range(width):
            node_id = f"n{layer}_{row}"
            kind = "demo.constant" if layer == 0 else ("demo.concat" if row % 3 == 0 else "demo.echo")
            nodes.append({"id": node_id, "component": kind, "version": 1, "params": {}})
            layout[node_id] = {"x": layer * 320.0, "y": row * 150.0}
            if layer == 0:
                continue
            source = f"n{layer - 1}_{rng.randrange(width)}"
            edges.append({"source": {"node": source, "port": "value"},
                          "target": {"node": node_id, "port": "values" if kind == "demo.concat" else "value"}})
            if kind == "demo.concat":
                concat_ids.append(node_id)
    seen = {(e["source"]["node"], e["target"]["node"]) for e in edges}
    while len(edges) < n_edges:
        target = rng.choice(concat_ids)
        layer = int(target[1:].split("_")[0])
        source = f"n{layer - 1}_{rng.randrange(width)}"
        if (source, target) not in seen:
            seen.add((source, target))
            edges.append({"source": {"node": source, "port": "value"}, "target": {"node": target, "port": "values"}})
    return {"schema_version": 1, "name": f"bench-{n_nodes}", "nodes": nodes, "edges": edges, "layout": layout}


def yaml_alias_bomb(levels: int = 9) -> str:
    """YAML keys `a0`..: each level refers to the one before nine times: 9**levels strings if anything expanded it."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines)
