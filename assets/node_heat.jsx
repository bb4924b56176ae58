// The heat map on a node: its p95 latency or cost per run over recent runs, as a badge with the number, and a
// tint of the node (the colour comes from Python: editor/monitor_views.py `heat_map`). Only this element
// subscribes to the node's heat entry, so turning the map on or off re-renders no node.
import React, { useLayoutEffect, useRef, useSyncExternalStore } from "react";

export function NodeHeat({ id, store }) {
  const key = useSyncExternalStore(store.subscribe, () => store.key(id), () => "");
  const heat = key ? JSON.parse(key) : null;
  const probe = useRef(null);
  const color = heat ? heat.color : "";
  useLayoutEffect(() => {  // tint the node's root element, which React renders without a style of its own
    const el = probe.current && probe.current.closest(".pw-node");
    if (!el) return;
    if (color) { el.setAttribute("data-heat", color); el.style.setProperty("--pw-heat", color); }
    else { el.removeAttribute("data-heat"); el.style.removeProperty("--pw-heat"); }
  }, [color]);
  return (
    <>
      <span ref={probe} hidden />
      {heat ? <span className={heat.value === null ? "pw-heat pw-heat-none" : "pw-heat"} data-testid={`heat-${id}`} data-color={heat.color}
        data-value={heat.value === null ? "" : String(heat.value)} style={{ background: heat.color }}
        title="Over the runs in the Monitor tab's window">{heat.label}</span> : null}
    </>
  );
}
