// Programs: the catalog and deploy from a .wasm file (#/programs); one
// program's manifest, committee, state root, receipts and a state key
// lookup with its proof (#/programs/<id>).

import type { Ctx } from "../main";
import { toBase64 } from "../../../../clients/ts/onvm";
import { errorBox, h, kv, link, put, run, short, table, time } from "../dom";
import { encodeInput } from "./execute";

export async function programs(root: HTMLElement, args: string[], ctx: Ctx): Promise<void> {
  if (args[0]) return program(root, args[0], ctx);
  const c = ctx.client;
  const list = h("div", { class: "card" }, "Loading…");
  const file = h("input", { type: "file", accept: ".wasm,application/wasm", "aria-label": "wasm module" });
  const entry = h("input", { value: "onvm_main", required: true, placeholder: "entrypoint", "aria-label": "entrypoint" });
  const salt = h("input", { placeholder: "salt text (default random)", "aria-label": "salt" });
  const out = h("div");
  const deploy = h("button", { type: "submit" }, "Deploy");
  const form = h("form", { class: "row" }, file, entry, salt, deploy);
  form.onsubmit = (e) => {
    e.preventDefault();
    void run(out, async () => {
      const f = file.files?.[0];
      if (!f) throw new Error("choose a .wasm file first");
      const wasm = new Uint8Array(await f.arrayBuffer());
      if (wasm.length < 8 || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) {
        throw new Error(`${f.name} is not a WebAssembly module (it does not start with \\0asm)`);
      }
      deploy.disabled = true;
      put(out, h("p", { class: "muted" }, "Deploying…"));
      try {
        const p = await c.deploy(wasm, {
          entrypoint: entry.value.trim(),
          saltBase64: salt.value ? toBase64(new TextEncoder().encode(salt.value)) : undefined,
        });
        put(out, h("p", { class: "ok", id: "deployed" }, "Deployed ", link("#/programs/" + p.id, p.id), " — ", link("#/execute/" + p.id, "execute it")));
        await drawList();
      } finally {
        deploy.disabled = false;
      }
    });
  };
  put(root, h("h2", {}, "Programs"), h("div", { class: "card" }, h("h3", {}, "Deploy a module"), form, out), list);
  const drawList = async (): Promise<void> => {
    const cat = await c.catalog({ limit: 200 });
    put(list, (cat.programs ?? []).length === 0
      ? h("p", { class: "muted" }, "No programs deployed yet.")
      : table(["program", "entrypoint", "deployer", "code", "deployed"], (cat.programs ?? []).map((p) => [
          link("#/programs/" + p.program_id, short(p.program_id, 20)), p.entrypoint, h("code", {}, short(p.deployer)),
          link("#/blobs/" + p.code_blob, short(p.code_blob, 16)), time(p.timestamp_ms),
        ])),
      cat.next_cursor ? h("p", { class: "muted" }, "Only the first 200 programs are shown.") : null);
  };
  try {
    await drawList();
  } catch (e) {
    put(list, errorBox(e));
  }
}

async function program(root: HTMLElement, pid: string, ctx: Ctx): Promise<void> {
  const c = ctx.client;
  put(root, h("h2", {}, "Program ", h("code", {}, short(pid, 24))), h("p", { class: "muted" }, "Loading…"));
  const [p, sr, rs] = await Promise.all([c.program(pid), c.stateRoot(pid), c.receipts(pid, { limit: 50 })]);
  const m = p.manifest;
  const receiptOut = h("div");
  const lookup = lookupForm(pid, ctx);
  put(root,
    h("h2", {}, "Program ", h("code", {}, p.id)),
    h("p", {}, link("#/execute/" + p.id, "Execute this program"), " · ", link("#/programs", "all programs")),
    h("div", { class: "card" }, h("h3", {}, "Manifest"), kv([
      ["manifest id", h("code", {}, m.manifest_id)],
      ["version", m.version],
      ["deployer", h("code", {}, m.deployer)],
      ["entrypoints", (m.entrypoints ?? []).join(", ")],
      ["code", link("#/blobs/" + m.code_blob, m.code_blob)],
      ["code size", m.code_size],
      ["instrumented", link("#/blobs/" + m.instrumented_blob, m.instrumented_blob)],
      ["wasm env hash", h("code", {}, m.wasm_env_hash)],
      ["salt", h("code", {}, m.salt_base64)],
      ["blob refs", m.blob_refs?.length ? m.blob_refs.join(", ") : "—"],
      ["initial state root", h("code", {}, m.initial_state_root)],
      ["deployed", time(m.timestamp_ms)],
      ["signature", h("code", {}, short(m.signature, 32))],
    ])),
    h("div", { class: "card" }, h("h3", {}, `Committee (epoch ${m.committee.epoch}, threshold ${m.committee.threshold})`),
      table(["member", "weight", "BLS key"], (m.committee.members ?? []).map((x) => [h("code", {}, x.node), x.weight, h("code", {}, short(x.bls_public_key, 24))])),
      h("p", { class: "muted" }, "The leader of each height rotates over the members in this order.")),
    h("div", { class: "card" }, h("h3", {}, "State"), kv([["root", h("code", {}, sr.root)], ["height", sr.height ?? "—"]]), lookup),
    h("div", { class: "card" }, h("h3", {}, "Receipts"),
      (rs.receipts ?? []).length === 0 ? h("p", { class: "muted" }, "No transitions yet.") :
        table(["height", "receipt", "fuel", "signers", "root out", "time"], (rs.receipts ?? []).map((r) => [
          r.height,
          h("a", { href: "#", onclick: (e: Event) => {
            e.preventDefault();
            void run(receiptOut, async () => put(receiptOut, h("pre", {}, JSON.stringify(await c.receipt(r.receipt_id), null, 2))));
          } }, short(r.receipt_id, 16)),
          r.fuel, h("code", {}, r.signer_bitmap), h("code", {}, short(r.state_root_out)), time(r.timestamp),
        ])),
      receiptOut),
  );
}

function lookupForm(pid: string, ctx: Ctx): HTMLElement {
  const key = h("input", { placeholder: "state key", "aria-label": "state key" });
  const fmt = h("select", { "aria-label": "key format" }, h("option", { value: "text" }, "text"), h("option", { value: "hex" }, "hex"));
  const out = h("div");
  const form = h("form", { class: "row" }, key, fmt, h("button", { type: "submit" }, "Look up with proof"));
  form.onsubmit = (e) => {
    e.preventDefault();
    void run(out, async () => {
      const raw = encodeInput(key.value, fmt.value);
      const keyHex = Array.from(raw, (b) => b.toString(16).padStart(2, "0")).join("");
      const r = await ctx.client.stateRoot(pid, { keyHex });
      let value: string = r.value_hex ?? "—";
      if (r.value_hex) {
        const bytes = new Uint8Array(r.value_hex.match(/../g)!.map((x) => parseInt(x, 16)));
        const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
        value = `${r.value_hex} (${JSON.stringify(text)})`;
      }
      put(out, kv([
        ["present", r.present ? "yes (membership proof)" : "no (non-membership proof)"],
        ["value", value],
        ["root", h("code", {}, r.root)],
        ["height", r.height ?? "—"],
      ]), h("details", {}, h("summary", {}, `proof: ${r.proof?.length ?? 0} sibling hashes, leaf level first`), h("pre", {}, (r.proof ?? []).join("\n"))));
    });
  };
  return h("div", {}, form, out);
}
