// Sends the canvas's selection to Python, but not while a pointer is pressed. React Flow selects a node on the
// press that starts its drag (and a rubber band changes the selection on every move): sent at once, the
// server's inspector update landed in the drag's first frames and made them its slowest (66-83 ms frames with a
// 1,000-node graph in view). Held while the pointer is down, the last selection goes on release, once; a
// plain click selects after its release anyway, so it is sent at once as before.
import { useCallback, useEffect, useRef } from "react";

export function useSelectionSend(propsRef) {
  const sentKey = useRef("");
  const pressed = useRef(false);
  const held = useRef(null);
  const send = useCallback((payload) => {
    const key = JSON.stringify(payload);
    if (key === sentKey.current) return;
    sentKey.current = key;
    const fn = propsRef.current.onSelect;
    if (fn) fn(payload);
  }, [propsRef]);
  useEffect(() => {
    const press = () => { pressed.current = true; };
    const release = () => {
      pressed.current = false;
      const payload = held.current;
      held.current = null;
      if (payload) send(payload);
    };
    // In the capture phase, so that no handler stopping propagation hides a press or a release.
    const on = [["pointerdown", press], ["pointerup", release], ["pointercancel", release], ["mouseup", release]];
    on.forEach(([type, fn]) => window.addEventListener(type, fn, true));
    // The window losing focus mid-press (its release then goes elsewhere). Not in the capture phase, which also
    // sees every element losing focus, as the node a press lands on takes it.
    window.addEventListener("blur", release);
    return () => {
      on.forEach(([type, fn]) => window.removeEventListener(type, fn, true));
      window.removeEventListener("blur", release);
    };
  }, [send]);
  return useCallback(({ nodes, edges }) => {
    const payload = { nodes: nodes.map((n) => n.id).sort(), edges: edges.map((e) => e.id).sort() };
    if (pressed.current) held.current = payload;
    else send(payload);
  }, [send]);
}
