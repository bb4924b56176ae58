// Zoomed far out (node text under ~5 px on screen), the canvas gets the class `pw-far` and its nodes a lighter
// body: they keep their boxes, colours, badges and handles but drop their text (far_zoom.css), and their
// handles are plain elements in the same place instead of React Flow <Handle>s, each of which runs a store
// selector on every store update (every frame of a drag: 4,000 of them with 1,000 nodes in view). So with
// hundreds of nodes in view a drag re-renders, repaints and re-layers a fraction of what it did. Node sizes
// are pinned (node_sizes.css), so nothing moves and React Flow measures nothing again. Wires cannot be
// started from a far handle: zoom in to connect.
import React, { useEffect, useSyncExternalStore } from "react";
import { useNodeId } from "@xyflow/react";
import "./far_zoom.css";
import { valueStore } from "./flow_format.js";

export const FAR_ZOOM = 0.4;

// Call once in the canvas: keeps `ctx.far` and the wrapper's class in step with the zoom.
export function useFarZoom(ctx, store, wrapperRef) {
  if (!ctx.far) ctx.far = valueStore(false);
  useEffect(() => {
    const apply = () => {
      const far = store.getState().transform[2] < FAR_ZOOM;
      if (wrapperRef.current) wrapperRef.current.classList.toggle("pw-far", far);
      ctx.far.set(far);
    };
    apply();
    return store.subscribe(apply);
  }, [ctx, store, wrapperRef]);
}

const NEAR = { get: () => false, subscribe: () => () => {} };

export function useIsFar(ctx) {
  const s = (ctx && ctx.far) || NEAR;
  return useSyncExternalStore(s.subscribe, s.get, () => false);
}

// A port row far out: the handle only, where React Flow measured it (same classes and data attributes).
export function FarPortRow({ side, className, port, color }) {
  const nodeId = useNodeId();
  const isIn = side === "in";
  const pos = isIn ? "left" : "right";
  return (
    <div className={className} data-port={port.name} data-side={side}>
      <div className={`react-flow__handle react-flow__handle-${pos} ${isIn ? "target" : "source"} pw-handle`}
        data-handleid={port.name} data-nodeid={nodeId} data-handlepos={pos}
        style={{ background: color, borderColor: color }} />
    </div>
  );
}
