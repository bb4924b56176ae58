// Every pipeline node's size and handle positions, computed before React Flow sees the node, so React Flow
// never has to render a node just to measure it: with `width`/`height`/`measured` and `handles` set it
// renders only the nodes in view (onlyRenderVisibleElements) and shows them at once, instead of rendering
// all of them hidden until their handles are measured (seconds on a 1,000-node pipeline).
// The heights and offsets below are pinned by node_sizes.css; the width is the text's own width (measured
// on a canvas), clamped as .pw-node's min/max width. tests/e2e/test_editor_big.py checks these numbers
// against what React Flow measures in the page.
import "./node_sizes.css";

const BORDER = 1;
const HEAD_H = 27; // .pw-node-head: 4 px top border + 4 + 15 px line + 3 + 1 px bottom border
const PORTS_TOP = 3; // .pw-ports padding
const PORTS_BOTTOM = 4;
const ROW_H = 15.75; // .pw-port: an 11 px line (line-height 1.25) + 1 px padding top and bottom
const ERROR_ROW_H = 13.25; // .pw-port-error: its 9 px name
const ROW_GAP = 1; // .pw-col gap
const HANDLE = 9; // .pw-handle
const ERROR_HANDLE = 7;
const MIN_W = 150; // .pw-node min-width / max-width (border-box)
const MAX_W = 230;
const TYPE_MAX_W = 96; // .pw-port-type max-width
const SANS = "ui-sans-serif, system-ui, sans-serif";
const MONO = "ui-monospace, monospace";
const FONTS = {
  title: `600 12px ${SANS}`, id: `10px ${MONO}`, name: `500 11px ${SANS}`, type: `9px ${MONO}`,
  error: `400 9px ${SANS}`,
};
const EM = { title: 7, id: 6, name: 6.2, type: 5.4, error: 5 }; // px per character when there is no canvas

let context = null;
const widths = new Map();

function textWidth(kind, text) {
  const key = kind + "\u0000" + text;
  let w = widths.get(key);
  if (w !== undefined) return w;
  if (context === null && typeof document !== "undefined") {
    context = document.createElement("canvas").getContext("2d") || false;
  }
  if (context) { context.font = FONTS[kind]; w = context.measureText(text).width; }
  else w = text.length * EM[kind];
  widths.set(key, w);
  return w;
}

// Node titles come from the components list (data.label overrides): set it before nodes are made.
let titles = {};
export function setComponentTitles(components) {
  titles = components || {};
}

function column(rows) {
  return rows.length ? rows.reduce((sum, r) => sum + r.h, 0) + ROW_GAP * (rows.length - 1) : 0;
}

function portRows(data) {
  const inputs = (data.in || []).map(([name, type, required]) => ({
    name, h: ROW_H, handle: HANDLE,
    w: 20 + textWidth("name", required ? `${name}*` : name) + 4 + Math.min(TYPE_MAX_W, textWidth("type", type)),
  }));
  const outputs = data.missing ? [] : [
    ...(data.out || []).map(([name, type]) => ({
      name, h: ROW_H, handle: HANDLE, w: 20 + textWidth("name", name) + 4 + Math.min(TYPE_MAX_W, textWidth("type", type)),
    })),
    { name: "error", h: ERROR_ROW_H, handle: ERROR_HANDLE, w: 20 + textWidth("error", "error") },
  ];
  return { inputs, outputs };
}

function handlesOf(rows, type, width) {
  let top = BORDER + HEAD_H + PORTS_TOP;
  return rows.map((r) => {
    const y = top + r.h / 2 - r.handle / 2;
    top += r.h + ROW_GAP;
    const x = type === "target" ? BORDER - r.handle / 2 : width - BORDER - r.handle / 2;
    return { id: r.name, type, position: type === "target" ? "left" : "right", x, y, width: r.handle, height: r.handle };
  });
}

// {width, height, handles} of a node from the server's compact format (editor/views.py) and its id.
export function nodeBox(id, data) {
  const { inputs, outputs } = portRows(data);
  const meta = titles[data.c];
  const title = data.label || (meta && meta.title) || data.c || "";
  const head = 14 + 11 + 7 + 15 + textWidth("title", title) + textWidth("id", id);
  const widest = (rows) => rows.reduce((m, r) => Math.max(m, r.w), 0);
  const ports = widest(inputs) + 8 + widest(outputs);
  const width = Math.min(MAX_W, Math.max(MIN_W, Math.ceil(Math.max(head, ports) + 2 * BORDER)));
  const body = Math.max(column(inputs), column(outputs));
  const height = Math.ceil(2 * BORDER + HEAD_H + PORTS_TOP + body + PORTS_BOTTOM);
  return { width, height, handles: [...handlesOf(inputs, "target", width), ...handlesOf(outputs, "source", width)] };
}

// A React Flow pipeline node with its size and handles set (what React Flow would otherwise measure).
export function sizedNode(node) {
  const box = nodeBox(node.id, node.data);
  return { ...node, width: box.width, height: box.height, measured: { width: box.width, height: box.height },
    handles: box.handles };
}
