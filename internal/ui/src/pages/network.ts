// Network: peers with addresses and latency, and a picture of the DAG's
// recent vertices (one lane per author, parent edges, equivocating
// authors in red), walked back from the heads.

import type { Ctx } from "../main";
import type { Vertex } from "../../../../clients/ts/onvm";
import { errorBox, h, put, s, short, table } from "../dom";

const maxVertices = 60;

export async function network(root: HTMLElement, _args: string[], ctx: Ctx): Promise<void> {
  const c = ctx.client;
  const peersBox = h("div", { class: "card" }, "Loading…");
  const dagBox = h("div", { class: "card" }, "Loading…");
  put(root, h("h2", {}, "Network"), h("h3", {}, "Peers"), peersBox, h("h3", {}, "Recent DAG vertices"), dagBox);
  ctx.every(5000, async () => {
    try {
      const p = await c.peers();
      put(peersBox,
        h("p", {}, "this node: ", h("code", {}, p.self.peer_id)),
        h("p", { class: "muted" }, "bootnode addresses: ", ...(p.self.addrs ?? []).map((a) => h("div", { class: "mono" }, a))),
        (p.peers ?? []).length === 0
          ? h("p", { class: "muted" }, "No peers connected.")
          : table(["peer", "node", "addresses", "direction", "latency", "agent", "ONVM", "score"], (p.peers ?? []).map((x) => [
              h("code", {}, short(x.peer_id, 16)), h("code", {}, short(x.node_id, 12)), (x.addrs ?? []).join("\n"), x.direction,
              x.latency_ns ? (x.latency_ns / 1e6).toFixed(2) + " ms" : "—", x.agent_version, x.onvm ? "yes" : "no", x.score,
            ])),
      );
    } catch (e) {
      put(peersBox, errorBox(e));
    }
  });
  try {
    await drawDag(dagBox, ctx);
  } catch (e) {
    put(dagBox, errorBox(e));
  }
}

async function drawDag(box: HTMLElement, ctx: Ctx): Promise<void> {
  const c = ctx.client;
  const [heads, authors] = await Promise.all([c.dagHeads(), c.dagAuthors()]);
  const seen = new Map<string, Vertex>();
  let frontier = (heads.heads ?? []).slice();
  while (frontier.length > 0 && seen.size < maxVertices) {
    const batch = frontier.filter((x) => !seen.has(x)).slice(0, maxVertices - seen.size);
    const got = await Promise.all(batch.map((x) => c.dagVertex(x)));
    frontier = [];
    for (const v of got) {
      seen.set(v.id, v);
      frontier.push(...(v.parents ?? []));
    }
  }
  if (seen.size === 0) {
    put(box, h("p", { class: "muted" }, "The DAG is empty."));
    return;
  }
  const flagged = new Set((authors.authors ?? []).filter((a) => a.equivocated).map((a) => a.author));
  const lanes = Array.from(new Set(Array.from(seen.values()).map((v) => v.author))).sort();
  const vs = Array.from(seen.values());
  const seqs = vs.map((v) => v.seq);
  const minSeq = Math.min(...seqs);
  const maxSeq = Math.max(...seqs);
  const laneH = 40;
  const stepX = 28;
  const left = 110;
  const width = left + (maxSeq - minSeq + 1) * stepX + 20;
  const height = lanes.length * laneH + 20;
  const pos = new Map<string, [number, number]>();
  for (const v of vs) pos.set(v.id, [left + (v.seq - minSeq) * stepX, 20 + lanes.indexOf(v.author) * laneH]);
  const svg = s("svg", { class: "dag", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "DAG vertices" });
  lanes.forEach((a, i) => svg.append(s("text", { x: 4, y: 24 + i * laneH }, short(a, 10) + (flagged.has(a) ? " ⚠" : ""))));
  for (const v of vs) {
    const [x, y] = pos.get(v.id)!;
    for (const p of v.parents ?? []) {
      const q = pos.get(p);
      if (q) svg.append(s("line", { x1: q[0], y1: q[1], x2: x, y2: y }));
    }
  }
  for (const v of vs) {
    const [x, y] = pos.get(v.id)!;
    const ops = (v.ops ?? []).map((o) => o.name).join(", ") || "no operations";
    svg.append(s("circle", { cx: x, cy: y, r: 6, class: flagged.has(v.author) ? "equivocated" : "" }, s("title", {}, `${v.id}\nseq ${v.seq}\n${ops}`)));
  }
  put(box, h("p", { class: "muted" }, `${seen.size} most recent of ${heads.vertices} vertices; one lane per author, ${flagged.size} equivocating.`),
    h("div", { class: "scroll" }, svg));
}
