// Small live charts: a sparkline of the last samples of a rate.

import { s } from "./dom";

export class Series {
  readonly values: number[] = [];
  private last?: { t: number; v: number };
  constructor(readonly max = 60) {}

  /** Adds the rate per second between this counter sample and the previous one. */
  addCounter(t: number, v: number): void {
    if (this.last && t > this.last.t) {
      const rate = Math.max(0, v - this.last.v) / ((t - this.last.t) / 1000);
      this.values.push(rate);
      if (this.values.length > this.max) this.values.shift();
    }
    this.last = { t, v };
  }

  get latest(): number {
    return this.values.length ? this.values[this.values.length - 1] : 0;
  }
}

export function sparkline(values: number[], w = 220, h = 40): SVGElement {
  const max = Math.max(1e-9, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`);
  const d = pts.length ? "M" + pts.join(" L") : "";
  return s("svg", { class: "spark", width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: "img" }, s("path", { d }));
}

/** Parses Prometheus text and sums the samples of name whose labels match. */
export function promSum(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    let labels = "";
    let value = rest;
    if (rest.startsWith("{")) {
      const end = rest.indexOf("}");
      if (end < 0) continue;
      labels = rest.slice(1, end);
      value = rest.slice(end + 1);
    } else if (!rest.startsWith(" ")) continue;
    const ok = Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`));
    if (!ok) continue;
    const n = parseFloat(value.trim().split(" ")[0]);
    if (!Number.isNaN(n)) sum += n;
  }
  return sum;
}
