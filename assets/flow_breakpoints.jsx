// Breakpoints on the canvas: a red dot on each node that has one (a click on the dot toggles it) and F9 on
// the selected nodes. The set comes from Python (the `breakpoints` prop, {node id: true}); toggles go back
// through `onToggleBreakpoint({nodes: [ids]})`. Breakpoints belong to the editor, never to the spec.
import React, { useEffect, useLayoutEffect, useRef, useSyncExternalStore } from "react";
import { keyedStore } from "./flow_format.js";
import "./flow_debugger.css";

const isTyping = (t) => t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));

// Called once in the canvas: keeps `ctx.breakpoints` in step with the prop and installs F9.
export function useBreakpoints(ctx, props, rf) {
  const propsRef = useRef(props);
  propsRef.current = props;
  if (!ctx.breakpoints) {
    ctx.breakpoints = keyedStore();
    ctx.toggleBreakpoint = (ids) => {
      const p = propsRef.current;
      if (p.onToggleBreakpoint && !p.readOnly && ids.length) p.onToggleBreakpoint({ nodes: ids });
    };
  }
  useLayoutEffect(() => { ctx.breakpoints.set(props.breakpoints); }, [ctx, props.breakpoints]);
  useEffect(() => {
    const onKey = (e) => {
      if (e.key !== "F9" || isTyping(e.target)) return;
      e.preventDefault();
      ctx.toggleBreakpoint(rf.getNodes().filter((n) => n.selected).map((n) => n.id));
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [ctx, rf]);
}

const NO_STORE = { subscribe: () => () => {}, key: () => "" };
const stop = (e) => e.stopPropagation();

// The dot in a node's header: only it subscribes to the node's breakpoint entry.
// `onlyWhenOn` (a node far out): no dot at all without a breakpoint (a translucent dot on every node of a big
// graph costs the compositor a paint chunk each, and is too small there to click).
export function BreakpointToggle({ id, ctx, onlyWhenOn = false }) {
  const store = ctx.breakpoints || NO_STORE;
  const on = useSyncExternalStore(store.subscribe, () => store.key(id) !== "", () => false);
  if (onlyWhenOn && !on) return null;
  return (
    <button type="button" className={`pw-bp nodrag nopan ${on ? "pw-bp-on" : ""}`} data-testid={`breakpoint-${id}`}
      data-on={on ? "true" : "false"} aria-pressed={on}
      title={on ? "Breakpoint: runs from the editor pause before this node (click or F9 to remove)"
        : "Set a breakpoint: runs from the editor pause before this node (F9 on the selected node)"}
      onMouseDown={stop} onClick={(e) => { e.stopPropagation(); ctx.toggleBreakpoint([id]); }} />
  );
}
