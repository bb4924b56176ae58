// A refused upload, reported to the panel it came from. Reflex 0.10.1's upload client (`uploadFiles` in
// .web/utils/helpers/upload.js) only console.logs a failed `/_upload` request (an HTTP 413 from
// editor/upload_limit.py, a proxy's limit, a dropped connection) and has no error callback, so the user saw
// nothing. This watches the upload requests' XHRs and hands each failure, with the files it carried, to the
// <UploadRefusal handler=...> of the event handler that sent it (its `Reflex-Event-Handler` header).
import { useEffect, useRef } from "react";

const EVENT = "patchwire-upload-refused";

function watchUploads() {
  if (typeof window === "undefined" || window.__patchwireUploadWatch) return;
  window.__patchwireUploadWatch = true;
  const proto = XMLHttpRequest.prototype;
  const { open, setRequestHeader, send } = proto;
  proto.open = function (method, url, ...rest) {
    this.__pwUpload = /\/_upload\/?$/.test(new URL(String(url), window.location.href).pathname) ? {} : null;
    return open.call(this, method, url, ...rest);
  };
  proto.setRequestHeader = function (name, value) {
    if (this.__pwUpload && name.toLowerCase() === "reflex-event-handler") this.__pwUpload.handler = value;
    return setRequestHeader.call(this, name, value);
  };
  proto.send = function (body) {
    const upload = this.__pwUpload;
    if (upload) {
      const files = body instanceof FormData ? body.getAll("files").filter((f) => f instanceof Blob) : [];
      upload.files = files.map((f) => ({ name: f.name || "", size: f.size }));
      this.addEventListener("abort", () => { upload.aborted = true; });  // cancelled on purpose: no message
      this.addEventListener("loadend", () => {
        if (upload.aborted || (this.status >= 200 && this.status < 300)) return;
        const answer = this.status ? String(this.responseText || "").slice(0, 500) : "";
        window.dispatchEvent(new CustomEvent(EVENT, { detail: { ...upload, status: this.status, answer } }));
      });
    }
    return send.call(this, body);
  };
}

watchUploads();

export function UploadRefusal({ handler, onRefused }) {
  const callback = useRef(onRefused);
  callback.current = onRefused;
  useEffect(() => {
    const listener = (e) => {
      if (e.detail.handler === handler && callback.current) {
        const { status, answer, files } = e.detail;
        callback.current({ status, answer, files });
      }
    };
    window.addEventListener(EVENT, listener);
    return () => window.removeEventListener(EVENT, listener);
  }, [handler]);
  return null;
}
