// Which handle a wire is being dragged from, for the nodes to mark the ports that fit. One subscription to
// React Flow's store (in the canvas) feeds a tiny store that changes only when a wire starts or ends, so the
// nodes do not each run a selector on every store update (every frame of a drag, with 1,000 nodes mounted).
import { useEffect, useSyncExternalStore } from "react";
import { valueStore } from "./flow_format.js";

const keyOf = (c) => (c && c.inProgress && c.fromHandle
  ? `${c.fromHandle.nodeId}|${c.fromHandle.id}|${c.fromHandle.type}` : "");

// Call once in the canvas, with React Flow's store api.
export function useConnectingStore(ctx, store) {
  if (!ctx.connecting) ctx.connecting = valueStore("");
  useEffect(() => {
    const apply = () => ctx.connecting.set(keyOf(store.getState().connection));
    apply();
    return store.subscribe(apply);
  }, [ctx, store]);
}

// In a node: "nodeId|handleId|source|target" while a wire is dragged, "" otherwise.
export function useConnectingKey(ctx) {
  const s = ctx.connecting;
  return useSyncExternalStore(s.subscribe, s.get, () => "");
}
