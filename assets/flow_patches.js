// Keeps the canvas's local nodes/edges in step with Python (see editor/graph_patches.py).
// `nodes`/`positions`/`edges` props are a snapshot, re-read on a reset (a new pipeline or epoch in `graphPatch`,
// a new `graphKey`, or a new snapshot object); edits since then arrive as
// `graphPatch` = {base, seq, steps: [[seq, ops], ...], pipeline, epoch} and are applied
// to the local lists here, so an edit costs bytes and work in proportion to what changed. The browser
// keeps what it owns (measured size, selection, an in-flight drag), exactly as `merge` does.
import { useLayoutEffect, useRef } from "react";
import { merge, portTypes, toFlowEdges, toFlowNodes } from "./flow_format.js";

// One node or wire from the server over its local copy (what `merge` does for a whole list).
function mergeOne(local, next, sigs) {
  sigs.set(next.id, JSON.stringify(next));
  if (!local) return next;
  const merged = { ...next, selected: local.selected };
  if (local.measured && !next.measured) merged.measured = local.measured;
  if (local.dragging) { merged.dragging = true; merged.position = local.position; }
  return merged;
}

function indexOf(list) {
  const index = new Map();
  list.forEach((item, i) => index.set(item.id, i));
  return index;
}

export function applyNodeOps(prev, ops, sigs) {
  const out = prev.slice();
  const index = indexOf(out);
  const gone = new Set();
  for (const op of ops) {
    if (op.node === undefined) continue;
    if (op.op === "remove") { gone.add(op.node); sigs.delete(op.node); continue; }
    if (op.op === "move") {
      const i = index.get(op.node);
      const local = i === undefined ? null : out[i];
      if (!local) continue;
      const [x, y] = op.position;
      sigs.set(local.id, JSON.stringify(toFlowNodes([local.data], { [local.id]: [x, y] })[0]));  // as `merge` signs it
      if (!local.dragging) out[i] = { ...local, position: { x, y } };
      continue;
    }
    const next = toFlowNodes([op.node], { [op.node.id]: op.position })[0];
    gone.delete(next.id);
    const i = index.get(next.id);
    if (i === undefined) { index.set(next.id, out.length); out.push(mergeOne(null, next, sigs)); }
    else out[i] = mergeOne(out[i], next, sigs);
  }
  return gone.size ? out.filter((n) => !gone.has(n.id)) : out;
}

export function applyEdgeOps(prev, ops, sigs) {
  const out = prev.slice();
  const index = indexOf(out);
  const gone = new Set();
  for (const op of ops) {
    if (op.edge === undefined) continue;
    if (op.op === "remove") { gone.add(op.edge); sigs.delete(op.edge); continue; }
    const next = toFlowEdges([op.edge])[0];
    gone.delete(next.id);
    const i = index.get(next.id);
    if (i === undefined) { index.set(next.id, out.length); out.push(mergeOne(null, next, sigs)); }
    else out[i] = mergeOne(out[i], next, sigs);
  }
  return gone.size ? out.filter((e) => !gone.has(e.id)) : out;
}

function updatePorts(ports, ops) {
  for (const op of ops) {
    if (op.node === undefined || op.op === "move") continue;
    if (op.op === "remove") ports.delete(op.node);
    else ports.set(op.node.id, portTypes([op.node]).get(op.node.id));
  }
}

// The steps of `patch` that follow `seq`, or null when one is missing (this canvas needs a reset).
export function stepsAfter(patch, seq) {
  const steps = (patch.steps || []).filter(([s]) => s > seq);
  return steps.length && steps[0][0] === seq + 1 ? steps : null;
}

// The pipeline and reset epoch a patch belongs to (editor/graph_patches.py); epoch 0: untagged (the initial state).
function scopeOf(patch) {
  return { pipeline: patch.pipeline, epoch: patch.epoch || 0 };
}

// A patch (and the snapshot it came with) this canvas must never apply: about a pipeline other than the one the
// editor shows, or older than the reset the canvas holds (a late answer about the pipeline the tab just left).
export function isStale(scope, held, pipelineId) {
  if (!scope.epoch) return !!(held && held.epoch);  // untagged: only before the first tagged reset
  if (pipelineId !== undefined && scope.pipeline !== pipelineId) return true;
  return !!held && scope.epoch < held.epoch;
}

// A resync (the whole graph again) for `what`, asked at most once per `what` until the canvas resets.
function askOnce(s, what, props) {
  if (!props.onResync || (s && s.asked === what)) return;
  if (s) s.asked = what;
  props.onResync({});
}

// The hook: call once in the canvas with its state setters and the merge signatures of nodes and edges.
// It resets the local lists on a new pipeline or epoch (or a re-sent snapshot of the same one) and drops stale ones.
export function useGraphSync(props, ctx, setNodes, setEdges, sigs, edgeSigs) {
  const sync = useRef(null);
  useLayoutEffect(() => {
    const patch = props.graphPatch || {};
    const scope = scopeOf(patch);
    let s = sync.current;
    if (s && isStale(scope, s, props.pipelineId)) {
      // The canvas holds another pipeline than the editor shows (that pipeline's reset never came): ask for it.
      if (props.pipelineId !== undefined && s.pipeline !== props.pipelineId) askOnce(s, props.pipelineId, props);
      return;
    }
    const fresh = !s || scope.epoch !== s.epoch || scope.pipeline !== s.pipeline;
    const resent = s && (s.key !== props.graphKey || s.nodes !== props.nodes || s.positions !== props.positions
      || s.edges !== props.edges);
    // The snapshot props are the ones this patch builds on (else they are left over from a dropped, stale one).
    const consistent = !scope.epoch || patch.base === props.graphKey;
    if (fresh && !consistent) {  // a new reset without its snapshot: ask for it once
      askOnce(s, `${scope.pipeline}@${scope.epoch}`, props);
      return;
    }
    if ((fresh || resent) && consistent) {
      s = sync.current = { ...scope, key: props.graphKey, nodes: props.nodes, positions: props.positions,
        edges: props.edges, seq: 0, broken: false };
      ctx.ports = portTypes(props.nodes);
      setNodes((prev) => merge(prev, toFlowNodes(props.nodes, props.positions), sigs));
      setEdges((prev) => merge(prev, toFlowEdges(props.edges), edgeSigs));
    }
    if (patch.base !== s.key || !(patch.seq > s.seq) || s.broken) return;
    const steps = stepsAfter(patch, s.seq);
    s.seq = patch.seq;
    if (!steps) {
      s.broken = true;  // until the reset Python sends
      if (props.onResync) props.onResync({});
      return;
    }
    const ops = steps.flatMap(([, stepOps]) => stepOps);
    updatePorts(ctx.ports, ops);
    setNodes((prev) => applyNodeOps(prev, ops, sigs));
    setEdges((prev) => applyEdgeOps(prev, ops, edgeSigs));
  }, [props.graphKey, props.graphPatch, props.nodes, props.positions, props.edges, props.pipelineId]);
}
