// Overview: node and peer ids, mode, version, min-peers gate, peers, DAG
// heads, and live charts of executions/s, jobs/s and blob bytes in/out,
// drawn from the node's own Prometheus metrics (one poll every 3 s while
// the tab is visible).

import type { Ctx } from "../main";
import { Series, promSum, sparkline } from "../chart";
import { bytes, errorBox, h, kv, put, short } from "../dom";

export async function overview(root: HTMLElement, _args: string[], ctx: Ctx): Promise<void> {
  const c = ctx.client;
  const info = h("div", { class: "card" }, h("p", { class: "muted" }, "Loading…"));
  const charts = h("div", { class: "grid" });
  const err = h("div");
  put(root, h("h2", {}, "Overview"), err, info, h("h3", {}, "Activity"), charts);
  const series = {
    exec: new Series(),
    jobs: new Series(),
    blobIn: new Series(),
    blobOut: new Series(),
  };
  const live = await c.liveness();
  ctx.every(3000, async () => {
    try {
      const [ready, peers, heads, prom] = await Promise.all([c.readiness(), c.peers(), c.dagHeads(), c.prometheus()]);
      put(err);
      const gate = peers.min_peers > 0 ? `${peers.onvm_peers} of ${peers.min_peers} needed` : "off (min_peers = 0)";
      put(info, kv([
        ["node id", h("code", {}, live.node_id)],
        ["peer id", h("code", {}, peers.self.peer_id)],
        ["mode", live.mode],
        ["version", ready.version],
        ["status", ready.status],
        ["min-peers gate", gate],
        ["peers", `${(peers.peers ?? []).length} connected, ${peers.onvm_peers} speak ONVM`],
        ["DAG", `${heads.vertices} vertices, ${(heads.heads ?? []).length} heads, ${heads.pending} pending`],
        ["heads", h("span", { class: "mono" }, (heads.heads ?? []).map((x) => short(x)).join(" ") || "—")],
        ["jobs", `${ready.capacity.current_jobs} running, ${ready.capacity.queue_depth} pending, ${ready.capacity.max_concurrent_jobs} slots`],
        ["resources", `${ready.resources.cpu_percent.toFixed(1)}% CPU, ${bytes(ready.resources.memory_used_bytes)} memory`],
      ]));
      const t = Date.now();
      series.exec.addCounter(t, promSum(prom, "onvm_http_requests_total", { route: "POST /execute" }));
      series.jobs.addCounter(t, promSum(prom, "onvm_jobs_transitions_total", { to: "completed" }));
      series.blobIn.addCounter(t, promSum(prom, "onvm_http_request_body_bytes_total", { route: "POST /blobs" }));
      series.blobOut.addCounter(t, promSum(prom, "onvm_http_response_body_bytes_total", { route: "GET /blobs/{id}" }));
      put(charts,
        stat("executions/s", series.exec.latest.toFixed(2), series.exec.values),
        stat("jobs completed/s", series.jobs.latest.toFixed(2), series.jobs.values),
        stat("blob bytes in/s", bytes(series.blobIn.latest), series.blobIn.values),
        stat("blob bytes out/s", bytes(series.blobOut.latest), series.blobOut.values),
      );
    } catch (e) {
      put(err, errorBox(e));
      throw e;
    }
  });
}

function stat(label: string, value: string, values: number[]): HTMLElement {
  return h("div", { class: "card stat" }, h("div", { class: "muted" }, label), h("div", { class: "big" }, value), sparkline(values));
}
