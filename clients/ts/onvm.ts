// ONVM TypeScript client: every route of a node's HTTP API, typed, with
// request signing (ONVM2-HMAC-SHA256 over WebCrypto), typed errors that
// carry the node's error code, and blob upload and download with progress
// and cancellation, and BLAKE3 verification of downloaded blobs against
// their id, so a caller trusts bytes, not a node. ESM, no runtime dependencies; runs in browsers and in
// Node >= 20 (fetch and WebCrypto are global there).
//
// The routes and fields are those of docs/api.md and docs/openapi.json.

import type * as T from "./types";
import { Blake3, blake3 } from "./blake3";
export * from "./types";
export { Blake3, blake3 } from "./blake3";

/** Project credentials of a node (`onvm generate-project`). */
export interface Credentials {
  projectId: string;
  /** The project secret as printed by the node: 64 hex digits. */
  secretHex: string;
}

export interface ClientOptions {
  /** Base URL of the node's API; "" means the page's own origin. */
  baseUrl?: string;
  /** Credentials sign every request; without them requests go unsigned (a --dev node). */
  credentials?: Credentials;
  /** fetch to use (tests); defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface TransferOptions {
  /** Called with the bytes moved so far and the total (when known). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** An error answer of the node: `{"error":{"code","message"}}` and the HTTP status. */
export class OnvmError extends Error {
  readonly status: number;
  readonly code: string;
  /** The whole error object, with extra fields such as fuel_used and logs. */
  readonly detail: Record<string, unknown>;
  constructor(status: number, code: string, message: string, detail: Record<string, unknown> = {}) {
    super(message);
    this.name = "OnvmError";
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/** The node could not be reached at all (down, wrong address, CORS). */
export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NetworkError";
  }
}

/** A downloaded blob's bytes do not hash to its id: the node sent other bytes. */
export class IntegrityError extends Error {
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string) {
    super("the node sent bytes that are not blob " + expected + " (they hash to blob" + actual + ")");
    this.name = "IntegrityError";
    this.expected = expected;
    this.actual = actual;
  }
}

/** The id of a blob with these bytes: "blob" and the BLAKE3 hash in hex. */
export function blobIdOf(data: Uint8Array): string {
  return "blob" + toHex(blake3(data));
}

// blobHash is the hash an id text names (with or without its prefix,
// any case), or undefined when it is not a blob id.
function blobHash(id: string): string | undefined {
  const t = id.trim().toLowerCase().replace(/^blob/, "");
  return /^[0-9a-f]{64}$/.test(t) ? t : undefined;
}

const enc = new TextEncoder();

