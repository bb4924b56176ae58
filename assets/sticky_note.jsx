// Sticky notes: Markdown notes on the canvas, a React Flow node type ("sticky") with a resizer. They live
// in the spec's layout under `note:<id>` (editor/notes.py); Python sends them as their own prop, so a note
// edit never re-sends the pipeline's nodes. Moving and deleting go through the canvas's usual onMove /
// onDelete with the note's key as node id; text and size changes through onNoteChange.
import React, { createContext, memo, useCallback, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState }
  from "react";
import { NodeResizer, applyNodeChanges } from "@xyflow/react";
import { Markdown } from "./markdown_lite.jsx";
import { useOwnKeys } from "./own_keys.js";
import "./sticky_note.css";

export const NoteActions = createContext(null); // {readOnly, change(payload)}
export const isNoteId = (id) => typeof id === "string" && id.startsWith("note:");
const NOTE_SIZE = { w: 240, h: 140 };

export const StickyNode = memo(function StickyNode({ id, data, selected }) {
  const actions = useContext(NoteActions) || { readOnly: true, change: () => {} };
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(data.text);
  useEffect(() => { if (!editing) setDraft(data.text); }, [data.text, editing]);
  const save = useCallback(() => {
    setEditing(false);
    if (draft !== data.text) actions.change({ key: id, text: draft });
  }, [actions, draft, data.text, id]);
  const editorRef = useRef(null);
  useOwnKeys(editorRef, (e) => { // Escape drops the edit, Ctrl+Enter (or leaving the field) keeps it
    if (e.key === "Escape") { e.preventDefault(); setDraft(data.text); setEditing(false); }
    else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); save(); }
  }, editing);
  const onResizeEnd = useCallback((e, p) => {
    actions.change({ key: id, x: p.x, y: p.y, width: p.width, height: p.height });
  }, [actions, id]);
  return (
    <div className="pw-sticky nopan" data-testid={`sticky-${data.noteId}`} data-editing={editing ? "true" : "false"}
      title={actions.readOnly ? "" : "Double-click to edit (Markdown)"}
      onDoubleClick={() => { if (!actions.readOnly) setEditing(true); }}>
      <NodeResizer isVisible={!!selected && !actions.readOnly} minWidth={120} minHeight={60} onResizeEnd={onResizeEnd}
        color="#ca8a04" />
      {editing
        ? <textarea className="pw-sticky-editor nodrag nowheel" data-testid={`sticky-editor-${data.noteId}`} autoFocus
          ref={editorRef} value={draft} onChange={(e) => setDraft(e.target.value)} onBlur={save}
          aria-label="Note text (Markdown)" />
        : <div className="pw-sticky-body nowheel" data-testid={`sticky-text-${data.noteId}`}><Markdown text={data.text} /></div>}
    </div>
  );
});

function toNoteNodes(notes) {
  return (notes || []).map((n) => ({
    id: n.key, type: "sticky", position: { x: n.x, y: n.y }, width: n.w, height: n.h, zIndex: -1,
    data: { noteId: n.id, text: n.text },
  }));
}

// The server's notes merged into local ones: what the browser owns (selection, an in-flight drag or resize)
// is kept; an unchanged note keeps its very object.
function mergeNotes(prev, next) {
  const old = new Map(prev.map((n) => [n.id, n]));
  return next.map((n) => {
    const local = old.get(n.id);
    if (!local) return n;
    if (local.position.x === n.position.x && local.position.y === n.position.y && local.width === n.width
      && local.height === n.height && local.data.text === n.data.text) return local;
    const busy = local.dragging || local.resizing;
    return { ...n, selected: local.selected, measured: local.measured, dragging: local.dragging,
      ...(busy ? { position: local.position, width: local.width, height: local.height } : {}) };
  });
}

// Notes as React Flow nodes, the handler for their changes, and adding one in the middle of the view
// (the "Add note" button calls window.__patchwireNotes.add()).
export function useStickyNotes({ notes, focus, readOnly, rf, call }) {
  const [noteNodes, setNoteNodes] = useState(() => toNoteNodes(notes));
  useLayoutEffect(() => { setNoteNodes((prev) => mergeNotes(prev, toNoteNodes(notes))); }, [notes]);

  const focusKey = useRef(focus && focus.key);
  useEffect(() => { // Python selects a note it just added
    const f = focus || {};
    if (!f.key || f.key === focusKey.current) return;
    focusKey.current = f.key;
    const ids = new Set(f.ids || []);
    setNoteNodes((ns) => ns.map((n) => (!!n.selected === ids.has(n.id) ? n : { ...n, selected: ids.has(n.id) })));
  }, [focus]);

  const onNoteChanges = useCallback((changes) => {
    setNoteNodes((ns) => applyNodeChanges(changes.filter((c) => c.type !== "remove"), ns));
  }, []);
  const route = useCallback((onNodesChange) => (changes) => {
    const mine = changes.filter((c) => isNoteId(c.id));
    if (mine.length) onNoteChanges(mine);
    if (mine.length < changes.length) onNodesChange(mine.length ? changes.filter((c) => !isNoteId(c.id)) : changes);
  }, [onNoteChanges]);

  const add = useCallback(() => {
    const pane = document.querySelector(".react-flow__pane");
    if (!pane) return;
    const r = pane.getBoundingClientRect();
    const shift = (noteNodes.length % 5) * 20;
    const p = rf.screenToFlowPosition({ x: r.left + r.width / 2 + shift, y: r.top + r.height / 2 + shift });
    call("onNoteAdd", { x: p.x - NOTE_SIZE.w / 2, y: p.y - NOTE_SIZE.h / 2 });
  }, [rf, call, noteNodes.length]);
  useEffect(() => {
    window.__patchwireNotes = { add };
    return () => { if (window.__patchwireNotes && window.__patchwireNotes.add === add) delete window.__patchwireNotes; };
  }, [add]);

  const actions = useMemo(() => ({ readOnly, change: (p) => call("onNoteChange", p) }), [readOnly, call]);
  return { noteNodes, route, actions };
}
