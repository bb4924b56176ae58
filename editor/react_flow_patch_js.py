"""The JavaScript editor/react_flow_patch.py adds to React Flow 12.12.1 (its docstring says why): the store
slots for node and edge wrappers, and the chunked lists. Tests run parts of it in Node.
"""

SLOTS = """\
// Patchwire (editor/react_flow_patch.py): one store listener wakes only the wrappers whose node or edge changed.
// By the store's own `subscribe`: `useStoreApi()` gives each component a wrapper object of its own.
const pwRegistries = new WeakMap();
// The keys `setNodes` sets. An update that changes no other key, with the same node ids in the same order and no
// node with a parent (a parent's move moves its children's internals), changed the nodes whose objects are new
// and the edges at them, nothing else: React Flow keeps the internal node of every node object it was given
// before. A drag's moves are such updates. Any other update checks every slot.
const PW_NODES_KEYS = new Set(["nodes", "nodesInitialized", "nodesSelectionActive"]);
function pwChangedNodes(state, prev) {
    const nodes = state.nodes, before = prev.nodes;
    if (nodes === before || nodes.length !== before.length || state.parentLookup.size > 0) {
        return null;
    }
    for (const key in state) {
        if (state[key] !== prev[key] && !PW_NODES_KEYS.has(key)) {
            return null;
        }
    }
    const changed = [];
    for (let i = 0; i < nodes.length; i++) {
        if (nodes[i] === before[i]) {
            continue;
        }
        if (nodes[i].id !== before[i].id) {
            return null;
        }
        changed.push(nodes[i].id);
    }
    return changed;
}
// A slot is indexed under the node ids it shows (`slot.nodeIds`: a node's own, an edge's two ends).
function pwIndex(registry, slot) {
    const ids = slot.nodeIds;
    if (slot.indexed === ids) {
        return;
    }
    pwUnindex(registry, slot);
    slot.indexed = ids;
    for (const id of ids) {
        let slots = registry.byNode.get(id);
        if (!slots) {
            slots = new Set();
            registry.byNode.set(id, slots);
        }
        slots.add(slot);
    }
}
function pwUnindex(registry, slot) {
    for (const id of slot.indexed || []) {
        const slots = registry.byNode.get(id);
        if (slots) {
            slots.delete(slot);
            if (slots.size === 0) registry.byNode.delete(id);
        }
    }
    slot.indexed = null;
}
function pwCheck(registry, slot) {
    const value = slot.read();
    pwIndex(registry, slot);
    if (value !== slot.woken) {
        slot.woken = value;
        for (const wake of slot.listeners) wake();
    }
}
function pwWake(registry, state, prev) {
    const changed = pwChangedNodes(state, prev);
    if (changed === null) {
        for (const slot of registry.pwSlots) pwCheck(registry, slot);
        return;
    }
    const due = new Set();
    for (const id of changed) {
        for (const slot of registry.byNode.get(id) || []) due.add(slot);
    }
    for (const slot of due) pwCheck(registry, slot);
}
// A wrapper's view of the store: `read` returns the same object while what the wrapper shows is unchanged, and
// keeps `slot.nodeIds` (a new array when they change) to the ids of the nodes it shows.
function pwSlot(store, read, nodeIds) {
    let registry = pwRegistries.get(store.subscribe);
    if (!registry) {
        registry = { pwSlots: new Set(), byNode: new Map(), unsubscribe: null };
        pwRegistries.set(store.subscribe, registry);
    }
    const slot = { read, nodeIds, indexed: null, woken: undefined, listeners: new Set() };
    slot.subscribe = (wake) => {
        slot.listeners.add(wake);
        if (slot.listeners.size === 1) {
            slot.woken = read();
            registry.pwSlots.add(slot);
            pwIndex(registry, slot);
            if (!registry.unsubscribe) registry.unsubscribe = store.subscribe((state, prev) => pwWake(registry, state, prev));
        }
        return () => {
            slot.listeners.delete(wake);
            if (slot.listeners.size > 0) return;
            registry.pwSlots.delete(slot);
            pwUnindex(registry, slot);
            if (registry.pwSlots.size === 0 && registry.unsubscribe) {
                registry.unsubscribe();
                registry.unsubscribe = null;
            }
        };
    };
    return slot;
}
// Ids in chunks of at most PW_CHUNK (a keyed fragment each), an id in the same chunk for as long as it is
// listed, chunks in the order they were made: React re-renders a woken wrapper by walking down to it and
// checking every sibling of each fiber on the way, and 1,300 edges or 1,000 nodes as siblings of one
// another were most of a move's render. New ids go to the last chunk while it has room.
const PW_CHUNK = 32;
function usePwChunks(ids) {
    const kept = useRef(null);
    return useMemo(() => {
        const chunkOf = kept.current || (kept.current = new Map());
        const listed = new Set(ids);
        for (const id of chunkOf.keys()) {
            if (!listed.has(id)) chunkOf.delete(id);
        }
        const chunks = new Map();
        let last = -1;
        for (const id of ids) {
            const key = chunkOf.get(id);
            if (key === undefined) continue;
            if (!chunks.has(key)) chunks.set(key, []);
            chunks.get(key).push(id);
            last = Math.max(last, key);
        }
        for (const id of ids) {
            if (chunkOf.has(id)) continue;
            if (!chunks.has(last) || chunks.get(last).length >= PW_CHUNK) {
                last += 1;
                chunks.set(last, []);
            }
            chunkOf.set(id, last);
            chunks.get(last).push(id);
        }
        return [...chunks.keys()].sort((a, b) => a - b).map((key) => ({ key, ids: chunks.get(key) }));
    }, [ids]);
}
function pwChunked(chunks, render) {
    return chunks.map((chunk) => jsx(Fragment, { children: chunk.ids.map(render) }, chunk.key));
}
function usePwNode(store, id) {
    const slot = useMemo(() => {
        let last = null;
        return pwSlot(store, () => {
            const s = store.getState();
            const node = s.nodeLookup.get(id);
            const isParent = s.parentLookup.has(id);
            if (last !== null && (node === undefined  // removed: unmounted by its renderer next
                || (last.node === node && last.internals === node.internals && last.isParent === isParent))) {
                return last;
            }
            last = { node, internals: node.internals, isParent };
            return last;
        }, [id]);
    }, [store, id]);
    return useSyncExternalStore(slot.subscribe, slot.read);
}
"""

