// The heat map on a node: its p95 latency or cost per run over recent runs, as a badge with the number, and a
// tint of the node (the colour comes from Python: editor/monitor_views.py `heat_map`). Only the node's live part
// (node_run.jsx `NodeLive`) subscribes to the node's heat entry, so turning the map on or off re-renders no node.
import React, { useLayoutEffect, useSyncExternalStore } from "react";
import { rootOf } from "./canvas_context.js";

// The node's heat entry ({color, value, label} or null); tints the node's root element (found from `probe`), which
// React renders without a style of its own.
export function useHeat(id, store, probe) {
  const key = useSyncExternalStore(store.subscribe, () => store.key(id), () => "");
  const heat = key ? JSON.parse(key) : null;
  const color = heat ? heat.color : "";
  useLayoutEffect(() => {
    const el = rootOf(probe);
    if (!el) return;
    if (color) { el.setAttribute("data-heat", color); el.style.setProperty("--pw-heat", color); }
    else if (el.hasAttribute("data-heat")) { el.removeAttribute("data-heat"); el.style.removeProperty("--pw-heat"); }
  }, [color, probe]);
  return heat;
}

export function HeatBadge({ id, heat }) {
  return (
    <span className={heat.value === null ? "pw-heat pw-heat-none" : "pw-heat"} data-testid={`heat-${id}`}
      data-color={heat.color} data-value={heat.value === null ? "" : String(heat.value)}
      style={{ background: heat.color }} title="Over the runs in the Monitor tab's window">{heat.label}</span>
  );
}
