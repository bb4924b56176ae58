// Patchwire's pipeline canvas: React Flow 12 wrapped for Reflex (see notes/reflex-react-flow.md).
// The browser owns positions during a drag, selection and the viewport; only semantic events go to
// Python through the on* props. This file is published as a static asset: never put secrets here.
import React, {
  createContext, memo, useCallback, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState,
  useSyncExternalStore,
} from "react";
import {
  Background, Controls, Handle, MiniMap, Position, ReactFlow, ReactFlowProvider, applyEdgeChanges,
  applyNodeChanges, useConnection, useNodesInitialized, useReactFlow, useUpdateNodeInternals,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import "./flow_canvas.css";
import {
  ERROR_PORT, canFeed, compatSets, inputsOf, keyedStore, layoutLR, merge, outputsOf, portTypes, toFlowEdges,
  toFlowNodes, typeColor,
} from "./flow_format.js";

const MIME = "application/x-patchwire-component";

// One document-level dragstart listener: palette items are plain elements rendered by Reflex.
if (typeof document !== "undefined" && !window.__patchwireDragInstalled) {
  window.__patchwireDragInstalled = true;
  document.addEventListener("dragstart", (e) => {
    const el = e.target && e.target.closest ? e.target.closest("[data-palette-component]") : null;
    if (!el || !e.dataTransfer) return;
    e.dataTransfer.setData(MIME, el.getAttribute("data-palette-component"));
    e.dataTransfer.effectAllowed = "move";
  });
}

const CanvasContext = createContext(null);

const connectionKey = (c) => (c.inProgress && c.fromHandle
  ? `${c.fromHandle.nodeId}|${c.fromHandle.id}|${c.fromHandle.type}` : "");

function useNodeEntry(store, id) {
  const key = useSyncExternalStore(store.subscribe, () => store.key(id), () => "");
  return key ? JSON.parse(key) : null;
}

function PortRow({ side, port, mark, issue, doc }) {
  const isIn = side === "in";
  const isError = !isIn && port === ERROR_PORT;
  const color = typeColor(port.type);
  const cls = ["pw-port", isIn ? "pw-port-in" : "pw-port-out", mark ? `pw-${mark}` : "",
    issue ? "pw-port-bad" : "", isError ? "pw-port-error" : ""].join(" ");
  const tip = `${port.name}: ${port.type}${port.required ? " (required)" : ""}` +
    (isError ? "\nFires with {node, component, type, message, attempts} when the node fails" : "") +
    (doc ? `\n${doc}` : "") + (issue ? `\n⚠ ${issue}` : "");
  return (
    <div className={cls} title={tip} data-port={port.name} data-side={side}>
      <Handle type={isIn ? "target" : "source"} position={isIn ? Position.Left : Position.Right}
        id={port.name} className={`pw-handle ${mark ? `pw-${mark}` : ""}`}
        style={{ background: color, borderColor: color }} />
      <span className="pw-port-name">{port.name}{port.required && isIn ? "*" : ""}</span>
      {isError ? null : <span className="pw-port-type" style={{ color }}>{port.type}</span>}
    </div>
  );
}

const PipelineNode = memo(function PipelineNode({ id, data }) {
  const ctx = useContext(CanvasContext);
  const status = useNodeEntry(ctx.status, id);
  const issues = useNodeEntry(ctx.issues, id) || [];
  const meta = useNodeEntry(ctx.meta, data.c) || { title: data.c, category: "", color: "#94a3b8", ports: {} };
  const dragging = useConnection(connectionKey);
  const updateNodeInternals = useUpdateNodeInternals();
  const inputs = useMemo(() => inputsOf(data), [data]);
  const outputs = useMemo(() => outputsOf(data), [data]);
  // Re-measure the handles when the ports change (a param edit); React Flow measures new nodes itself,
  // and calling this for every node on mount costs a store update per node (seconds at 300 nodes).
  const portSig = inputs.map((p) => p.name).join(",") + "|" + outputs.map((p) => p.name).join(",");
  const measuredSig = useRef(portSig);
  useEffect(() => {
    if (measuredSig.current === portSig) return;
    measuredSig.current = portSig;
    updateNodeInternals(id);
  }, [id, portSig, updateNodeInternals]);

  let marks = {};
  if (dragging) {
    const [fromNode, fromHandle, fromType] = dragging.split("|");
    const from = ctx.ports.get(fromNode);
    if (fromType === "source" && from) {
      const t = from.outputs[fromHandle];
      for (const p of inputs) marks["in:" + p.name] = fromNode !== id && canFeed(ctx, t, p.type) ? "fits" : "dim";
    } else if (fromType === "target" && from) {
      const t = from.inputs[fromHandle];
      for (const p of outputs) marks["out:" + p.name] = fromNode !== id && canFeed(ctx, p.type, t) ? "fits" : "dim";
    }
  }
  const portIssue = {};
  for (const i of issues) if (i.port) portIssue[i.port] = (portIssue[i.port] ? portIssue[i.port] + "\n" : "") + i.message;
  const errors = issues.filter((i) => i.severity === "error").length;
  const st = (status && status.status) || "idle";
  return (
    <div data-testid={`node-${id}`} data-status={st} data-component={data.c}
      className={`pw-node pw-status-${st} ${data.missing ? "pw-missing" : ""}`}
      title={`${meta.title} (${data.c.replace("@", " v")}) · ${meta.category}\n${meta.description || ""}`}>
      <div className="pw-node-head" style={{ borderTopColor: meta.color }}>
        <span className="pw-dot" style={{ background: meta.color }} />
        <span className="pw-title">{data.label || meta.title}</span>
        <span className="pw-id">{id}</span>
        {issues.length > 0 && (
          <span className={`pw-badge ${errors ? "pw-badge-error" : "pw-badge-warning"}`}
            data-testid={`node-issues-${id}`} data-count={issues.length}
            title={issues.map((i) => i.message).join("\n")}>
            {issues.length}
            <span className="pw-tip">{issues.map((i, n) => <span key={n}>{i.message}</span>)}</span>
          </span>
        )}
      </div>
      <div className="pw-ports">
        <div className="pw-col">
          {inputs.map((p) => <PortRow key={p.name} side="in" port={p} mark={marks["in:" + p.name]}
            issue={portIssue[p.name]} doc={meta.ports && meta.ports[p.name]} />)}
        </div>
        <div className="pw-col pw-col-out">
          {outputs.map((p) => <PortRow key={p.name} side="out" port={p} mark={marks["out:" + p.name]}
            issue={portIssue[p.name]} doc={meta.ports && meta.ports[p.name]} />)}
        </div>
      </div>
    </div>
  );
});

const NODE_TYPES = { pipeline: PipelineNode };

const isTyping = (t) => t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));

