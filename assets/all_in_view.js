// Whether a big graph is in view as a whole. Then every node is rendered anyway, so React Flow's virtualisation
// only costs: on every store update (each frame of a drag) it scans all nodes and edges for the ones in view.
// And the minimap has nothing to show that the canvas does not: it costs a store subscriber per node and a scan
// of all nodes' bounds on every update. With 1,000 nodes in view, both off, a drag's store update and React work
// per move went from ~11-13 to ~8-9 ms, and its frames from 26-27 to 19-21 ms on average (README, bench/).
import { useEffect, useState } from "react";
import { boxOf } from "./readable_fit.js";

// Every visible node inside the view (flow coordinates from React Flow's transform and the pane's size).
export function allNodesInView(state) {
  const { transform: [tx, ty, zoom], width, height, nodeLookup } = state;
  if (!width || !height || !nodeLookup.size) return false;
  const left = -tx / zoom;
  const top = -ty / zoom;
  const right = left + width / zoom;
  const bottom = top + height / zoom;
  for (const node of nodeLookup.values()) {
    if (node.hidden) continue;
    const { x, y, width: w, height: h } = boxOf(node);
    if (x < left || y < top || x + w > right || y + h > bottom) return false;
  }
  return true;
}

// Re-checked when the view, the pane's size or the nodes change (a node dragged out of the view included).
export function useAllInView(store, enabled) {
  const [all, setAll] = useState(false);
  useEffect(() => {
    if (!enabled) { setAll(false); return undefined; }
    let seen = {};
    const check = (state) => {
      if (state.transform === seen.transform && state.width === seen.width && state.height === seen.height
        && state.nodes === seen.nodes) return;
      seen = { transform: state.transform, width: state.width, height: state.height, nodes: state.nodes };
      setAll(allNodesInView(state));
    };
    check(store.getState());
    return store.subscribe(check);
  }, [store, enabled]);
  return enabled && all;
}
