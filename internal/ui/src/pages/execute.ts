// Execute: run a program with input given as JSON, text, hex or a file,
// and show its return value, fuel, logs and receipt.

import type { Ctx } from "../main";
import { OnvmError, fromBase64, fromHex, toBase64, toHex } from "../../../../clients/ts/onvm";
import { errorBox, h, kv, link, put, run, short } from "../dom";

/** Encodes what a person typed in the given format. */
export function encodeInput(text: string, format: string): Uint8Array {
  switch (format) {
    case "json":
      JSON.parse(text); // a clear error for JSON that does not parse
      return new TextEncoder().encode(text);
    case "hex":
      return fromHex(text.replace(/\s+/g, ""));
    default:
      return new TextEncoder().encode(text);
  }
}

/** Shows bytes as text when they are UTF-8, and as hex always. */
export function showBytes(b: Uint8Array): HTMLElement {
  let text: string | null = null;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    text = null;
  }
  return h("div", {}, text !== null ? h("pre", { class: "return" }, text) : h("p", { class: "muted" }, "not UTF-8 text"),
    h("details", {}, h("summary", {}, `hex (${b.length} bytes)`), h("pre", {}, toHex(b))));
}

export async function execute(root: HTMLElement, args: string[], ctx: Ctx): Promise<void> {
  const c = ctx.client;
  const prog = h("input", { name: "program", placeholder: "prog…", value: args[0] ?? "", size: 72, "aria-label": "program id" });
  const fmt = h("select", { name: "format", "aria-label": "input format" }, ...["text", "json", "hex", "file"].map((f) => h("option", { value: f }, f)));
  const input = h("textarea", { name: "input", placeholder: "input", "aria-label": "input" });
  const file = h("input", { type: "file", "aria-label": "input file" });
  const fuel = h("input", { name: "fuel", type: "number", min: 1, placeholder: "fuel limit (node default)", "aria-label": "fuel limit" });
  const reqId = h("input", { name: "request", placeholder: "request id (optional)", "aria-label": "request id" });
  const go = h("button", { type: "submit" }, "Execute");
  const out = h("div", { id: "exec-result" });
  const form = h("form", {}, h("div", { class: "row" }, prog), h("div", { class: "row" }, fmt, file, fuel, reqId), input, h("div", { class: "row" }, go));
  form.onsubmit = (e) => {
    e.preventDefault();
    void run(out, async () => {
      const data = fmt.value === "file" ? new Uint8Array(await (file.files?.[0] ?? failNoFile()).arrayBuffer()) : encodeInput(input.value, fmt.value);
      go.disabled = true;
      put(out, h("p", { class: "muted" }, "Executing…"));
      try {
        const r = await c.execute({
          program_id: prog.value.trim(),
          input_base64: toBase64(data),
          fuel_limit: fuel.value ? Number(fuel.value) : undefined,
          request_id: reqId.value.trim() || undefined,
        });
        const receiptBox = h("div");
        put(out, h("div", { class: "card" },
          h("h3", {}, r.replayed ? "Result (replayed: the request id was used before)" : "Result"),
          showBytes(fromBase64(r.return_base64)),
          kv([
            ["fuel", r.fuel],
            ["height", r.height],
            ["state root", h("code", {}, r.state_root)],
            ["request id", h("code", {}, r.request_id)],
            ["receipt", h("a", { href: "#", id: "open-receipt", onclick: (ev: Event) => {
              ev.preventDefault();
              void run(receiptBox, async () => put(receiptBox, h("pre", { id: "receipt" }, JSON.stringify(await c.receipt(r.receipt_id), null, 2))));
            } }, short(r.receipt_id, 24))],
          ]),
          logs(r.logs ?? []),
          receiptBox));
      } catch (err) {
        const extra = err instanceof OnvmError && Array.isArray(err.detail.logs) ? logs(err.detail.logs as { source: string; level: number | string; message: string }[]) : null;
        const fuelUsed = err instanceof OnvmError && typeof err.detail.fuel_used === "number" ? h("p", {}, `fuel used: ${err.detail.fuel_used}`) : null;
        put(out, errorBox(err), fuelUsed, extra);
      } finally {
        go.disabled = false;
      }
    });
  };
  put(root, h("h2", {}, "Execute"), h("div", { class: "card" }, form), out,
    args[0] ? h("p", {}, link("#/programs/" + args[0], "program details")) : null);
}

function failNoFile(): never {
  throw new Error("choose an input file first");
}

export function logs(ls: { source: string; level: number | string; message: string }[]): HTMLElement | null {
  if (ls.length === 0) return null;
  return h("div", {}, h("h3", {}, "Logs"), h("pre", { class: "logs" }, ls.map((l) => `[${l.source} ${l.level}] ${l.message}`).join("\n")));
}