function FlowInner(props) {
  const rf = useReactFlow();
  const propsRef = useRef(props);
  propsRef.current = props;
  const ctxRef = useRef(null);
  if (!ctxRef.current) {
    ctxRef.current = { status: keyedStore(), issues: keyedStore(), meta: keyedStore(), ports: new Map(), compat: {} };
  }
  const ctx = ctxRef.current;
  const sigs = useRef(new Map());
  const edgeSigs = useRef(new Map());
  const [nodes, setNodes] = useState(() => toFlowNodes(props.nodes, props.positions));
  const [edges, setEdges] = useState(() => toFlowEdges(props.edges));

  useLayoutEffect(() => { ctx.status.set(props.nodeStatus); }, [props.nodeStatus]);
  useLayoutEffect(() => { ctx.issues.set(props.nodeIssues); }, [props.nodeIssues]);
  useLayoutEffect(() => { ctx.meta.set(props.components); }, [props.components]);
  useLayoutEffect(() => { ctx.compat = compatSets(props.compat); }, [props.compat]);
  useLayoutEffect(() => {
    ctx.ports = portTypes(props.nodes);
    setNodes((prev) => merge(prev, toFlowNodes(props.nodes, props.positions), sigs.current));
  }, [props.nodes, props.positions]);
  useLayoutEffect(() => {
    setEdges((prev) => merge(prev, toFlowEdges(props.edges), edgeSigs.current));
  }, [props.edges]);

  // Fit the view when Python loads a graph (fit_view_key), once its nodes have been measured. Never
  // for an empty graph: the first node dropped would then re-fit the view and land away from the cursor.
  const initialized = useNodesInitialized();
  const [fitPending, setFitPending] = useState(() => (props.nodes || []).length > 0);
  const fitKey = useRef(props.fitViewKey);
  useEffect(() => {
    if (props.fitViewKey === fitKey.current) return;
    fitKey.current = props.fitViewKey;
    setFitPending((props.nodes || []).length > 0);
  }, [props.fitViewKey, props.nodes]);
  useEffect(() => {
    if (fitPending && initialized && nodes.length) { rf.fitView({ padding: 0.2, maxZoom: 1.1 }); setFitPending(false); }
  }, [fitPending, initialized, nodes.length, rf]);

  // Python asks to select and show nodes (e.g. a click on an issue).
  const focusKey = useRef(props.focus && props.focus.key);
  useEffect(() => {
    const f = props.focus || {};
    if (!f.key || f.key === focusKey.current) return;
    focusKey.current = f.key;
    const ids = new Set(f.ids || []);
    setNodes((ns) => ns.map((n) => (n.selected === ids.has(n.id) ? n : { ...n, selected: ids.has(n.id) })));
    setEdges((es) => es.map((e) => (e.selected ? { ...e, selected: false } : e)));
    if (f.center && ids.size) {
      rf.fitView({ nodes: [...ids].map((id) => ({ id })), duration: 200, maxZoom: 1.2, padding: 0.4 });
    }
  }, [props.focus, rf]);

  useEffect(() => {
    if (!props.dirty) return undefined;
    const warn = (e) => { e.preventDefault(); e.returnValue = ""; };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [props.dirty]);

  const call = useCallback((name, payload) => {
    const fn = propsRef.current[name];
    if (fn && !propsRef.current.readOnly) fn(payload || {});
  }, []);

  const layout = useCallback(() => {
    const ns = rf.getNodes();
    if (!ns.length) return;
    const positions = layoutLR(ns, rf.getEdges());
    setNodes((prev) => prev.map((n) => (positions[n.id] ? { ...n, position: positions[n.id] } : n)));
    call("onLayout", { positions: Object.entries(positions).map(([id, p]) => ({ id, x: p.x, y: p.y })) });
    requestAnimationFrame(() => rf.fitView({ padding: 0.2, maxZoom: 1.1 }));
  }, [rf, call]);

  useEffect(() => {
    const onKey = (e) => {
      if (isTyping(e.target) || !(e.ctrlKey || e.metaKey)) return;
      const k = e.key.toLowerCase();
      if (k === "z" && !e.shiftKey) { e.preventDefault(); call("onUndo"); }
      else if ((k === "z" && e.shiftKey) || k === "y") { e.preventDefault(); call("onRedo"); }
      else if (k === "c") { if (!String(window.getSelection() || "")) call("onCopy"); }
      else if (k === "v") { call("onPaste"); }
      else if (k === "d") { e.preventDefault(); call("onDuplicate"); }
      else if (k === "s") { e.preventDefault(); call("onSave"); }
      else if (k === "a") { e.preventDefault(); setNodes((ns) => ns.map((n) => ({ ...n, selected: true }))); }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [call]);

  // Palette items also work without dragging: double-click, or Enter on a focused item, adds the
  // component near the middle of the visible canvas.
  useEffect(() => {
    const itemOf = (e) => (e.target && e.target.closest ? e.target.closest("[data-palette-component]") : null);
    const add = (item) => {
      const pane = document.querySelector(".react-flow__pane");
      if (!pane) return;
      const r = pane.getBoundingClientRect();
      const shift = (rf.getNodes().length % 6) * 24;
      const p = rf.screenToFlowPosition({ x: r.left + r.width / 2 - 90 + shift, y: r.top + r.height / 2 - 50 + shift });
      call("onDropComponent", { component: item.getAttribute("data-palette-component"), x: p.x, y: p.y });
    };
    const onDblClick = (e) => { const item = itemOf(e); if (item) add(item); };
    const onEnter = (e) => { const item = e.key === "Enter" && itemOf(e); if (item) { e.preventDefault(); add(item); } };
    document.addEventListener("dblclick", onDblClick);
    document.addEventListener("keydown", onEnter);
    return () => { document.removeEventListener("dblclick", onDblClick); document.removeEventListener("keydown", onEnter); };
  }, [rf, call]);

  useEffect(() => {
    window.__patchwire = {
      ready: true, layout, fitView: () => rf.fitView({ padding: 0.2, maxZoom: 1.1, duration: 150 }),
      connect: (c) => call("onConnect", c), // the server's own check, bypassing the browser's (tests)
      rf,
    };
    return () => { if (window.__patchwire && window.__patchwire.rf === rf) delete window.__patchwire; };
  }, [layout, rf, call]);

  const onNodesChange = useCallback((changes) => {
    setNodes((ns) => applyNodeChanges(changes.filter((c) => c.type !== "remove"), ns));
  }, []);
  const onEdgesChange = useCallback((changes) => {
    setEdges((es) => applyEdgeChanges(changes.filter((c) => c.type !== "remove"), es));
  }, []);
  const isValidConnection = useCallback((c) => {
    if (c.source === c.target) return false;
    const s = ctx.ports.get(c.source);
    const t = ctx.ports.get(c.target);
    if (!s || !t) return false;
    return canFeed(ctx, s.outputs[c.sourceHandle], t.inputs[c.targetHandle]);
  }, [ctx]);
  const onConnect = useCallback((c) => call("onConnect", {
    source: c.source, sourceHandle: c.sourceHandle, target: c.target, targetHandle: c.targetHandle,
  }), [call]);
  const onNodeDragStop = useCallback((event, node, dragged) => {
    const moved = dragged && dragged.length ? dragged : [node];
    call("onMove", { positions: moved.map((n) => ({ id: n.id, x: n.position.x, y: n.position.y })) });
  }, [call]);
  const selKey = useRef("");
  const onSelectionChange = useCallback(({ nodes: ns, edges: es }) => {
    const payload = { nodes: ns.map((n) => n.id).sort(), edges: es.map((e) => e.id).sort() };
    const key = JSON.stringify(payload);
    if (key === selKey.current) return;
    selKey.current = key;
    const fn = propsRef.current.onSelect;
    if (fn) fn(payload);
  }, []);
  const onDelete = useCallback(({ nodes: ns, edges: es }) => {
    call("onDelete", { nodes: ns.map((n) => n.id), edges: es.map((e) => e.id) });
  }, [call]);
  const onDragOver = useCallback((e) => {
    if (Array.from(e.dataTransfer.types || []).includes(MIME)) { e.preventDefault(); e.dataTransfer.dropEffect = "move"; }
  }, []);
  const onDrop = useCallback((e) => {
    const component = e.dataTransfer.getData(MIME);
    if (!component) return;
    e.preventDefault();
    const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    call("onDropComponent", { component, x: p.x, y: p.y });
  }, [rf, call]);

  const readOnly = !!props.readOnly;
  return (
    <CanvasContext.Provider value={ctx}>
      <div className={`pw-canvas ${props.className || ""}`} data-testid="canvas" data-nodes={nodes.length}
        data-edges={edges.length} onDragOver={onDragOver} onDrop={onDrop}>
        <ReactFlow nodes={nodes} edges={edges} nodeTypes={NODE_TYPES} onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange} onConnect={onConnect} isValidConnection={isValidConnection}
          onNodeDragStop={onNodeDragStop} onSelectionChange={onSelectionChange} onDelete={onDelete}
          deleteKeyCode={readOnly ? null : ["Backspace", "Delete"]} nodesConnectable={!readOnly}
          nodesDraggable={!readOnly} minZoom={0.1} maxZoom={2} connectionRadius={24}
          defaultEdgeOptions={{ interactionWidth: 16 }}>
          <Background gap={20} size={1} />
          <Controls />
          <MiniMap pannable zoomable nodeColor={(n) => (ctx.meta.get(n.data.c) || {}).color || "#94a3b8"} />
        </ReactFlow>
      </div>
    </CanvasContext.Provider>
  );
}

export function FlowCanvas(props) {
  return (
    <ReactFlowProvider>
      <FlowInner {...props} />
    </ReactFlowProvider>
  );
}
