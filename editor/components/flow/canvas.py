"""The React Flow canvas: a thin wrapper over `assets/flow_canvas.jsx` (see notes/reflex-react-flow.md).

Only semantic events reach Python (drop, connect, drag-stop, select, delete, undo/redo, copy/paste,
layout). Positions during a drag, selection and viewport stay in the browser. Actions the browser
does alone are on `window.__patchwire` (`layout()`, `fitView()`), called with `rx.call_script`.
"""

from __future__ import annotations

import reflex as rx
from reflex.event import passthrough_event_spec

__all__ = ["FlowCanvas", "flow_canvas", "XYFLOW_PKG", "DAGRE_PKG", "LAYOUT_JS", "FIT_VIEW_JS", "ADD_NOTE_JS"]

XYFLOW_PKG = "@xyflow/react@12.12.1"  # one constant per pin (notes: two pins for one package both install)
DAGRE_PKG = "@dagrejs/dagre@3.1.3"

LAYOUT_JS = "window.__patchwire && window.__patchwire.layout()"
FIT_VIEW_JS = "window.__patchwire && window.__patchwire.fitView()"
ADD_NOTE_JS = "window.__patchwireNotes && window.__patchwireNotes.add()"  # a note in the middle of the visible canvas

_dict_event = passthrough_event_spec(dict)


class FlowCanvas(rx.Component):
    library = rx.asset("flow_canvas.jsx").importable_path  # "$/public/flow_canvas.jsx"
    tag = "FlowCanvas"
    lib_dependencies: list[str] = [XYFLOW_PKG, DAGRE_PKG]

    nodes: rx.Var[list[dict]]  # [{id, c: "component@version", label?, missing?, in: [[name, type, required]],
    #                          out: [[name, type]]}]; the reserved `error` output is implied
    positions: rx.Var[dict]  # {node_id: [x, y]}
    edges: rx.Var[list[list]]  # [[source, source port, target, target port, type, invalid]]
    # nodes/positions/edges are a snapshot, re-read when graph_key changes; edits since arrive as
    # graph_patch {base: graph_key, seq, steps: [[seq, ops]]} (editor/graph_patches.py, assets/flow_patches.js)
    graph_key: rx.Var[int]
    graph_patch: rx.Var[dict]  # also {pipeline, epoch}: a patch of another pipeline or an older epoch is dropped
    pipeline_id: rx.Var[str]  # the pipeline the editor shows (the canvas applies only its graph)
    components: rx.Var[dict]  # {"component@version": {title, category, color, description, ports: {name: doc}}}
    node_status: rx.Var[dict]  # {node_id: {status, latency_ms?, started_at?, fired?, cache?}}, its own small var
    pins: rx.Var[dict]  # {node_id: where the pinned output came from}: marked on the node
    breakpoints: rx.Var[dict]  # {node_id: true}: a red dot on the node (assets/flow_breakpoints.jsx)
    node_issues: rx.Var[dict]  # {node_id: [{port, message, severity, code}]}
    compat: rx.Var[dict]  # {output type label: [input type labels it may feed]}
    fit_view_key: rx.Var[int]
    focus: rx.Var[dict]  # {"ids": [...], "key": n}: select and centre these nodes
    heat: rx.Var[dict]  # {node_id: {label, color}}: the heat map overlay (editor.monitor_views.heat_map), or {}
    read_only: rx.Var[bool]
    dirty: rx.Var[bool]  # warn before leaving with unsaved changes
    outlines: rx.Var[dict]  # {node_id: changed | added | differs}: outlined (a compared version or run)
    notes: rx.Var[list[dict]]  # sticky notes: [{key, id, x, y, w, h, text}] (editor.notes)
    quick_connect: rx.Var[dict]  # {key, items, error}: the components offered for a dropped wire

    on_connect: rx.EventHandler[_dict_event]
    on_drop_component: rx.EventHandler[_dict_event]
    on_move: rx.EventHandler[_dict_event]
    on_select: rx.EventHandler[_dict_event]
    on_delete: rx.EventHandler[_dict_event]
    on_undo: rx.EventHandler[_dict_event]
    on_redo: rx.EventHandler[_dict_event]
    on_copy: rx.EventHandler[_dict_event]
    on_paste: rx.EventHandler[_dict_event]
    on_duplicate: rx.EventHandler[_dict_event]
    on_save: rx.EventHandler[_dict_event]
    on_layout: rx.EventHandler[_dict_event]
    on_toggle_breakpoint: rx.EventHandler[_dict_event]  # {"nodes": [ids]}: a dot clicked, or F9
    on_resync: rx.EventHandler[_dict_event]  # the canvas missed a patch: send the whole graph again
    on_open_node: rx.EventHandler[_dict_event]  # double-click: {id}; opens a flow node's subflow
    on_group: rx.EventHandler[_dict_event]  # Ctrl+G
    on_ungroup: rx.EventHandler[_dict_event]  # Ctrl+Shift+G
    on_note_add: rx.EventHandler[_dict_event]
    on_note_change: rx.EventHandler[_dict_event]
    on_quick_connect_open: rx.EventHandler[_dict_event]
    on_quick_connect_pick: rx.EventHandler[_dict_event]


flow_canvas = FlowCanvas.create
