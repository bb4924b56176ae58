// A small, safe Markdown renderer for sticky notes: headings, paragraphs, lists, quotes, code, **bold**,
// *italic*, `code` and [links](https://...). It builds React elements (never HTML strings), so note text
// can hold no markup or script; links open only http(s) and mailto addresses.
import React from "react";

// `_` emphasis only at word edges: `top_k_value` stays as written.
const INLINE = new RegExp([
  "(`[^`\\n]+`)", "(\\*\\*[^*\\n]+\\*\\*|(?<![A-Za-z0-9])__[^_\\n]+__(?![A-Za-z0-9]))",
  "(\\*[^*\\n]+\\*|(?<![A-Za-z0-9])_[^_\\n]+_(?![A-Za-z0-9]))", "(\\[[^\\]\\n]+\\]\\([^)\\s]+\\))"].join("|"), "g");
const SAFE_URL = /^(https?:\/\/|mailto:)/i;

export function inline(text, keyBase = "i") {
  const out = [];
  let last = 0;
  let n = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const t = m[0];
    const key = `${keyBase}${n++}`;
    if (m[1]) out.push(<code key={key}>{t.slice(1, -1)}</code>);
    else if (m[2]) out.push(<strong key={key}>{inline(t.slice(2, -2), key)}</strong>);
    else if (m[3]) out.push(<em key={key}>{inline(t.slice(1, -1), key)}</em>);
    else {
      const [, label, url] = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(t);
      out.push(SAFE_URL.test(url)
        ? <a key={key} href={url} target="_blank" rel="noopener noreferrer nofollow">{inline(label, key)}</a>
        : label);
    }
    last = m.index + t.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const LIST_ITEM = /^\s*([-*+]|\d+[.)])\s+(.*)$/;
const HEADING = /^(#{1,4})\s+(.*)$/;

function withBreaks(lines, key) {
  return lines.flatMap((line, i) => (i ? [<br key={`${key}b${i}`} />, ...inline(line, `${key}l${i}`)]
    : inline(line, `${key}l${i}`)));
}

// Split the text into blocks: [{kind, lines, ordered?, level?}].
function blocks(text) {
  const result = [];
  const lines = String(text || "").replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  const push = (block) => { result.push(block); };
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) { i += 1; continue; }
    if (line.trim().startsWith("```")) {
      const body = [];
      for (i += 1; i < lines.length && !lines[i].trim().startsWith("```"); i += 1) body.push(lines[i]);
      push({ kind: "code", lines: body });
      i += 1;
      continue;
    }
    const h = HEADING.exec(line);
    if (h) { push({ kind: "heading", level: h[1].length, lines: [h[2]] }); i += 1; continue; }
    const li = LIST_ITEM.exec(line);
    if (li) {
      const ordered = /\d/.test(li[1]);
      const items = [];
      for (; i < lines.length && LIST_ITEM.test(lines[i]); i += 1) items.push(LIST_ITEM.exec(lines[i])[2]);
      push({ kind: "list", ordered, lines: items });
      continue;
    }
    const kind = line.startsWith(">") ? "quote" : "para";
    const body = [];
    for (; i < lines.length && lines[i].trim() && !HEADING.test(lines[i]) && !LIST_ITEM.test(lines[i])
      && !lines[i].trim().startsWith("```") && lines[i].startsWith(">") === (kind === "quote"); i += 1) {
      body.push(kind === "quote" ? lines[i].replace(/^>\s?/, "") : lines[i]);
    }
    push({ kind, lines: body });
  }
  return result;
}

export function Markdown({ text }) {
  return blocks(text).map((b, n) => {
    const key = `b${n}`;
    if (b.kind === "code") return <pre key={key}><code>{b.lines.join("\n")}</code></pre>;
    if (b.kind === "heading") return React.createElement(`h${b.level + 2 > 6 ? 6 : b.level + 2}`, { key }, inline(b.lines[0], key));
    if (b.kind === "list") {
      const items = b.lines.map((t, k) => <li key={k}>{inline(t, `${key}i${k}`)}</li>);
      return b.ordered ? <ol key={key}>{items}</ol> : <ul key={key}>{items}</ul>;
    }
    if (b.kind === "quote") return <blockquote key={key}>{withBreaks(b.lines, key)}</blockquote>;
    return <p key={key}>{withBreaks(b.lines, key)}</p>;
  });
}
