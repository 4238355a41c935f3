// Blobs: upload with a progress bar, look up by id (#/blobs); one blob's
// metadata, download and a safe preview (#/blobs/<id>).
//
// The preview never renders a blob's markup: images of raster types are
// shown through a blob: URL in an <img> (which runs no script, whatever
// the bytes), text is put in as a text node, and everything else — HTML
// and SVG included — is shown as text or not at all.

import type { Ctx } from "../main";
import { bytes, h, kv, link, put, run } from "../dom";

const rasterTypes = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"]);
const previewLimit = 256 << 10;

export async function blobs(root: HTMLElement, args: string[], ctx: Ctx): Promise<void> {
  if (args[0]) return blob(root, args[0], ctx);
  const c = ctx.client;
  const file = h("input", { type: "file", "aria-label": "file to upload" });
  const bar = h("progress", { max: 1, value: 0, id: "upload-progress" });
  const status = h("span", { class: "muted" });
  const out = h("div");
  const go = h("button", { type: "submit" }, "Upload");
  const cancel = h("button", { type: "button", class: "secondary", disabled: true }, "Cancel");
  const form = h("form", { class: "row" }, file, go, cancel, bar, status);
  form.onsubmit = (e) => {
    e.preventDefault();
    void run(out, async () => {
      const f = file.files?.[0];
      if (!f) throw new Error("choose a file first");
      const data = new Uint8Array(await f.arrayBuffer());
      const abort = new AbortController();
      cancel.disabled = false;
      cancel.onclick = () => abort.abort();
      go.disabled = true;
      const t0 = performance.now();
      put(out);
      try {
        const r = await c.uploadBlob(data, f.type || "application/octet-stream", {
          signal: abort.signal,
          onProgress: (done, total) => {
            bar.max = Math.max(1, total);
            bar.value = done;
            const secs = (performance.now() - t0) / 1000;
            put(status, `${bytes(done)} of ${bytes(total)}` + (secs > 0.5 ? `, ${bytes(done / secs)}/s` : ""));
          },
        });
        put(out, h("p", { class: "ok", id: "uploaded" }, "Stored ", link("#/blobs/" + r.id, r.id), ` (${bytes(r.size)})`));
      } finally {
        go.disabled = false;
        cancel.disabled = true;
      }
    });
  };
  const id = h("input", { placeholder: "blob…", size: 72, "aria-label": "blob id" });
  const look = h("form", { class: "row" }, id, h("button", { type: "submit" }, "Look up"));
  look.onsubmit = (e) => {
    e.preventDefault();
    location.hash = "#/blobs/" + encodeURIComponent(id.value.trim());
  };
  put(root, h("h2", {}, "Blobs"), h("div", { class: "card" }, h("h3", {}, "Upload"), form, out), h("div", { class: "card" }, h("h3", {}, "Look up"), look));
}

async function blob(root: HTMLElement, bid: string, ctx: Ctx): Promise<void> {
  const c = ctx.client;
  put(root, h("h2", {}, "Blob"), h("p", { class: "muted" }, "Loading…"));
  const info = await c.blobInfo(bid);
  const preview = h("div", { id: "preview" });
  const dl = h("div", { class: "row" });
  const bar = h("progress", { max: 1, value: 0 });
  let url = "";
  ctx.onLeave(() => url && URL.revokeObjectURL(url));
  const fetchAll = async (): Promise<{ bytes: Uint8Array; mime: string }> =>
    c.getBlob(info.id, { onProgress: (d, t) => { bar.max = Math.max(1, t); bar.value = d; } });
  const download = h("button", { type: "button", onclick: () => void run(dl, async () => {
    const r = await fetchAll();
    // A download of an opaque type: the browser saves it, never renders it.
    url = URL.createObjectURL(new Blob([r.bytes], { type: "application/octet-stream" }));
    const a = h("a", { href: url, download: info.id.slice(4, 20) + ".bin" }, "save");
    document.body.append(a);
    a.click();
    a.remove();
  }) }, "Download");
  put(dl, download, bar);
  put(root,
    h("h2", {}, "Blob ", h("code", {}, info.id)),
    h("p", {}, link("#/blobs", "upload or look up another")),
    h("div", { class: "card" }, kv([
      ["size", `${bytes(info.size)} (${info.size} bytes)`],
      ["type", info.mime],
      ["chunk groups", info.groups],
      ["complete here", info.complete ? "yes" : "no (metadata only; a download fetches it from peers)"],
      ["created", info.created_at],
    ]), dl),
    h("h3", {}, "Preview"), preview);
  await run(preview, async () => {
    const mime = info.mime.split(";")[0].trim().toLowerCase();
    if (rasterTypes.has(mime)) {
      if (info.size > 16 << 20) return put(preview, h("p", { class: "muted" }, "Too large to preview; download it."));
      const r = await fetchAll();
      url = URL.createObjectURL(new Blob([r.bytes], { type: mime }));
      put(preview, h("img", { class: "preview", src: url, alt: "preview of " + info.id }));
      return;
    }
    const r = await c.getBlob(info.id, info.size > 0 ? { range: [0, Math.min(info.size, previewLimit) - 1] } : {});
    const text = new TextDecoder("utf-8", { fatal: false }).decode(r.bytes);
    const printable = text.length > 0 && !/[\u0000-\u0008\u000e-\u001f]/.test(text.slice(0, 4096));
    if (!printable) return put(preview, h("p", { class: "muted" }, info.size === 0 ? "Empty blob." : "Binary content: no preview."));
    const note = /html|svg|xml/.test(mime) ? h("p", { class: "muted" }, "Markup is shown as source, never rendered.") : null;
    put(preview, note, h("pre", { class: "blob-text" }, text), info.size > previewLimit ? h("p", { class: "muted" }, `First ${bytes(previewLimit)} shown.`) : null);
  });
}
