// Pure helpers of the pipeline canvas: the server's compact wire format (editor/views.py) to React Flow
// nodes/edges, the merge that keeps what the browser owns, the external stores, the dagre layout.
import dagre from "@dagrejs/dagre";
import { TERMINAL_NODE_STATUSES } from "./run_statuses.js";
import { sizedNode } from "./node_sizes.js";

// A tiny external store: nodes subscribe to their own entry, so a status or issue change
// re-renders only the nodes it concerns (never the whole nodes list).
export function keyedStore() {
  let keys = {};
  let values = {};
  const listeners = new Set();
  return {
    set(data) {
      const next = {};
      for (const [id, value] of Object.entries(data || {})) next[id] = JSON.stringify(value);
      keys = next;
      values = data || {};
      listeners.forEach((l) => l());
    },
    key: (id) => keys[id] || "",
    get: (id) => values[id],
    subscribe: (l) => { listeners.add(l); return () => listeners.delete(l); },
  };
}

// One value that components read with useSyncExternalStore; `set` tells them only when it changes.
export function valueStore(initial) {
  let value = initial;
  const listeners = new Set();
  return {
    get: () => value,
    subscribe: (l) => { listeners.add(l); return () => listeners.delete(l); },
    set: (next) => { if (next !== value) { value = next; listeners.forEach((l) => l()); } },
  };
}

export const ERROR_PORT = { name: "error", type: "dict[str, Any]" };
const HUES = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#dc2626", "#65a30d", "#c026d3", "#0d9488",
  "#ea580c", "#4f46e5", "#be123c"];

// A port's colour follows its type label (the same label always gets the same colour).
export function typeColor(label) {
  if (label === "Any") return "#94a3b8";
  let h = 5381;
  for (let i = 0; i < label.length; i++) h = ((h * 33) ^ label.charCodeAt(i)) >>> 0;
  return HUES[h % HUES.length];
}

// The server's compact format (see editor/views.py) -> React Flow nodes and edges.
export function inputsOf(data) {
  return (data.in || []).map(([name, type, required]) => ({ name, type, required: !!required }));
}

export function outputsOf(data) {
  return data.missing ? [] : [...(data.out || []).map(([name, type]) => ({ name, type })), ERROR_PORT];
}

export function toFlowNodes(nodes, positions) {
  return (nodes || []).map((n) => {
    const p = (positions || {})[n.id] || [0, 0];
    return sizedNode({ id: n.id, type: "pipeline", position: { x: p[0], y: p[1] }, data: n });  // sized up front
  });
}

export function toFlowEdges(edges) {
  return (edges || []).map(([source, sourceHandle, target, targetHandle, type, bad]) => ({
    id: `${source}.${sourceHandle}->${target}.${targetHandle}`, source, sourceHandle, target, targetHandle,
    type: "pipeline", className: bad ? "pw-edge-invalid" : "", data: { type },
    style: { stroke: bad ? "#dc2626" : typeColor(type), strokeWidth: 2 },
  }));
}

export function portTypes(nodes) {
  const map = new Map();
  for (const n of nodes || []) {
    map.set(n.id, {
      inputs: Object.fromEntries(inputsOf(n).map((p) => [p.name, p.type])),
      outputs: Object.fromEntries(outputsOf(n).map((p) => [p.name, p.type])),
    });
  }
  return map;
}

export function compatSets(compat) {
  return Object.fromEntries(Object.entries(compat || {}).map(([k, v]) => [k, new Set(v)]));
}

export function canFeed(ctx, sourceType, targetType) {
  const set = ctx.compat[sourceType];
  return !!set && set.has(targetType);
}

// Merge the server's list into local state: an unchanged node keeps its very object (React Flow then
// skips it); a changed one keeps what the browser owns (measured size, selection, an in-flight drag).
export function merge(prev, next, sigs) {
  const old = new Map(prev.map((n) => [n.id, n]));
  const seen = new Map();
  const out = next.map((n) => {
    const sig = JSON.stringify(n);
    seen.set(n.id, sig);
    const local = old.get(n.id);
    if (!local) return n;
    if (sigs.get(n.id) === sig) return local;
    const merged = { ...n, selected: local.selected };
    if (local.measured && !n.measured) merged.measured = local.measured;
    if (local.dragging) { merged.dragging = true; merged.position = local.position; }
    return merged;
  });
  sigs.clear();
  seen.forEach((v, k) => sigs.set(k, v));
  return out;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[s.length >> 1] : 0; };
const within = (v, lo, hi) => Math.min(hi, Math.max(lo, Math.round(v)));

// Gaps sized to the nodes themselves (not fixed wide gaps): layers a quarter of a typical node's width
// apart, nodes in a layer a fifth of a typical node's height apart, so the layout stays compact.
export function layoutSpacing(sizes) {
  return {
    ranksep: within(median(sizes.map((s) => s.width)) * 0.25, 36, 64),
    nodesep: within(median(sizes.map((s) => s.height)) * 0.2, 12, 32),
    edgesep: 8,
  };
}

// Left-to-right layers of the pipeline's nodes (sticky notes stay where they are).
export function layoutLR(nodes, edges) {
  const pipeline = nodes.filter((n) => n.type !== "sticky");
  const ids = new Set(pipeline.map((n) => n.id));
  const sizes = pipeline.map((n) => ({
    width: (n.measured && n.measured.width) || 200, height: (n.measured && n.measured.height) || 90,
  }));
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", ...layoutSpacing(sizes), marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  pipeline.forEach((n, i) => g.setNode(n.id, sizes[i]));
  for (const e of edges) if (ids.has(e.source) && ids.has(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  const positions = {};
  for (const n of pipeline) {
    const p = g.node(n.id);
    positions[n.id] = { x: Math.round(p.x - p.width / 2), y: Math.round(p.y - p.height / 2) };
  }
  return positions;
}

const TERMINAL = new Set(TERMINAL_NODE_STATUSES);

// How an edge looks in a run: "fired" (its source port carried a value), "dim" (the source is done and
// the port did not fire: a branch not taken), or "" (no run, or the source has not finished).
export function edgeFlow(source, port) {
  if (!source) return "";
  if (source.fired && source.fired.includes(port)) return "fired";
  return TERMINAL.has(source.status) ? "dim" : "";
}

export function formatMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "";
  if (ms < 1) return ms > 0 ? `${ms.toFixed(1)} ms` : "0 ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

// Running nodes show their elapsed time. One timer for the page updates those labels in place (no
// React render, no server message), and stops by itself when no node is running.
let ticker = null;
export function startElapsedTicker() {
  if (ticker !== null || typeof document === "undefined") return;
  ticker = setInterval(() => {
    const labels = document.querySelectorAll(".pw-elapsed[data-since]");
    if (!labels.length) { clearInterval(ticker); ticker = null; return; }
    const now = Date.now();
    labels.forEach((el) => { el.textContent = formatMs(now - Number(el.getAttribute("data-since"))); });
  }, 100);
}
