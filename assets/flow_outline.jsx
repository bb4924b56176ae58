// A node's outline: set when a compared pipeline version changed the node (`changed`, `added`) or two compared
// runs' outputs of it differ (`differs`). Like the status line, it subscribes to its own small store (the
// canvas context's `outlines`) and writes `data-outline` on the node's root element itself, so an outline
// never re-renders the node.
import React, { useLayoutEffect, useRef, useSyncExternalStore } from "react";
import "./flow_outline.css";

const NO_STORE = { subscribe: () => () => {}, key: () => "" };

export function NodeOutline({ id, store }) {
  const s = store || NO_STORE;
  const key = useSyncExternalStore(s.subscribe, () => s.key(id), () => "");
  const probe = useRef(null);
  const kind = key ? JSON.parse(key) : "";
  useLayoutEffect(() => {
    const el = probe.current && probe.current.closest(".pw-node");
    if (!el) return;
    if (kind) el.setAttribute("data-outline", kind); else el.removeAttribute("data-outline");
  }, [kind]);
  return <span ref={probe} hidden />;
}
