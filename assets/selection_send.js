// Sends the canvas's selection to Python, but not while a pointer is pressed. React Flow selects a node on the
// press that starts its drag (and a rubber band changes the selection on every move): sent at once, the
// server's inspector update landed in the drag's first frames and made them its slowest (66-83 ms frames with a
// 1,000-node graph in view). Held while the pointer is down, the last selection goes on release, once; a
// plain click selects after its release anyway, so it is sent at once as before.
import { useCallback, useRef } from "react";
import { isPressed, useOnRelease } from "./pointer_press.js";

export function useSelectionSend(propsRef) {
  const sentKey = useRef("");
  const held = useRef(null);
  const send = useCallback((payload) => {
    const key = JSON.stringify(payload);
    if (key === sentKey.current) return;
    sentKey.current = key;
    const fn = propsRef.current.onSelect;
    if (fn) fn(payload);
  }, [propsRef]);
  useOnRelease(useCallback(() => {
    const payload = held.current;
    held.current = null;
    if (payload) send(payload);
  }, [send]));
  return useCallback(({ nodes, edges }) => {
    const payload = { nodes: nodes.map((n) => n.id).sort(), edges: edges.map((e) => e.id).sort() };
    if (isPressed()) held.current = payload;
    else send(payload);
  }, [send]);
}