OLD_EDGE_POSITION = """\
    const { zIndex = edge.zIndex, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, } = useStore(useCallback((store) => {
        const sourceNode = store.nodeLookup.get(edge.source);
        const targetNode = store.nodeLookup.get(edge.target);
        if (!sourceNode || !targetNode) {
            return nullPosition;
        }
        const edgePosition = getEdgePosition({
            id,
            sourceNode,
            targetNode,
            sourceHandle: edge.sourceHandle || null,
            targetHandle: edge.targetHandle || null,
            connectionMode: store.connectionMode,
            onError,
        });
        const zIndex = getElevatedEdgeZIndex({
            selected: edge.selected,
            zIndex: edge.zIndex,
            sourceNode,
            targetNode,
            elevateOnSelect: store.elevateEdgesOnSelect,
            zIndexMode: store.zIndexMode,
        });
        return {
            ...(edgePosition || nullPosition),
            zIndex,
        };
    }, [edge.source, edge.target, edge.sourceHandle, edge.targetHandle, edge.selected, edge.zIndex, onError]), shallow);
"""


def _selector_body(old: str, after: str, until: str) -> str:
    """The body of the selector in `old` between the line holding `after` and the one starting with `until`,
    one level out: the patch's functions run upstream's own code."""
    lines = old.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if after in line) + 1
    end = next(i for i, line in enumerate(lines) if line.startswith(until))
    return "".join(line[4:] for line in lines[start:end])


