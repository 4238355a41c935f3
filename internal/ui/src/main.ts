// The ONVM dashboard: a shell (navigation, credentials) and one page per
// hash route (#/overview, #/network, #/programs[/id], #/execute[/id],
// #/jobs[/id], #/blobs[/id]). Every page talks to the node through the
// TypeScript client in clients/ts, the same one users import.

import { Client } from "../../../clients/ts/onvm";
import { errorBox, h, put } from "./dom";
import { overview } from "./pages/overview";
import { network } from "./pages/network";
import { programs } from "./pages/programs";
import { execute } from "./pages/execute";
import { jobs } from "./pages/jobs";
import { blobs } from "./pages/blobs";

/** What every page gets. */
export interface Ctx {
  client: Client;
  /** Registers a cleanup run when the page is left. */
  onLeave(f: () => void): void;
  /** Calls f now and every ms while the tab is visible, until the page is left. */
  every(ms: number, f: () => Promise<void>): void;
}

type Page = (root: HTMLElement, args: string[], ctx: Ctx) => void | Promise<void>;

const pages: [string, string, Page][] = [
  ["overview", "Overview", overview],
  ["network", "Network", network],
  ["programs", "Programs", programs],
  ["execute", "Execute", execute],
  ["jobs", "Jobs", jobs],
  ["blobs", "Blobs", blobs],
];

const client = new Client();
let leave: (() => void)[] = [];

function route(): void {
  for (const f of leave) f();
  leave = [];
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const name = parts[0] || "overview";
  const page = pages.find((p) => p[0] === name);
  const nav = document.getElementById("nav")!;
  for (const a of Array.from(nav.querySelectorAll("a"))) a.classList.toggle("active", a.dataset.page === name);
  const root = document.getElementById("page")!;
  if (!page) {
    put(root, h("h2", {}, "Not found"), h("p", {}, "No page ", h("code", {}, location.hash), ". ", h("a", { href: "#/overview" }, "Overview")));
    return;
  }
  put(root);
  let alive = true;
  const ctx: Ctx = {
    client,
    onLeave: (f) => leave.push(f),
    every: (ms, f) => {
      let timer = 0;
      const tick = async (): Promise<void> => {
        if (!alive) return;
        if (document.visibilityState === "visible") {
          try {
            await f();
          } catch {
            // the page shows its own errors
          }
        }
        if (alive) timer = window.setTimeout(tick, ms);
      };
      void tick();
      leave.push(() => window.clearTimeout(timer));
    },
  };
  leave.push(() => {
    alive = false;
  });
  Promise.resolve(page[2](root, parts.slice(1), ctx)).catch((e) => root.append(errorBox(e)));
}

function login(): void {
  const form = document.getElementById("login") as HTMLFormElement;
  const status = h("span", { class: "muted" });
  const draw = (): void => {
    if (client.signed) {
      put(form, status, h("button", { type: "button", class: "secondary", onclick: () => {
        client.setCredentials(undefined);
        put(status, "");
        draw();
        route();
      } }, "Sign out"));
      return;
    }
    const project = h("input", { name: "project", placeholder: "project id", "aria-label": "project id" });
    const secret = h("input", { name: "secret", type: "password", placeholder: "secret (hex)", "aria-label": "project secret", autocomplete: "off" });
    put(form, status, project, secret, h("button", { type: "submit" }, "Sign in"));
    form.onsubmit = async (e) => {
      e.preventDefault();
      try {
        client.setCredentials({ projectId: project.value.trim(), secretHex: secret.value.trim() });
        const who = await client.authCheck();
        secret.value = "";
        put(status, "project " + (who.project_id ?? project.value));
        draw();
        route();
      } catch (err) {
        client.setCredentials(undefined);
        const box = errorBox(err);
        box.id = "login-error";
        document.getElementById("login-error")?.remove();
        document.getElementById("page")!.prepend(box);
      }
    };
  };
  // A node with authentication off needs no sign-in; any other answer
  // (401 first of all) shows the form.
  client.authCheck().then(
    (a) => (a.auth === "disabled" ? put(form, h("span", { class: "badge" }, "authentication off (dev node)")) : draw()),
    () => draw(),
  );
}

function start(): void {
  const nav = document.getElementById("nav")!;
  put(nav, ...pages.map(([id, label]) => {
    const a = h("a", { href: "#/" + id }, label);
    a.dataset.page = id;
    return a;
  }));
  login();
  window.addEventListener("hashchange", route);
  route();
}

start();
