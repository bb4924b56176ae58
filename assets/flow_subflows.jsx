// Subflows on the canvas: a map node's live item counts (`37/100 · 2 failed`), a loop's iteration, the runs of a node
// inside an open map or loop. Imported by flow_nodes.jsx;
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

// `loop`: [iteration, max_iterations] of a flow.loop node (runtime/flow/progress.py `LoopProgress`): the
// iteration running now, then the count it ran.
export function LoopProgress({ id, loop }) {
  const [iteration, bound] = loop;
  return (
    <span className="pw-map-progress" data-testid={`loop-progress-${id}`} data-iteration={iteration}
      data-max={bound} title={`${iteration} of at most ${bound} iterations`}>
      {`iteration ${iteration}/${bound}`}
    </span>
  );
}

// `counts`: [in flight, done, failed] runs of a node inside an open map or loop, over its items or
// iterations (runtime/flow/inner_status.py); the node's status is `running` while any of them runs it.
export function InnerCounts({ id, counts }) {
  const [running, done, failed] = counts;
  const parts = [running ? `${running} running` : "", `${done} done`, failed ? `${failed} failed` : ""];
  return (
    <span className="pw-map-progress" data-testid={`inner-counts-${id}`} data-running={running}
      data-done={done} data-failed={failed} title="Runs of this node over the items or iterations">
      {parts.filter(Boolean).join(" · ")}
    </span>
  );
}

// What a node shows of a loop or of the runs inside an open map or loop, beside its status.
export function FlowBadges({ id, status }) {
  return (
    <>
      {status.loop ? <LoopProgress id={id} loop={status.loop} /> : null}
      {status.counts ? <InnerCounts id={id} counts={status.counts} /> : null}
    </>
  );
}
