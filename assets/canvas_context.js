// What the canvas hands its nodes and edges without going through React Flow's nodes list: the small external
// stores (statuses, issues, pins, heat, outlines, breakpoints, the far-zoom flag...) in one context, and the
// hook a node part uses to follow its own entry of one of them.
import { createContext, useSyncExternalStore } from "react";

export const CanvasContext = createContext(null);

export function useNodeEntry(store, id) {
  const key = useSyncExternalStore(store.subscribe, () => store.key(id), () => "");
  return key ? JSON.parse(key) : null;
}

// The node's root element (`.pw-node`) around a probe element of one of its parts, found once per probe.
export function rootOf(probe) {
  if (!probe.current) return null;
  if (!probe.root || !probe.root.contains(probe.current)) probe.root = probe.current.closest(".pw-node");
  return probe.root;
}
