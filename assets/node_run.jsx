// A node's run status line and the `data-status` / `data-cache` attributes on its root element (shared by the
// node's full body and its far-zoom body).
import React, { useContext, useLayoutEffect, useRef } from "react";
import { CanvasContext, useNodeEntry } from "./canvas_context.js";
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

// A node's run status: only this small component subscribes to it, so a status change re-renders the
// status line, not the node with its ports and handles (at 25 updates a second on a large pipeline,
// that is what keeps the canvas responsive). It writes `data-status` / `data-cache` on the node's
// root element itself; React never renders those two attributes, so it never overwrites them.
export function NodeRun({ id }) {
  const ctx = useContext(CanvasContext);
  const status = useNodeEntry(ctx.status, id);
  const probe = useRef(null);  // its own element: attached before this component's layout effects run
  const st = (status && status.status) || IDLE;
  const cache = (status && status.cache) || "";
  useLayoutEffect(() => {
    const el = probe.current && probe.current.closest(".pw-node");
    if (!el) return;
    el.setAttribute("data-status", st);
    if (cache) el.setAttribute("data-cache", cache); else el.removeAttribute("data-cache");
  }, [st, cache]);
  return (
    <>
      <span ref={probe} hidden />
      {st !== IDLE ? <RunLine id={id} status={status} /> : null}
    </>
  );
}
