// DOM helpers. Text goes in as text nodes only: nothing from the node or
// from a blob is ever parsed as HTML.

import { NetworkError, OnvmError } from "../../../clients/ts/onvm";

export type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | ((e: Event) => void) | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const svgNS = "http://www.w3.org/2000/svg";

export function s(tag: string, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

function setAttrs(el: HTMLElement, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else if (k === "class") el.className = String(v);
    else if (k === "value" && "value" in el) (el as HTMLInputElement).value = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "number" ? String(c) : c);
  }
}

/** Replaces el's children. */
export function put(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A message for any error, fit for a person. */
export function describe(e: unknown): string {
  if (e instanceof OnvmError) {
    const hint = e.status === 401 ? " — enter this node's project credentials at the top right" : "";
    return `${e.message} (${e.status} ${e.code})${hint}`;
  }
  if (e instanceof NetworkError) return e.message;
  if (e instanceof DOMException && e.name === "AbortError") return "cancelled";
  if (e instanceof Error) return e.message;
  return String(e);
}

export function errorBox(e: unknown): HTMLElement {
  return h("div", { class: "error", role: "alert" }, describe(e));
}

/** Definition list of label/value pairs. */
export function kv(rows: [string, Child][]): HTMLElement {
  const dl = h("dl", { class: "kv" });
  for (const [k, v] of rows) dl.append(h("dt", {}, k), h("dd", {}, v));
  return dl;
}

export function table(head: string[], rows: Child[][]): HTMLElement {
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, ...head.map((x) => h("th", {}, x)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))),
  );
}

export function link(hash: string, text: string): HTMLAnchorElement {
  return h("a", { href: hash }, text);
}

export function short(id: string | null | undefined, n = 12): string {
  if (!id) return "—";
  return id.length > n + 4 ? id.slice(0, n) + "…" : id;
}

export function bytes(n: number): string {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return (i === 0 ? String(n) : n.toFixed(1)) + " " + u[i];
}

export function time(ms: number | null | undefined): string {
  if (!ms) return "—";
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** Runs an async action from a button, showing its error in out. */
export async function run(out: Element, f: () => Promise<void>): Promise<void> {
  try {
    await f();
  } catch (e) {
    put(out, errorBox(e));
  }
}