EDGE_SLOT = """\
// Patchwire (editor/react_flow_patch.py): an edge's ends as its position was last computed from them.
function pwEnds(store, source, target) {
    return { source, target, pwSourceAt: source.internals.positionAbsolute, pwTargetAt: target.internals.positionAbsolute,
        sourceZ: source.internals.z, targetZ: target.internals.z, connectionMode: store.connectionMode,
        elevate: store.elevateEdgesOnSelect, zIndexMode: store.zIndexMode };
}
function pwSameEnds(last, store, source, target) {
    return last.source === source && last.target === target
        && last.pwSourceAt === source.internals.positionAbsolute && last.pwTargetAt === target.internals.positionAbsolute
        && last.sourceZ === source.internals.z && last.targetZ === target.internals.z
        && last.connectionMode === store.connectionMode && last.elevate === store.elevateEdgesOnSelect
        && last.zIndexMode === store.zIndexMode;
}
// What EdgeWrapper's position selector computed (React Flow 12.12.1), for `edge` with its default options.
function pwEdgePosition(store, id, edge, sourceNode, targetNode, onError) {
""" + _selector_body(OLD_EDGE_POSITION, "const targetNode = ", "    }, [edge.source") + """}
// { edge, defaultEdgeOptions, position }: a new object only when one of them changes.
function usePwEdge(store, id, onError) {
    const slot = useMemo(() => {
        let last = null;
        let ends = null;
        const slot = pwSlot(store, () => {
            const s = store.getState();
            const raw = s.edgeLookup.get(id);
            if (raw === undefined && last !== null) {
                return last;  // removed: unmounted by its renderer next
            }
            if (raw.source !== slot.nodeIds[0] || raw.target !== slot.nodeIds[1]) {
                slot.nodeIds = [raw.source, raw.target];
            }
            const options = s.defaultEdgeOptions;
            const sourceNode = s.nodeLookup.get(raw.source);
            const targetNode = s.nodeLookup.get(raw.target);
            const same = last !== null && last.edge === raw && last.defaultEdgeOptions === options;
            if (same && ends !== null && pwSameEnds(ends, s, sourceNode, targetNode)) {
                return last;
            }
            const position = pwEdgePosition(s, id, options ? { ...options, ...raw } : raw, sourceNode, targetNode, slot.onError);
            ends = sourceNode && targetNode ? pwEnds(s, sourceNode, targetNode) : null;
            if (!same || !shallow(last.position, position)) {
                last = { edge: raw, defaultEdgeOptions: options, position };
            }
            return last;
        }, []);
        return slot;
    }, [store, id]);
    slot.onError = onError;
    return useSyncExternalStore(slot.subscribe, slot.read);
}
"""

OLD_MINIMAP_NODE = """\
    const { node, x, y, width, height } = useStore((s) => {
        const node = s.nodeLookup.get(id);
        if (!node) {
            return { node: undefined, x: 0, y: 0, width: 0, height: 0 };
        }
        const userNode = node.internals.userNode;
        const { x, y } = node.internals.positionAbsolute;
        const { width, height } = getNodeDimensions(userNode);
        return {
            node: userNode,
            x,
            y,
            width,
            height,
        };
    }, shallow);
"""

MINIMAP_SLOT = """\
// Patchwire (editor/react_flow_patch.py): what a minimap node's selector computed (React Flow 12.12.1), and the
// box through a slot like a node's (one store listener), new only when the node or its internals are.
function pwMiniMapBox(s, id) {
""" + _selector_body(OLD_MINIMAP_NODE, "useStore((s) => {", "    }, shallow);") + """}
function usePwMiniMapNode(store, id) {
    const slot = useMemo(() => {
        let last = null;
        let seenNode = null;
        let seenInternals = null;
        return pwSlot(store, () => {
            const s = store.getState();
            const node = s.nodeLookup.get(id);
            if (last !== null && node === seenNode && (!node || node.internals === seenInternals)) {
                return last;
            }
            seenNode = node;
            seenInternals = node ? node.internals : null;
            const box = pwMiniMapBox(s, id);
            if (last === null || !shallow(last, box)) {
                last = box;
            }
            return last;
        }, [id]);
    }, [store, id]);
    return useSyncExternalStore(slot.subscribe, slot.read);
}
"""
