// The canvas's nodes and edges: ports with typed handles, issue badges, and what a run shows (status line,
// latency, pins, edges that carried data). Status reaches them through small external stores in the
// canvas context, never through the nodes list (see notes/reflex-react-flow.md).
import React, { memo, useContext, useEffect, useMemo, useRef, useSyncExternalStore } from "react";
import { BaseEdge, Handle, Position, getBezierPath, useUpdateNodeInternals } from "@xyflow/react";
import { ERROR_PORT, canFeed, edgeFlow, inputsOf, outputsOf, typeColor } from "./flow_format.js";
import { BreakpointToggle } from "./flow_breakpoints.jsx";
import { useConnectingKey } from "./connecting.js";
import { FarNode, useIsFar } from "./far_zoom.jsx";
import { CanvasContext, useNodeEntry } from "./canvas_context.js";
import { NodeLive } from "./node_run.jsx";

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

// A node renders from its id and data only: a drag (new positions, z-index, `dragging`) or a selection
// (styled by React Flow's wrapper class) never re-renders its ports.
const sameNodeProps = (a, b) => a.id === b.id && a.data === b.data;

const PipelineNode = memo(function PipelineNode({ id, data }) {
  const ctx = useContext(CanvasContext);
  const pin = useNodeEntry(ctx.pins, id);
  const issues = useNodeEntry(ctx.issues, id) || [];
  const meta = useNodeEntry(ctx.meta, data.c) || { title: data.c, category: "", color: "#94a3b8", ports: {} };
  const far = useIsFar(ctx);
  const rootProps = {
    "data-testid": `node-${id}`, "data-component": data.c, "data-pinned": pin ? "true" : undefined,
    className: `pw-node ${data.missing ? "pw-missing" : ""} ${pin ? "pw-pinned" : ""}`,
    title: `${meta.title} (${data.c.replace("@", " v")}) · ${meta.category}\n${meta.description || ""}`,
  };
  const body = { id, data, ctx, meta, pin, issues, rootProps };
  return far ? <FarNode {...body} /> : <NearNode {...body} />;
}, sameNodeProps);

// A node's full body: title, id, pin, issues and typed ports with React Flow handles.
function NearNode({ id, data, ctx, meta, pin, issues, rootProps }) {
  const dragging = useConnectingKey(ctx);
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
  return (
    <div {...rootProps}>
      <div className="pw-node-head" style={{ borderTopColor: meta.color }}>
        <BreakpointToggle id={id} ctx={ctx} />
        <span className="pw-dot" style={{ background: meta.color }} />
        <span className="pw-title">{data.label || meta.title}</span>
        <span className="pw-id">{id}</span>
        {pin ? <span className="pw-pin" data-testid={`node-pin-${id}`}
          title={`Output pinned (${pin}): development runs from the editor use it instead of running this node. `
            + "Never part of the spec or its exports."}>pinned</span> : null}
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
      <NodeLive id={id} ctx={ctx} />
    </div>
  );
}

// Edges that carried data in the run are highlighted; edges of branches not taken are dimmed.
const PipelineEdge = memo(function PipelineEdge(props) {
  const ctx = useContext(CanvasContext);
  const { source, sourceHandleId } = props;
  const flow = useSyncExternalStore(ctx.status.subscribe, () => edgeFlow(ctx.status.get(source), sourceHandleId),
    () => "");
  const [path] = getBezierPath({
    sourceX: props.sourceX, sourceY: props.sourceY, sourcePosition: props.sourcePosition,
    targetX: props.targetX, targetY: props.targetY, targetPosition: props.targetPosition,
  });
  const far = useIsFar(ctx);  // far out, no wide invisible click path (one element less per edge)
  return <BaseEdge id={props.id} path={path} style={props.style} markerEnd={props.markerEnd}
    interactionWidth={far ? 0 : props.interactionWidth} className={flow ? `pw-edge-${flow}` : ""} />;
});

export const NODE_TYPES = { pipeline: PipelineNode };
export const EDGE_TYPES = { pipeline: PipelineEdge };
