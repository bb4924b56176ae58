// Patchwire's pipeline canvas: React Flow 12 wrapped for Reflex (see notes/reflex-react-flow.md).
// The browser owns positions during a drag, selection and the viewport; only semantic events go to
// Python through the on* props. This file is published as a static asset: never put secrets here.
import React, { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import {
  Background, ControlButton, Controls, MiniMap, ReactFlow, ReactFlowProvider, applyEdgeChanges, applyNodeChanges,
  useNodesInitialized, useReactFlow, useStoreApi,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import "./flow_canvas.css";
import {
  canFeed, compatSets, keyedStore, layoutLR, startElapsedTicker, toFlowEdges, toFlowNodes,
} from "./flow_format.js";
import { CanvasContext } from "./canvas_context.js";
import { EDGE_TYPES, NODE_TYPES } from "./flow_nodes.jsx";
import { useBreakpoints } from "./flow_breakpoints.jsx";
import { useGraphSync } from "./flow_patches.js";
import { useQuickConnect } from "./quick_connect.jsx";
import { fitReadable } from "./readable_fit.js";
import { setComponentTitles } from "./node_sizes.js";
import { useConnectingStore } from "./connecting.js";
import { keepGivenHandles, useFarZoom } from "./far_zoom.jsx";
import { useAllInView } from "./all_in_view.js";
import { useSelectionSend } from "./selection_send.js";
import { isPressed, useOnRelease, withPressHeld } from "./pointer_press.js";
import { NoteActions, StickyNode, isNoteId, useStickyNotes } from "./sticky_note.jsx";

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

const DEFAULT_EDGE_OPTIONS = { interactionWidth: 16 };
// Big graphs render only what is in view (React Flow's own virtualisation) unless all of it is; small ones keep every
// node in the page, so off-screen nodes stay findable (search, tests, screen readers) and panning never re-mounts them.
const VIRTUALIZE_ABOVE = 200;
const ALL_NODE_TYPES = { ...NODE_TYPES, sticky: StickyNode };
const FIT_ICON = "M3.692 4.63c0-.53.4-.938.939-.938h5.215V0H4.708C2.13 0 0 2.054 0 4.63v5.216h3.692V4.631zM27.354 0h-5.2v3.692h5.17c.53 0 .984.4.984.939v5.215H32V4.631A4.624 4.624 0 0027.354 0zm.954 24.83c0 .532-.4.94-.939.94h-5.215v3.768h5.215c2.577 0 4.631-2.13 4.631-4.707v-5.139h-3.692v5.139zm-23.677.94c-.531 0-.939-.4-.939-.94v-5.138H0v5.139c0 2.577 2.13 4.707 4.708 4.707h5.138V25.77H4.631z";
const DELETE_KEYS = ["Backspace", "Delete"];

const isTyping = (t) => t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));

