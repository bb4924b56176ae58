// A node's outline: set when a compared pipeline version changed the node (`changed`, `added`) or two compared
// runs' outputs of it differ (`differs`). The node's live part (node_run.jsx `NodeLive`) subscribes to the canvas
// context's `outlines` store and writes `data-outline` on the node's root element itself, so an outline never
// re-renders the node.
import { useLayoutEffect, useSyncExternalStore } from "react";
import { rootOf } from "./canvas_context.js";
import "./flow_outline.css";

const NO_STORE = { subscribe: () => () => {}, key: () => "" };

// Keeps `data-outline` on the node's root element (found from `probe`) in step with the node's outline entry.
export function useOutline(id, store, probe) {
  const s = store || NO_STORE;
  const key = useSyncExternalStore(s.subscribe, () => s.key(id), () => "");
  const kind = key ? JSON.parse(key) : "";
  useLayoutEffect(() => {
    const el = rootOf(probe);
    if (!el) return;
    if (kind) el.setAttribute("data-outline", kind); else el.removeAttribute("data-outline");
  }, [kind, probe]);
}
