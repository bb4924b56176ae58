// Subflows on the canvas: a map node's live item counts (`37/100 · 2 failed`). Imported by flow_nodes.jsx;
// the breadcrumbs and group/ungroup buttons are Reflex components (editor/components/subflow_bar.py).
import React from "react";
import "./flow_subflows.css";

// `progress`: [done, total, failed] items of a flow.map node (editor/run_views.py `_entry`). The count
// shown is the items finished either way, so a finished map reads `100/100 · 2 failed`.
export function MapProgress({ id, progress }) {
  const [done, total, failed] = progress;
  return (
    <span className="pw-map-progress" data-testid={`map-progress-${id}`} data-done={done} data-total={total}
      data-failed={failed} title={`${done} done, ${failed} failed, ${total - done - failed} to go`}>
      {`${done + failed}/${total}`}{failed ? ` · ${failed} failed` : ""}
    </span>
  );
}
