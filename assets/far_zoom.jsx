// Zoomed far out (node text under ~5 px on screen), the canvas gets the class `pw-far` and each pipeline node
// a far body (FarNode): its box, colour band, breakpoint dot (when set), issue count and run status, and nothing
// else: no text, no port rows, no handles (each React Flow <Handle> runs a store selector on every store update, and
// even a plain box per handle was a third of the elements a zoom-out to 1,000 nodes created, styled and laid out).
// React Flow was given every node's handle bounds up front (node_sizes.js), so edges still meet the nodes where their
// ports are; `keepGivenHandles` keeps React Flow from re-measuring a far body's (absent) handles. With 1,000 nodes in
// view that is 4 elements per node, React Flow's wrapper included, instead of ~10 (~25 near), so the whole graph comes
// into view and drags with less style, layout and compositing work. Nothing in the far body is positioned or
// translucent (each such box would be a paint chunk of its own, which the compositor re-sorts on every frame of a
// drag). Node sizes are pinned (node_sizes.css), so swapping bodies moves nothing. Zoom in to connect.
import React, { useEffect, useSyncExternalStore } from "react";
import "./far_zoom.css";
import { valueStore } from "./flow_format.js";
import { BreakpointToggle } from "./flow_breakpoints.jsx";
import { NodeLive } from "./node_run.jsx";

export const FAR_ZOOM = 0.4;

// Call once in the canvas: keeps `ctx.far` and the wrapper's class in step with the zoom.
export function useFarZoom(ctx, store, wrapperRef) {
  if (!ctx.far) ctx.far = valueStore(false);
  useEffect(() => {
    const apply = () => {
      const far = store.getState().transform[2] < FAR_ZOOM;
      if (wrapperRef.current) wrapperRef.current.classList.toggle("pw-far", far);
      ctx.far.set(far);
    };
    apply();
    return store.subscribe(apply);
  }, [ctx, store, wrapperRef]);
}

const NEAR = { get: () => false, subscribe: () => () => {} };

export function useIsFar(ctx) {
  const s = (ctx && ctx.far) || NEAR;
  return useSyncExternalStore(s.subscribe, s.get, () => false);
}

// A pipeline node's body far out (same root element, test id, classes and data attributes as the full body).
export function FarNode({ id, ctx, meta, issues, rootProps }) {
  const errors = issues.filter((i) => i.severity === "error").length;
  return (
    <div {...rootProps} className={`${rootProps.className} pw-node-far`}>
      <div className="pw-node-head" style={{ borderTopColor: meta.color }}>
        <BreakpointToggle id={id} ctx={ctx} onlyWhenOn />
        {issues.length > 0 && <span className={`pw-badge ${errors ? "pw-badge-error" : "pw-badge-warning"}`}
          data-testid={`node-issues-${id}`} data-count={issues.length}>{issues.length}</span>}
      </div>
      <NodeLive id={id} ctx={ctx} />
    </div>
  );
}

// React Flow re-measures a node each time its ResizeObserver reports it (`force`), reading the handles from the DOM:
// measuring a far body, which has none, would replace the bounds it was given (node_sizes.js) with none, and its edges
// would vanish. A node element without handles keeps the given bounds (its size is pinned: there is nothing to
// measure). Called in the canvas's render, before React Flow's node renderer first renders: its ResizeObserver keeps
// the store's `updateNodeInternals` of that moment.
export function keepGivenHandles(store) {
  const state = store.getState();
  if (state.updateNodeInternals.keepsGivenHandles) return;
  const measure = state.updateNodeInternals;
  const kept = (updates, ...rest) => {
    for (const update of updates.values()) {
      if (update.force && update.nodeElement && !update.nodeElement.querySelector(".react-flow__handle")) {
        update.force = false;
      }
    }
    return measure(updates, ...rest);
  };
  kept.keepsGivenHandles = true;
  store.setState({ updateNodeInternals: kept });
}