export function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export function fromHex(s: string): Uint8Array {
  const t = s.trim();
  if (t.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(t)) throw new Error("not hex: " + JSON.stringify(s.slice(0, 20)));
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toBase64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function sha256(b: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", b));
}

function nonce(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return toHex(b);
}

type Body = Uint8Array | undefined;

/** A client of one node. */
export class Client {
  readonly baseUrl: string;
  private creds?: Credentials;
  private key?: Promise<CryptoKey>;
  private nodeId?: Promise<string>;
  private fetchFn: typeof fetch;

  constructor(opts: ClientOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? "").replace(/\/+$/, "");
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    if (opts.credentials) this.setCredentials(opts.credentials);
  }

  /** Sets or clears the credentials (kept in memory only). */
  setCredentials(c: Credentials | undefined): void {
    this.creds = c;
    this.key = undefined;
    if (!c) return;
    const secret = fromHex(c.secretHex);
    this.key = crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  }

  get signed(): boolean {
    return this.creds !== undefined;
  }

  /** The headers that sign a request for method, target (path and query) and body. */
  async signHeaders(method: string, target: string, body: Body): Promise<Record<string, string>> {
    if (!this.creds || !this.key) return {};
    const node = await this.node();
    const ts = String(Date.now());
    const n = nonce();
    const bodyHash = toHex(await sha256(body ?? new Uint8Array(0)));
    const canonical = ["ONVM2-HMAC-SHA256", node, method, target, this.creds.projectId, ts, n, bodyHash].join("\n");
    const sig = new Uint8Array(await crypto.subtle.sign("HMAC", await this.key, enc.encode(canonical)));
    return {
      "X-Project-Id": this.creds.projectId,
      "X-Timestamp": ts,
      "X-Nonce": n,
      "X-Content-Sha256": bodyHash,
      "X-Signature": toHex(sig),
    };
  }

  // The node id signed requests name, from /health/liveness, which is
  // public: that request is sent unsigned (signing it would need the id).
  private node(): Promise<string> {
    if (!this.nodeId) {
      this.nodeId = this.send("GET", "/health/liveness", undefined, {}).then(
        (res) => res.json() as Promise<T.Liveness>,
      ).then(
        (l) => l.node_id,
        (e) => {
          this.nodeId = undefined;
          throw e;
        },
      );
    }
    return this.nodeId;
  }

  /** Sends a request and returns the response when it is a success; errors become OnvmError. */
  async raw(method: string, target: string, body?: Body, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    const sig = await this.signHeaders(method, target, body);
    return this.send(method, target, body, { ...headers, ...sig }, signal);
  }

  private async send(method: string, target: string, body: Body, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchFn(this.baseUrl + target, { method, body, headers, signal, cache: "no-store" });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new NetworkError("the node at " + (this.baseUrl || "this address") + " cannot be reached: " + String(e));
    }
    if (!res.ok) throw await errorOf(res);
    return res;
  }

  async json<R>(method: string, target: string, body?: unknown): Promise<R> {
    const bytes = body === undefined ? undefined : enc.encode(JSON.stringify(body));
    const headers: Record<string, string> = bytes ? { "Content-Type": "application/json" } : {};
    const res = await this.raw(method, target, bytes, headers);
    return (await res.json()) as R;
  }

  // Health and metrics.
  liveness(): Promise<T.Liveness> {
    return this.json("GET", "/health/liveness");
  }
  readiness(): Promise<T.Readiness> {
    return this.json("GET", "/health/readiness");
  }
  nodeMetrics(): Promise<T.NodeMetrics> {
    return this.json("GET", "/health/metrics");
  }
  async prometheus(): Promise<string> {
    return (await this.raw("GET", "/metrics")).text();
  }
  authCheck(): Promise<T.AuthCheck> {
    return this.json("GET", "/auth/check");
  }

  // Network and DAG.
  peers(): Promise<T.Peers> {
    return this.json("GET", "/peers");
  }
  dagHeads(): Promise<T.DAGHeads> {
    return this.json("GET", "/dag/heads");
  }
  dagVertex(id: string): Promise<T.Vertex> {
    return this.json("GET", "/dag/vertices/" + encodeURIComponent(id));
  }
  dagAuthors(): Promise<T.DAGAuthors> {
    return this.json("GET", "/dag/authors");
  }
  dagEquivocations(limit?: number): Promise<T.DAGEquivocations> {
    return this.json("GET", "/dag/equivocations" + query({ limit }));
  }

  // Programs.
  catalog(opts: { limit?: number; cursor?: string } = {}): Promise<T.Catalog> {
    return this.json("GET", "/program-catalog" + query(opts));
  }
  program(id: string): Promise<T.Program> {
    return this.json("GET", "/programs/" + encodeURIComponent(id));
  }
  committee(id: string): Promise<T.Committee> {
    return this.json("GET", "/programs/" + encodeURIComponent(id) + "/committee");
  }
  /** The program's state root, with a proof for keyHex when given. */
  stateRoot(id: string, opts: { keyHex?: string; height?: number; root?: string } = {}): Promise<T.StateRoot> {
    return this.json("GET", "/programs/" + encodeURIComponent(id) + "/state-root" + query({ key: opts.keyHex, height: opts.height, root: opts.root }));
  }
  receipts(id: string, opts: { limit?: number; cursor?: number } = {}): Promise<T.Receipts> {
    return this.json("GET", "/programs/" + encodeURIComponent(id) + "/receipts" + query(opts));
  }
  receipt(id: string): Promise<T.Receipt> {
    return this.json("GET", "/receipts/" + encodeURIComponent(id));
  }
  /** Deploys a module sent as raw bytes (the CLI's form). */
  async deploy(wasm: Uint8Array, opts: { entrypoint?: string; saltBase64?: string; blobRefs?: string[] } = {}): Promise<T.Program> {
    const q = query({ entrypoint: opts.entrypoint, salt: opts.saltBase64, blob_refs: opts.blobRefs?.join(",") });
    const res = await this.raw("POST", "/programs" + q, wasm, { "Content-Type": "application/wasm" });
    return (await res.json()) as T.Program;
  }
  execute(req: T.ExecuteRequest): Promise<T.ExecuteResult> {
    return this.json("POST", "/execute", req);
  }

  // Jobs.
  submitJob(req: T.JobRequest): Promise<T.JobSubmitted> {
    return this.json("POST", "/jobs", req);
  }
  jobs(opts: { status?: string; program_id?: string; limit?: number; cursor?: string } = {}): Promise<T.JobList> {
    return this.json("GET", "/jobs" + query(opts));
  }
  /** A job; with wait (e.g. "30s") a long-poll until it changes from status. */
  job(id: string, opts: { wait?: string; status?: string } = {}): Promise<T.Job> {
    return this.json("GET", "/jobs/" + encodeURIComponent(id) + query(opts));
  }
  jobOutput(id: string): Promise<T.JobOutput> {
    return this.json("GET", "/jobs/" + encodeURIComponent(id) + "/output");
  }
  jobLogs(id: string): Promise<T.JobLogs> {
    return this.json("GET", "/jobs/" + encodeURIComponent(id) + "/logs");
  }
  cancelJob(id: string): Promise<T.Job> {
    return this.json("POST", "/jobs/" + encodeURIComponent(id) + "/cancel");
  }

  // Blobs.
  blobInfo(id: string): Promise<T.BlobInfo> {
    return this.json("GET", "/blobs/" + encodeURIComponent(id) + "/info");
  }

  /**
   * Uploads bytes as a blob. In a browser the body goes through
   * XMLHttpRequest, whose upload events give progress; elsewhere fetch.
   */
  async uploadBlob(data: Uint8Array, mime: string, opts: TransferOptions = {}): Promise<T.BlobRef> {
    const headers: Record<string, string> = { "X-Mime": mime || "application/octet-stream", ...(await this.signHeaders("POST", "/blobs", data)) };
    if (typeof XMLHttpRequest === "undefined") {
      const res = await this.raw("POST", "/blobs", data, { "X-Mime": headers["X-Mime"] }, opts.signal);
      opts.onProgress?.(data.length, data.length);
      return (await res.json()) as T.BlobRef;
    }
    return new Promise<T.BlobRef>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", this.baseUrl + "/blobs");
      for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
      xhr.responseType = "text";
      xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded, e.lengthComputable ? e.total : data.length);
      xhr.onerror = () => reject(new NetworkError("the upload to the node failed (connection lost)"));
      xhr.onabort = () => reject(new DOMException("upload cancelled", "AbortError"));
      xhr.onload = () => {
        let body: unknown;
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          body = undefined;
        }
        if (xhr.status >= 200 && xhr.status < 300) {
          opts.onProgress?.(data.length, data.length);
          resolve(body as T.BlobRef);
        } else reject(errorFromBody(xhr.status, body));
      };
      opts.signal?.addEventListener("abort", () => xhr.abort());
      xhr.send(data);
    });
  }

  /**
   * Downloads a blob, streaming, with progress; returns its bytes and type.
   * A whole blob is hashed as it arrives and refused with IntegrityError
   * unless it hashes to id (a range cannot be checked on its own).
   */
  async getBlob(id: string, opts: TransferOptions & { range?: [number, number] } = {}): Promise<{ bytes: Uint8Array; mime: string }> {
    const want = opts.range ? undefined : blobHash(id);
    const hash = want ? new Blake3() : undefined;
    const check = (): void => {
      if (!hash || !want) return;
      const got = toHex(hash.digest());
      if (got !== want) throw new IntegrityError("blob" + want, got);
    };
    const headers: Record<string, string> = opts.range ? { Range: `bytes=${opts.range[0]}-${opts.range[1]}` } : {};
    const res = await this.raw("GET", "/blobs/" + encodeURIComponent(id), undefined, headers, opts.signal);
    const total = Number(res.headers.get("Content-Length") ?? "0");
    const mime = res.headers.get("Content-Type") ?? "application/octet-stream";
    if (!res.body) {
      const bytes = new Uint8Array(await res.arrayBuffer());
      hash?.update(bytes);
      check();
      opts.onProgress?.(bytes.length, bytes.length);
      return { bytes, mime };
    }
    const reader = res.body.getReader();
    const parts: Uint8Array[] = [];
    let done = 0;
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value);
      hash?.update(r.value);
      done += r.value.length;
      opts.onProgress?.(done, total);
    }
    check();
    const bytes = new Uint8Array(done);
    let off = 0;
    for (const p of parts) {
      bytes.set(p, off);
      off += p.length;
    }
    return { bytes, mime };
  }
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? "?" + s : "";
}

async function errorOf(res: Response): Promise<OnvmError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  return errorFromBody(res.status, body);
}

function errorFromBody(status: number, body: unknown): OnvmError {
  const e = (body as { error?: Record<string, unknown> } | undefined)?.error;
  if (e && typeof e.code === "string") return new OnvmError(status, e.code, String(e.message ?? e.code), e);
  return new OnvmError(status, "http_" + status, "the node answered HTTP " + status);
}
