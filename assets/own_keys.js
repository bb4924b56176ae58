// Keys typed into a note or the quick-connect search belong to that field alone. The page's React root is
// the document, so a React onKeyDown cannot keep the canvas's document-level shortcuts (Ctrl+Enter runs
// the pipeline) from seeing them: this native listener handles the keys and stops them at the field.
import { useEffect, useRef } from "react";

export function useOwnKeys(ref, onKey, active = true) {
  const handler = useRef(onKey);
  handler.current = onKey;
  useEffect(() => {
    const el = ref.current;
    if (!el || !active) return undefined;
    const listener = (e) => { e.stopPropagation(); handler.current(e); };
    el.addEventListener("keydown", listener);
    return () => el.removeEventListener("keydown", listener);
  }, [ref, active]);
}
