// Zoomed far out (node text under ~5 px on screen), the canvas gets the class `pw-far` and each pipeline node
// a far body (FarNode): its box, colour band, breakpoint dot (when set), issue count, run status and plain
// handles where node_sizes.js placed them (React Flow measures the handles of every node it mounts), and
// nothing else: no text, no port rows, no React Flow <Handle>s (each runs a store selector on every store
// update). With 1,000 nodes in view that is about 12 elements per node instead of ~25, so the whole graph comes
// into view and drags with a fraction of the style, layout and compositing work. Nothing in the far body is
// positioned or translucent (each such box would be a paint chunk of its own, which the compositor re-sorts on
// every frame of a drag). Node sizes are pinned (node_sizes.css), so swapping bodies moves nothing. Zoom in
// to connect.
import React, { useEffect, useMemo, useSyncExternalStore } from "react";
import "./far_zoom.css";
import { inputsOf, outputsOf, typeColor, valueStore } from "./flow_format.js";
import { nodeBox } from "./node_sizes.js";
import { BreakpointToggle } from "./flow_breakpoints.jsx";
import { NodeLive } from "./node_run.jsx";

export const FAR_ZOOM = 0.4;
const BORDER = 1;  // .pw-node's border and head height (node_sizes.css): the handles sit below the head
const HEAD_H = 27;

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

// The far handles of one side, each with the margins that put it where node_sizes.js placed it: in-flow
// boxes in two columns below the head.
function farColumns(id, data) {
  const types = new Map();
  for (const p of inputsOf(data)) types.set("target:" + p.name, p.type);
  for (const p of outputsOf(data)) types.set("source:" + p.name, p.type);
  const columns = { target: [], source: [] };
  for (const h of nodeBox(id, data).handles) {
    const column = columns[h.type];
    const prev = column[column.length - 1];
    const top = h.y - BORDER - HEAD_H;  // from the top of the ports area
    const color = typeColor(types.get(h.type + ":" + h.id) || "Any");
    column.push({ ...h, top, style: {
      marginTop: top - (prev ? prev.top + prev.height : 0), width: h.width, height: h.height,
      [h.type === "target" ? "marginLeft" : "marginRight"]: -h.width / 2,  // centred on the border
      background: color, borderColor: color,
    } });
  }
  return columns;
}

function FarColumn({ id, handles, side }) {
  return (
    <div className={`pw-far-col pw-far-${side}`}>
      {handles.map((h) => (
        <div key={h.id} className={`react-flow__handle react-flow__handle-${h.position} ${h.type} pw-handle pw-far-handle`}
          data-handleid={h.id} data-nodeid={id} data-handlepos={h.position} style={h.style} />
      ))}
    </div>
  );
}

// A pipeline node's body far out (same root element, test id, classes and data attributes as the full body).
export function FarNode({ id, data, ctx, meta, issues, rootProps }) {
  const columns = useMemo(() => farColumns(id, data), [id, data]);
  const errors = issues.filter((i) => i.severity === "error").length;
  return (
    <div {...rootProps} className={`${rootProps.className} pw-node-far`}>
      <div className="pw-node-head" style={{ borderTopColor: meta.color }}>
        <BreakpointToggle id={id} ctx={ctx} onlyWhenOn />
        <span className="pw-dot" style={{ background: meta.color }} />
        {issues.length > 0 && <span className={`pw-badge ${errors ? "pw-badge-error" : "pw-badge-warning"}`}
          data-testid={`node-issues-${id}`} data-count={issues.length}>{issues.length}</span>}
      </div>
      <div className="pw-far-ports">
        <FarColumn id={id} handles={columns.target} side="in" />
        <FarColumn id={id} handles={columns.source} side="out" />
      </div>
      <NodeLive id={id} ctx={ctx} />
    </div>
  );
}