function FlowInner(props) {
  const rf = useReactFlow();
  const store = useStoreApi();
  keepGivenHandles(store);  // before React Flow's nodes render (assets/far_zoom.jsx)
  const wrapperRef = useRef(null);
  const propsRef = useRef(props);
  propsRef.current = props;
  const ctxRef = useRef(null);
  if (!ctxRef.current) {
    ctxRef.current = {
      status: keyedStore(), issues: keyedStore(), meta: keyedStore(), pins: keyedStore(), ports: new Map(), compat: {},
      heat: keyedStore(),
      outlines: keyedStore(),
    };
  }
  const ctx = ctxRef.current;
  useBreakpoints(ctx, props, rf);
  useConnectingStore(ctx, store);  // before the nodes render: they read ctx.connecting
  useFarZoom(ctx, store, wrapperRef);  // a lighter node body zoomed far out
  const sigs = useRef(new Map());
  const edgeSigs = useRef(new Map());
  setComponentTitles(props.components);  // node widths fit their titles (assets/node_sizes.js)
  const [nodes, setNodes] = useState(() => toFlowNodes(props.nodes, props.positions));
  const [edges, setEdges] = useState(() => toFlowEdges(props.edges));

  useLayoutEffect(() => {
    ctx.status.set(props.nodeStatus);
    if (Object.values(props.nodeStatus || {}).some((v) => v && v.status === "running")) startElapsedTicker();
  }, [props.nodeStatus]);
  useLayoutEffect(() => { ctx.pins.set(props.pins); }, [props.pins]);
  useLayoutEffect(() => { ctx.heat.set(props.heat); }, [props.heat]);
  useLayoutEffect(() => { ctx.outlines.set(props.outlines); }, [props.outlines]);
  useLayoutEffect(() => { ctx.issues.set(props.nodeIssues); }, [props.nodeIssues]);
  useLayoutEffect(() => { ctx.meta.set(props.components); }, [props.components]);
  useLayoutEffect(() => { ctx.compat = compatSets(props.compat); }, [props.compat]);
  // Server updates merge into the nodes as the pointer holds them (a drag's positions live in the store alone).
  const setNodesFromServer = useCallback((update) => setNodes((prev) => update(withPressHeld(prev, store))), [store]);
  useGraphSync(props, ctx, setNodesFromServer, setEdges, sigs.current, edgeSigs.current);  // snapshot + patches

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
    if (fitPending && initialized && nodes.length) { fitReadable(rf, store); setFitPending(false); }
  }, [fitPending, initialized, nodes.length, rf, store]);

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
    // Each edit names the pipeline it was made on: one from a canvas the tab has left is dropped by the server.
    if (fn && !propsRef.current.readOnly) fn({ ...(payload || {}), pipeline: propsRef.current.pipelineId });
  }, []);

  const layout = useCallback(() => {
    const ns = rf.getNodes();
    if (!ns.length) return;
    const positions = layoutLR(ns, rf.getEdges());
    setNodes((prev) => prev.map((n) => (positions[n.id] ? { ...n, position: positions[n.id] } : n)));
    call("onLayout", { positions: Object.entries(positions).map(([id, p]) => ({ id, x: p.x, y: p.y })) });
    requestAnimationFrame(() => fitReadable(rf, store));
  }, [rf, store, call]);

  useEffect(() => {
    const onKey = (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
        const form = document.querySelector("[data-testid=run-form]");
        if (form && form.requestSubmit) { e.preventDefault(); form.requestSubmit(); }
        return;
      }
      if (isTyping(e.target) || !(e.ctrlKey || e.metaKey)) return;
      const k = e.key.toLowerCase();
      if (k === "z" && !e.shiftKey) { e.preventDefault(); call("onUndo"); }
      else if ((k === "z" && e.shiftKey) || k === "y") { e.preventDefault(); call("onRedo"); }
      else if (k === "c") { if (!String(window.getSelection() || "")) call("onCopy"); }
      else if (k === "v") { call("onPaste"); }
      else if (k === "d") { e.preventDefault(); call("onDuplicate"); }
      else if (k === "s") { e.preventDefault(); call("onSave"); }
      else if (k === "g") { e.preventDefault(); call(e.shiftKey ? "onUngroup" : "onGroup"); }
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
      ready: true, layout, fitView: () => fitReadable(rf, store, { duration: 150 }),
      connect: (c) => call("onConnect", c), // the server's own check, bypassing the browser's (tests)
      remeasure: (ids) => store.getState().updateNodeInternals(new Map(ids.map((id) => [id, {  // as React Flow's
        id, nodeElement: document.querySelector(`.react-flow__node[data-id="${id}"]`), force: true }]))),  // ResizeObserver does (tests)
      rf,
    };
    return () => { if (window.__patchwire && window.__patchwire.rf === rf) delete window.__patchwire; };
  }, [layout, rf, store, call]);

  const readOnly = !!props.readOnly;
  const stickies = useStickyNotes({ notes: props.notes, focus: props.focus, readOnly, rf, call });
  const quick = useQuickConnect({ rf, call, offer: props.quickConnect, readOnly, wrapperRef });
  const shownNodes = useMemo(() => (stickies.noteNodes.length ? [...stickies.noteNodes, ...nodes] : nodes),
    [stickies.noteNodes, nodes]);
  // A big graph in view as a whole is rendered whole and shows no minimap (assets/all_in_view.js).
  const big = shownNodes.length > VIRTUALIZE_ABOVE;
  const allInView = useAllInView(store, big);
  const fitButton = useCallback(() => fitReadable(rf, store, { duration: 150 }), [rf, store]);
  const onNodesChange = useCallback((changes) => {
    setNodes((ns) => applyNodeChanges(changes.filter((c) => c.type !== "remove"), ns));
  }, []);
  // Selection changes made while a pointer is pressed (React Flow's on the press that starts a drag), kept in
  // React Flow's store alone until the release, like a drag's positions; then they go to the state.
  const heldSelection = useRef([]);
  const takeHeld = () => {
    const held = heldSelection.current;
    heldSelection.current = [];
    return held;
  };
  const routedNodesChange = useMemo(() => {
    const routed = stickies.route(onNodesChange);
    // While a drag moves pipeline nodes, the new positions go to React Flow's store alone: re-rendering the
    // canvas (and React Flow's lists of 1,000 nodes, 1,300 edges and the minimap) on every mouse move is what
    // made a drag slow with the whole graph in view. The drag's last change (dragging false) lands in the
    // state. A drag that moves a sticky note too goes through the state all along (the notes are state).
    const storeOnly = (changes) => {
      const rfState = store.getState();
      rfState.setNodes(applyNodeChanges(changes, rfState.nodes));
    };
    return (changes) => {
      if (!changes.length) return;
      if (changes.every((c) => c.type === "position" && c.dragging && !isNoteId(c.id))) storeOnly(changes);
      else if (isPressed() && changes.every((c) => c.type === "select" && !isNoteId(c.id))) {
        storeOnly(changes);
        heldSelection.current.push(...changes);
      } else {
        const held = takeHeld();
        routed(held.length ? held.concat(changes) : changes);
      }
    };
  }, [stickies.route, onNodesChange, store]);
  // After the release's task: a drag's drop, in it, takes the held changes along (one render, not two).
  useOnRelease(useCallback(() => setTimeout(() => {
    const held = takeHeld();
    if (held.length) onNodesChange(held);
  }, 0), [onNodesChange]));
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
  const onSelectionChange = useSelectionSend(propsRef);
  // Double-click a flow node: open its subflow (also on a read-only old run: opening is not editing).
  const onNodeDoubleClick = useCallback((event, node) => {
    const fn = propsRef.current.onOpenNode;
    if (fn) fn({ id: node.id });
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

  const nodeColor = useCallback((n) => (n.type === "sticky" ? "#fde047"
    : (ctx.meta.get(n.data.c) || {}).color || "#94a3b8"), [ctx]);
  // The flow itself re-renders only when the graph or a handler changes, never for a status update:
  // statuses reach the nodes through `ctx.status` (each node's status line subscribes to its entry).
  const flow = useMemo(() => (
    <ReactFlow nodes={shownNodes} edges={edges} nodeTypes={ALL_NODE_TYPES} edgeTypes={EDGE_TYPES}
      onNodesChange={routedNodesChange} onConnectEnd={quick.onConnectEnd}
      onEdgesChange={onEdgesChange} onConnect={onConnect} isValidConnection={isValidConnection}
      onNodeDragStop={onNodeDragStop} onSelectionChange={onSelectionChange} onDelete={onDelete}
      onNodeDoubleClick={onNodeDoubleClick}
      deleteKeyCode={readOnly ? null : DELETE_KEYS} nodesConnectable={!readOnly}
      nodesDraggable={!readOnly} minZoom={0.1} maxZoom={2} connectionRadius={24}
      zoomOnDoubleClick={!readOnly /* a node that cannot be dragged is not `nopan`: the pane's double-click zoom
        would swallow its double-click (no subflow opened on an old run) */}
      onlyRenderVisibleElements={big && !allInView}
      defaultEdgeOptions={DEFAULT_EDGE_OPTIONS}>
      <Background gap={20} size={1} />
      <Controls showFitView={false}>
        <ControlButton className="react-flow__controls-fitview" onClick={fitButton} title="Fit view (readable zoom)"
          aria-label="Fit view"><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 30"><path d={FIT_ICON} /></svg>
        </ControlButton>
      </Controls>
      {!allInView && <MiniMap pannable zoomable nodeColor={nodeColor} />}
    </ReactFlow>
  ), [shownNodes, edges, big, allInView, readOnly, nodeColor, onNodesChange, onEdgesChange, onConnect, isValidConnection,
    onNodeDragStop, onSelectionChange, onDelete, onNodeDoubleClick, routedNodesChange, quick.onConnectEnd, fitButton]);
  return (
    <CanvasContext.Provider value={ctx}>
      <div className={`pw-canvas ${props.className || ""}`} data-testid="canvas" data-nodes={nodes.length}
        data-edges={edges.length} data-all-in-view={allInView} onDragOver={onDragOver} onDrop={onDrop} ref={wrapperRef}>
        <NoteActions.Provider value={stickies.actions}>{flow}</NoteActions.Provider>
        {quick.element}
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
