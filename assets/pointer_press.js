// Whether a pointer is pressed now, and a call on its release: the canvas holds what a press changes (the
// selection React Flow makes on the press that starts a drag) until then. One set of window listeners, in the
// capture phase so that no handler stopping propagation hides a press or a release; a release runs its calls
// before React Flow's own handlers for it (its drag's drop), as the window's capture phase comes first.
import { useEffect } from "react";

let pressed = false;
const onRelease = new Set();

function press() { pressed = true; }

function release() {
  if (!pressed) return;
  pressed = false;
  onRelease.forEach((fn) => fn());
}

if (typeof window !== "undefined") {
  window.addEventListener("pointerdown", press, true);
  ["pointerup", "pointercancel", "mouseup"].forEach((type) => window.addEventListener(type, release, true));
  // The window losing focus mid-press (its release then goes elsewhere). Not in the capture phase, which also
  // sees every element losing focus, as the node a press lands on takes it.
  window.addEventListener("blur", release);
}

export const isPressed = () => pressed;

// `fn` runs on every release while the calling component is mounted.
export function useOnRelease(fn) {
  useEffect(() => {
    onRelease.add(fn);
    return () => { onRelease.delete(fn); };
  }, [fn]);
}

// `nodes` (the canvas's own) with what React Flow's store alone holds while a pointer is pressed laid over them: a
// drag's positions and the press's selection. A server update landing mid-drag merges into these, so it never gives
// React Flow the positions the drag began from (the dragged node jumped back there, unselected, for a frame).
export function withPressHeld(nodes, store) {
  if (!pressed) return nodes;
  const live = new Map(store.getState().nodes.map((n) => [n.id, n]));
  let changed = false;
  const out = nodes.map((n) => {
    const held = live.get(n.id);
    if (!held || (!held.dragging && !!held.selected === !!n.selected)) return n;
    changed = true;
    return held.dragging ? { ...n, position: held.position, dragging: true, selected: held.selected }
      : { ...n, selected: held.selected };
  });
  return changed ? out : nodes;
}
