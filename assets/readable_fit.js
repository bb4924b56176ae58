// Fit view that keeps node text readable: never below READABLE_ZOOM (12 px titles stay >= 9 px on screen).
// A pipeline too big for that is shown from its start (its inputs, on the left) at that zoom; the minimap
// shows the rest.
import { getViewportForBounds } from "@xyflow/react";

export const READABLE_ZOOM = 0.75;
export const FIT_MAX_ZOOM = 1.1;
const FIT_PADDING = 0.2; // as React Flow's fitView: a fraction of the viewport
const EDGE_PX = 40; // margin kept on screen when showing the start of a large pipeline

// A node's box in flow coordinates (also assets/all_in_view.js).
export const boxOf = (n) => {
  const p = n.internals ? n.internals.positionAbsolute : n.position;
  const m = n.measured || {};
  return { x: p.x, y: p.y, width: m.width || n.width || 200, height: m.height || n.height || 100 };
};

export function unionBox(boxes) {
  if (!boxes.length) return null;
  const x0 = Math.min(...boxes.map((b) => b.x));
  const y0 = Math.min(...boxes.map((b) => b.y));
  const x1 = Math.max(...boxes.map((b) => b.x + b.width));
  const y1 = Math.max(...boxes.map((b) => b.y + b.height));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

const clamp = (v, lo, hi) => (lo > hi ? (lo + hi) / 2 : Math.min(hi, Math.max(lo, v)));

// The viewport at READABLE_ZOOM showing the start of `all`: its left edge at the margin, and vertically
// the start nodes centred (kept within the pipeline's own top and bottom).
export function startViewport(all, starts, width, height, zoom = READABLE_ZOOM) {
  const x = EDGE_PX - all.x * zoom;
  if (all.height * zoom <= height - 2 * EDGE_PX) {
    return { x, y: height / 2 - (all.y + all.height / 2) * zoom, zoom };
  }
  const focus = starts || all;
  const y = height / 2 - (focus.y + focus.height / 2) * zoom;
  return { x, y: clamp(y, height - EDGE_PX - (all.y + all.height) * zoom, EDGE_PX - all.y * zoom), zoom };
}

// The viewport for `nodes` (React Flow nodes) in a `width` x `height` pane; `edges` tell which nodes start
// the pipeline (no incoming wire). Notes count for the bounds, never as a start.
export function readableViewport(nodes, edges, width, height) {
  const all = unionBox(nodes.map(boxOf));
  if (!all || !width || !height) return null;
  const fit = getViewportForBounds(all, width, height, 0.05, FIT_MAX_ZOOM, FIT_PADDING);
  if (fit.zoom >= READABLE_ZOOM) return fit;
  const fed = new Set((edges || []).map((e) => e.target));
  const pipeline = nodes.filter((n) => n.type !== "sticky");
  const reach = all.x + (width - 2 * EDGE_PX) / READABLE_ZOOM; // what is visible of the left side
  let starts = pipeline.filter((n) => !fed.has(n.id)).map(boxOf).filter((b) => b.x < reach);
  if (!starts.length && pipeline.length) starts = [pipeline.map(boxOf).sort((a, b) => a.x - b.x)[0]];
  return startViewport(all, unionBox(starts), width, height);
}

// Apply it through a React Flow instance and its store (for the pane's size).
export function fitReadable(rf, store, options = {}) {
  const { width, height } = store.getState();
  const vp = readableViewport(rf.getNodes(), rf.getEdges(), width, height);
  if (vp) rf.setViewport(vp, options.duration ? { duration: options.duration } : undefined);
  return vp;
}
