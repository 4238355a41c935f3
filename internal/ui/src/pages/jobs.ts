// Jobs: the list with a status filter and a submit form (#/jobs); one
// job's live status, logs, output and cancel (#/jobs/<id>). A job page
// follows its job with the node's long-poll (GET /jobs/{id}?wait=), one
// request open at a time.

import type { Ctx } from "../main";
import type { Job } from "../../../../clients/ts/onvm";
import { fromBase64, toBase64 } from "../../../../clients/ts/onvm";
import { errorBox, h, kv, link, put, run, short, table, time } from "../dom";
import { encodeInput, showBytes } from "./execute";

const statuses = ["", "pending", "running", "completed", "failed", "cancelled", "timed_out", "expired"];
const terminal = new Set(["completed", "failed", "cancelled", "timed_out", "expired"]);

export async function jobs(root: HTMLElement, args: string[], ctx: Ctx): Promise<void> {
  if (args[0]) return job(root, args[0], ctx);
  const c = ctx.client;
  const filter = h("select", { "aria-label": "status filter" }, ...statuses.map((x) => h("option", { value: x }, x || "any status")));
  const list = h("div", { class: "card" }, "Loading…");
  const draw = async (): Promise<void> => {
    try {
      const l = await c.jobs({ status: filter.value || undefined, limit: 100 });
      put(list, (l.jobs ?? []).length === 0 ? h("p", { class: "muted" }, "No jobs.") : table(["job", "status", "program", "request id", "created", "fuel"],
        (l.jobs ?? []).map((j) => [link("#/jobs/" + j.job_id, short(j.job_id, 16)), badge(j), link("#/programs/" + j.program_id, short(j.program_id, 16)), j.request_id, time(j.created_at), j.fuel_consumed])));
    } catch (e) {
      put(list, errorBox(e));
    }
  };
  filter.onchange = () => void draw();
  put(root, h("h2", {}, "Jobs"), submitForm(ctx), h("div", { class: "row" }, filter), list);
  ctx.every(5000, draw);
}

function badge(j: Job): HTMLElement {
  return h("span", { class: "badge " + j.status }, j.status);
}

function submitForm(ctx: Ctx): HTMLElement {
  const prog = h("input", { placeholder: "prog…", size: 72, "aria-label": "program id" });
  const req = h("input", { placeholder: "request id", "aria-label": "request id" });
  const fmt = h("select", { "aria-label": "input format" }, ...["text", "json", "hex"].map((f) => h("option", { value: f }, f)));
  const input = h("textarea", { placeholder: "input", "aria-label": "job input" });
  const retries = h("input", { type: "number", min: 0, max: 100, placeholder: "max retries (3)", "aria-label": "max retries" });
  const out = h("div");
  const form = h("form", {}, h("div", { class: "row" }, prog), h("div", { class: "row" }, req, fmt, retries), input, h("div", { class: "row" }, h("button", { type: "submit" }, "Submit job")), out);
  req.value = "ui-" + Date.now().toString(36);
  form.onsubmit = (e) => {
    e.preventDefault();
    void run(out, async () => {
      const r = await ctx.client.submitJob({
        program_id: prog.value.trim(),
        request_id: req.value.trim(),
        input_base64: toBase64(encodeInput(input.value, fmt.value)),
        max_retries: retries.value ? Number(retries.value) : undefined,
      });
      location.hash = "#/jobs/" + r.job_id;
    });
  };
  return h("div", { class: "card" }, h("h3", {}, "Submit a job"), form);
}

async function job(root: HTMLElement, jid: string, ctx: Ctx): Promise<void> {
  const c = ctx.client;
  const info = h("div", { class: "card" }, "Loading…");
  const logBox = h("pre", { class: "logs" });
  const outBox = h("div");
  const act = h("div");
  put(root, h("h2", {}, "Job ", h("code", {}, jid)), h("p", {}, link("#/jobs", "all jobs")), act, info, h("h3", {}, "Logs"), logBox, outBox);
  let stop = false;
  ctx.onLeave(() => {
    stop = true;
  });
  let j = await c.job(jid);
  for (;;) {
    drawJob(info, act, j, ctx);
    const ls = await c.jobLogs(jid);
    logBox.textContent = (ls.logs ?? []).map((l) => `${time(l.timestamp)} [${l.source} ${l.level}] ${l.message}`).join("\n");
    if (terminal.has(j.status)) break;
    if (stop) return;
    try {
      j = await c.job(jid, { wait: "25s", status: j.status });
    } catch (e) {
      put(info, errorBox(e));
      return;
    }
    if (stop) return;
  }
  if (j.status === "completed") {
    await run(outBox, async () => {
      const o = await c.jobOutput(jid);
      put(outBox, h("h3", {}, "Output"), showBytes(fromBase64(o.output_base64)), o.output_blob_id ? h("p", {}, "output blob: ", link("#/blobs/" + o.output_blob_id, o.output_blob_id)) : "");
    });
  }
}

function drawJob(info: HTMLElement, act: HTMLElement, j: Job, ctx: Ctx): void {
  put(info, kv([
    ["status", h("span", { id: "job-status", class: "badge " + j.status }, j.status)],
    ["program", link("#/programs/" + j.program_id, j.program_id)],
    ["request id", j.request_id],
    ["created", time(j.created_at)],
    ["started", time(j.started_at)],
    ["completed", time(j.completed_at)],
    ["attempts", `${j.attempts} (retries ${j.retry_count} of ${j.max_retries})`],
    ["fuel", j.fuel_consumed],
    ["failure", j.failure_reason ? `${j.failure_reason}: ${j.error_message ?? ""}` : "—"],
    ["next attempt", time(j.next_attempt_at)],
    ["receipt", j.receipt_id ? h("code", {}, j.receipt_id) : "—"],
  ]));
  if (terminal.has(j.status)) {
    put(act);
    return;
  }
  const msg = h("span");
  put(act, h("button", { class: "secondary", onclick: () => void run(msg, async () => {
    await ctx.client.cancelJob(j.job_id);
  }) }, "Cancel job"), msg);
}
