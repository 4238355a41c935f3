// Request and response bodies of the ONVM HTTP API (docs/api.md,
// docs/openapi.json). Ids are strings: "blob…", "prog…" or 64 hex digits.

export interface ErrorBody {
  error: { code: string; message: string; [k: string]: unknown };
}

export interface Liveness {
  alive: boolean;
  mode: "dev" | "prod";
  node_id: string;
}

export interface Readiness {
  status: string;
  timestamp: number;
  capacity: { max_concurrent_jobs: number; current_jobs: number; queue_depth: number; cpu_cores: number; total_memory_bytes: number };
  resources: { cpu_percent: number; memory_used_bytes: number; memory_percent: number; active_jobs: number };
  version: string;
}

export interface NodeMetrics {
  uptime_seconds: number;
  total_jobs_completed: number;
  total_jobs_failed: number;
  total_jobs_cancelled: number;
  total_fuel_consumed: number;
  average_execution_time_ms: number;
}

export interface AuthCheck {
  ok: boolean;
  auth: "enabled" | "disabled";
  project_id?: string;
}

export interface PeerSelf {
  peer_id: string;
  node_id: string;
  addrs: string[];
}

export interface PeerInfo {
  peer_id: string;
  node_id?: string;
  addrs: string[];
  direction: string;
  connected_since: string;
  latency_ns: number;
  agent_version: string;
  onvm: boolean;
  score: number;
  protocols?: string[];
}

export interface Peers {
  self: PeerSelf;
  min_peers: number;
  onvm_peers: number;
  peers: PeerInfo[];
}

export interface DagHeads {
  self: string;
  vertices: number;
  heads: string[];
  pending: number;
  rejected: Record<string, number>;
  refused_ops: Record<string, number>;
}

export interface OpInfo {
  kind: number;
  name: string;
  size: number;
  body?: unknown;
}

export interface Vertex {
  id: string;
  author: string;
  seq: number;
  parents: string[];
  timestamp: string;
  signature: string;
  ops: OpInfo[];
}

export interface DagAuthors {
  authors: { author: string; seq: number; equivocated: boolean; flagged_at?: string }[];
}

export interface DagEquivocations {
  flagged: { author: string; seq: number; detected_at: string }[];
  equivocations: { author: string; seq: number; vertices: string[] }[];
}

export interface CatalogEntry {
  program_id: string;
  version: number;
  initial_state_root: string;
  dag_parent: string | null;
  code_manifest: string;
  code_blob: string;
  entrypoint: string;
  deployer: string;
  timestamp_ms: number;
}

export interface Catalog {
  programs: CatalogEntry[];
  next_cursor: string | null;
}

export interface Member {
  node: string;
  weight: number;
  bls_public_key: string;
}

export interface Committee {
  program_id: string;
  epoch: number;
  aggregate_public_key?: string;
  members: Member[];
  threshold: number;
}

export interface Manifest {
  manifest_id: string;
  program_id: string;
  version: number;
  deployer: string;
  entrypoints: string[];
  wasm_env_hash: string;
  code_blob: string;
  code_size: number;
  instrumented_blob: string;
  salt_base64: string;
  blob_refs: string[];
  initial_state_root: string;
  committee: Committee;
  timestamp_ms: number;
  signature: string;
  cbor_base64: string;
}

export interface Program {
  id: string;
  publisher: string;
  size: number;
  entrypoint: string;
  blob_refs: string[];
  manifest: Manifest;
}

export interface StateRoot {
  program_id: string;
  root: string;
  height: number | null;
  proof: string[] | null;
  value_hex: string | null;
  present?: boolean;
  key_hex?: string;
}

export interface ReceiptSummary {
  program_id: string;
  height: number;
  state_root_in: string;
  state_root_out: string;
  write_digest: string;
  gas_used: number;
  fuel: number;
  signer_bitmap: string;
  committee_epoch: number;
  receipt_id: string;
  request_id: string;
  timestamp: number;
}

export interface Receipts {
  receipts: ReceiptSummary[];
  next_cursor: number | null;
}

export interface Receipt extends ReceiptSummary {
  input_hash: string;
  output_hash: string;
  code_hash: string;
  wasm_env_hash: string;
  executor: string;
  aggregate_signature: string;
  write_count: number;
  output_base64: string | null;
  cbor_base64: string;
}

export interface GuestLog {
  source: string;
  level: number | string;
  message: string;
  timestamp?: number;
  attempt?: number;
}

export interface ExecuteRequest {
  program_id: string;
  input_base64: string;
  request_id?: string;
  fuel_limit?: number;
  timeout_ms?: number;
}

export interface ExecuteResult {
  return_base64: string;
  fuel: number;
  receipt_id: string;
  height: number;
  state_root: string;
  request_id: string;
  replayed: boolean;
  logs: GuestLog[] | null;
}

export interface JobRequest {
  request_id: string;
  program_id: string;
  input_base64?: string;
  input_blob_id?: string;
  max_retries?: number;
  timeout_ms?: number;
  fuel_limit?: number;
  ttl_ms?: number;
  metadata?: Record<string, string>;
}

export interface JobSubmitted {
  job_id: string;
  status: string;
}

export type JobStatus = "pending" | "running" | "completed" | "failed" | "cancelled" | "timed_out" | "expired";

export interface Job {
  job_id: string;
  request_id: string;
  program_id: string;
  status: JobStatus;
  fuel_consumed: number;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  duration_ms: number | null;
  retry_count: number;
  error_message: string | null;
  metadata: Record<string, string> | null;
  failure_reason: string | null;
  next_attempt_at: number | null;
  receipt_id?: string | null;
  output_blob_id?: string | null;
  input_blob_id?: string | null;
  max_retries: number;
  attempts: number;
  timeout_ms: number;
  fuel_limit: number;
  ttl_ms: number;
  executor?: string;
}

export interface JobList {
  jobs: Job[];
  total: number;
  next_cursor: string | null;
}

export interface JobOutput {
  job_id: string;
  output_base64: string;
  size: number;
  output_blob_id: string;
}

export interface JobLogs {
  job_id: string;
  logs: GuestLog[];
}

export interface BlobPut {
  id: string;
  size: number;
}

export interface BlobInfo {
  id: string;
  size: number;
  mime: string;
  groups: number;
  complete: boolean;
  created_at: string;
}
