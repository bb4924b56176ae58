// A JSON tree for the inspector: objects and arrays fold, long strings show their start with "more".
// Values arrive already bounded by the server (editor/node_details.py); "show full" is a server action.
import React, { memo, useState } from "react";

const LONG = 240;

function Str({ text }) {
  const [open, setOpen] = useState(false);
  if (text.length <= LONG) return <span className="pw-json-str">"{text}"</span>;
  return (
    <span className="pw-json-str pw-json-long">
      "{open ? text : text.slice(0, LONG) + "…"}"
      <button type="button" className="pw-json-more" data-testid="json-more" onClick={() => setOpen(!open)}>
        {open ? "less" : `more (${text.length} chars)`}
      </button>
    </span>
  );
}

function Leaf({ value }) {
  if (value === null || value === undefined) return <span className="pw-json-null">null</span>;
  if (typeof value === "string") return <Str text={value} />;
  if (typeof value === "number") return <span className="pw-json-num">{String(value)}</span>;
  if (typeof value === "boolean") return <span className="pw-json-bool">{String(value)}</span>;
  return <span>{String(value)}</span>;
}

const isBranch = (v) => v !== null && typeof v === "object";

const Node = memo(function Node({ name, value, depth, openDepth }) {
  const [open, setOpen] = useState(depth < openDepth);
  const label = name === undefined ? null : <span className="pw-json-key">{name}: </span>;
  if (!isBranch(value)) return <div className="pw-json-row">{label}<Leaf value={value} /></div>;
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  const brackets = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  const size = Array.isArray(value) ? `${entries.length} item${entries.length === 1 ? "" : "s"}`
    : `${entries.length} key${entries.length === 1 ? "" : "s"}`;
  return (
    <div className="pw-json-row">
      <button type="button" className="pw-json-toggle" onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? "▾" : "▸"}
      </button>
      {label}
      {open ? (
        <>
          <span className="pw-json-punct">{brackets[0]}</span>
          <div className="pw-json-children">
            {entries.map(([k, v]) => <Node key={k} name={k} value={v} depth={depth + 1} openDepth={openDepth} />)}
          </div>
          <span className="pw-json-punct">{brackets[1]}</span>
        </>
      ) : (
        <span className="pw-json-punct pw-json-folded" onClick={() => setOpen(true)}>
          {brackets[0]} {size} {brackets[1]}
        </span>
      )}
    </div>
  );
});

export function JsonTree(props) {
  const value = props.value;
  const testid = props.testid || "json-tree";
  if (value === undefined) return null;
  return (
    <div className="pw-json" data-testid={testid}>
      <Node value={value} depth={0} openDepth={props.openDepth === undefined ? 2 : props.openDepth} />
    </div>
  );
}
