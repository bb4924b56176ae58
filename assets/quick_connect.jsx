// Quick-connect: drop a wire on empty canvas (or press `/`) and a search palette opens at the cursor.
// For a dropped wire it lists only the components with a port that fits the dragged one; Python decides
// which (`is_assignable` on the real port types, editor/quick_connect.py): the browser asks with
// onQuickConnectOpen({key, link}) and shows the answer (`quickConnect` prop) for its latest key.
// Picking one calls onQuickConnectPick: Python adds the node at the drop point and wires it, in one edit.
import React, { useCallback, useEffect, useRef, useState } from "react";
import "./quick_connect.css";
import { useOwnKeys } from "./own_keys.js";

const MENU_W = 300;
const MENU_H = 320;
const isTyping = (t) => t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));

export function matches(item, query) {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const hay = `${item.id} ${item.title} ${item.category} ${item.description}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

function pointOf(event) {
  const t = event.changedTouches && event.changedTouches[0];
  return t ? { x: t.clientX, y: t.clientY } : { x: event.clientX, y: event.clientY };
}

// Released over empty canvas: the pane itself, not a node or a handle.
function overPane(x, y) {
  const el = typeof document !== "undefined" ? document.elementFromPoint(x, y) : null;
  return !!el && !!el.closest(".react-flow__pane") && !el.closest(".react-flow__node");
}

function QuickConnectMenu({ menu, offer, onPick, onClose }) {
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const ready = !!offer && offer.key === menu.key;
  const items = ready ? (offer.items || []).filter((it) => matches(it, query)) : [];
  const pick = (it) => { if (it) onPick(it); };
  const searchRef = useRef(null);
  useOwnKeys(searchRef, (e) => {
    if (e.key === "Escape") { e.preventDefault(); onClose(); }
    else if (e.key === "ArrowDown") { e.preventDefault(); setActive((a) => Math.min(a + 1, items.length - 1)); }
    else if (e.key === "ArrowUp") { e.preventDefault(); setActive((a) => Math.max(a - 1, 0)); }
    else if (e.key === "Enter") { e.preventDefault(); pick(items[Math.min(active, items.length - 1)]); }
  });
  const link = menu.link;
  const what = link ? `${link.node}.${link.port}` : "";
  let body;
  if (!ready) body = <div className="pw-qc-note">Finding components…</div>;
  else if (offer.error) body = <div className="pw-qc-note pw-qc-error" data-testid="quick-connect-error">{offer.error}</div>;
  else if (!items.length) {
    body = <div className="pw-qc-note">{query ? "No component matches." : `No installed component fits ${what}.`}</div>;
  } else {
    body = items.map((it, i) => (
      <div key={it.id} role="option" aria-selected={i === active} data-testid={`quick-connect-item-${it.id}`}
        data-port={it.port} className={`pw-qc-item ${i === active ? "pw-qc-active" : ""}`}
        title={it.description} onMouseEnter={() => setActive(i)}
        onMouseDown={(e) => { e.preventDefault(); pick(it); }}>
        <span className="pw-qc-dot" style={{ background: it.color }} />
        <span className="pw-qc-title">{it.title}</span>
        {it.port ? <span className="pw-qc-port">{link && link.side === "target" ? `${it.port} →` : `→ ${it.port}`}</span>
          : <span className="pw-qc-cat">{it.category}</span>}
      </div>
    ));
  }
  return (
    <div className="pw-qc nowheel nopan nodrag" style={{ left: menu.left, top: menu.top }} data-testid="quick-connect-menu"
      data-ready={ready ? "true" : "false"} data-link={what} data-count={items.length}>
      <input ref={searchRef} className="pw-qc-search" data-testid="quick-connect" autoFocus value={query} spellCheck={false}
        placeholder={link ? `Components that fit ${what}…` : "Add a component…"} aria-label="Search components"
        onChange={(e) => { setQuery(e.target.value); setActive(0); }} onBlur={onClose} />
      <div className="pw-qc-list" role="listbox">{body}</div>
    </div>
  );
}

// The palette's state and handlers; the canvas renders `element` inside its wrapper (`wrapperRef`).
export function useQuickConnect({ rf, call, offer, readOnly, wrapperRef }) {
  const [menu, setMenu] = useState(null);
  const seq = useRef(0);
  const pointer = useRef(null);
  const open = useCallback((x, y, link) => {
    const wrap = wrapperRef.current;
    if (!wrap || readOnly) return;
    const box = wrap.getBoundingClientRect();
    const key = `${Date.now()}-${++seq.current}`;
    setMenu({
      key, link, flow: rf.screenToFlowPosition({ x, y }),
      left: Math.max(4, Math.min(x - box.left, box.width - MENU_W - 4)),
      top: Math.max(4, Math.min(y - box.top, box.height - MENU_H - 4)),
    });
    call("onQuickConnectOpen", { key, link });
  }, [rf, call, readOnly, wrapperRef]);

  const onConnectEnd = useCallback((event, state) => {
    if (!state || state.isValid || state.toHandle || !state.fromHandle) return;
    const p = pointOf(event);
    if (!overPane(p.x, p.y)) return;
    const h = state.fromHandle;
    open(p.x, p.y, { node: h.nodeId, port: h.id, side: h.type });
  }, [open]);

  useEffect(() => {
    const onMove = (e) => { pointer.current = { x: e.clientX, y: e.clientY }; };
    const onKey = (e) => {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      const wrap = wrapperRef.current;
      if (!wrap) return;
      const box = wrap.getBoundingClientRect();
      const p = pointer.current;
      const inside = p && p.x >= box.left && p.x <= box.right && p.y >= box.top && p.y <= box.bottom;
      e.preventDefault();
      open(inside ? p.x : box.left + box.width / 2, inside ? p.y : box.top + box.height / 3, null);
    };
    document.addEventListener("pointermove", onMove, { passive: true });
    document.addEventListener("keydown", onKey);
    return () => { document.removeEventListener("pointermove", onMove); document.removeEventListener("keydown", onKey); };
  }, [open, wrapperRef]);

  const close = useCallback(() => setMenu(null), []);
  const onPick = useCallback((item) => {
    if (menu) call("onQuickConnectPick", { component: item.id, x: menu.flow.x, y: menu.flow.y, link: menu.link });
    setMenu(null);
  }, [call, menu]);
  const element = menu ? <QuickConnectMenu key={menu.key} menu={menu} offer={offer} onPick={onPick} onClose={close} /> : null;
  return { onConnectEnd, element };
}
