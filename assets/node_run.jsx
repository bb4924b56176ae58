// A node's live state from the run, the monitor and a comparison (shared by the node's full body and its far-zoom
// body): the status line, the heat badge and the attributes they set on the node's root element.
import React, { useLayoutEffect, useRef } from "react";
import { rootOf, useNodeEntry } from "./canvas_context.js";
import { HeatBadge, useHeat } from "./node_heat.jsx";
import { useOutline } from "./flow_outline.jsx";
import { formatMs } from "./flow_format.js";
import { IDLE } from "./run_statuses.js";
import { FlowBadges, MapProgress } from "./flow_subflows.jsx";

const CACHE_TEXT = { cache: "cached", reused: "reused", pinned: "pinned" };

// What a node shows of the run: its status, the elapsed time while it runs, its latency when done.
function RunLine({ id, status }) {
  const st = status.status;
  let time = null;
  if (st === "running" && status.started_at) {
    const since = status.started_at * 1000;
    time = <span className="pw-elapsed" data-testid={`node-elapsed-${id}`} data-since={since}>
      {formatMs(Date.now() - since)}</span>;
  } else if (status.latency_ms !== undefined && status.latency_ms !== null) {
    time = <span className="pw-latency" data-testid={`node-latency-${id}`}>{formatMs(status.latency_ms)}</span>;
  }
  const label = st === "cached" ? (CACHE_TEXT[status.cache] || "cached") : st;
  return (
    <div className="pw-node-run" data-testid={`node-run-${id}`}>
      <span className={`pw-run-dot pw-run-${st}`} />
      <span className="pw-run-label">{label}</span>
      {status.attempts > 1 ? <span className="pw-run-attempts" title="attempts">×{status.attempts}</span> : null}
      {status.progress ? <MapProgress id={id} progress={status.progress} /> : null}
      <FlowBadges id={id} status={status} />
      {time}
    </div>
  );
}

// What a run (and the monitor and a comparison) shows on a node, live: its status line and heat badge, and the
// `data-status` / `data-cache` / `data-heat` / `data-outline` attributes on the node's root element. Only this
// small component subscribes to the three stores, so a status change (25 a second on a large pipeline) re-renders
// the status line, not the node with its ports and handles. It writes the attributes on the root element itself,
// through one hidden probe (its own element, attached before this component's layout effects run); React never
// renders those attributes, so it never overwrites them. One probe and one component per node, not three: a
// thousand nodes in view are that many fewer elements to create, style and lay out.
export function NodeLive({ id, ctx }) {
  const probe = useRef(null);
  const status = useNodeEntry(ctx.status, id);
  const heat = useHeat(id, ctx.heat, probe);
  useOutline(id, ctx.outlines, probe);
  const st = (status && status.status) || IDLE;
  const cache = (status && status.cache) || "";
  useLayoutEffect(() => {
    const el = rootOf(probe);
    if (!el) return;
    el.setAttribute("data-status", st);
    if (cache) el.setAttribute("data-cache", cache); else el.removeAttribute("data-cache");
  }, [st, cache]);
  return (
    <>
      <span ref={probe} hidden />
      {st !== IDLE ? <RunLine id={id} status={status} /> : null}
      {heat ? <HeatBadge id={id} heat={heat} /> : null}
    </>
  );
}
