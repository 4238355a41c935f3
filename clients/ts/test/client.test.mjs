// node --test: the client against a node (ONVM_URL), and a download whose
// bytes do not match their id refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, IntegrityError, OnvmError, NetworkError, blobIdOf } from "../onvm.ts";

const url = process.env.ONVM_URL;
const creds = process.env.ONVM_PROJECT_ID ? { projectId: process.env.ONVM_PROJECT_ID, secretHex: process.env.ONVM_PROJECT_SECRET } : undefined;

test("a download whose bytes do not match the id is refused", async () => {
  const good = new TextEncoder().encode("the bytes the id names");
  const id = blobIdOf(good);
  const fake = async () => new Response("other bytes", { status: 200, headers: { "Content-Type": "text/plain" } });
  const c = new Client({ baseUrl: "http://node.invalid", fetch: fake });
  await assert.rejects(c.getBlob(id), IntegrityError);
  const honest = new Client({ baseUrl: "http://node.invalid", fetch: async () => new Response(good) });
  const got = await honest.getBlob(id);
  assert.deepEqual(got.bytes, good);
});

test("a node that is down is a NetworkError", async () => {
  const c = new Client({ baseUrl: "http://127.0.0.1:1" });
  await assert.rejects(c.liveness(), NetworkError);
});

test("against a node", { skip: !url && "ONVM_URL not set" }, async (t) => {
  const c = new Client({ baseUrl: url, credentials: creds });
  const live = await c.liveness();
  assert.equal(live.mode, creds ? "prod" : "dev");

  await t.test("blob round trip with progress, verified", async () => {
    const data = new Uint8Array(3 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const up = await c.uploadBlob(data, "application/octet-stream");
    assert.equal(up.id, blobIdOf(data));
    let last = 0;
    const got = await c.getBlob(up.id, { onProgress: (done) => (last = done) });
    assert.equal(last, data.length);
    assert.deepEqual(got.bytes, data);
    const info = await c.blobInfo(up.id);
    assert.equal(info.size, data.length);
  });

  await t.test("errors carry the node's code", async () => {
    await assert.rejects(c.blobInfo("prog" + "0".repeat(64)), (e) => e instanceof OnvmError && e.status === 400 && typeof e.code === "string");
    await assert.rejects(c.blobInfo(blobIdOf(new Uint8Array([1, 2, 3]))), (e) => e instanceof OnvmError && e.status === 404 && e.code === "not_found");
  });

  if (creds) {
    await t.test("a wrong secret is refused", async () => {
      const bad = new Client({ baseUrl: url, credentials: { projectId: creds.projectId, secretHex: "00".repeat(32) } });
      await assert.rejects(bad.authCheck(), (e) => e instanceof OnvmError && e.status === 401);
      assert.equal((await c.authCheck()).project_id, creds.projectId);
    });
  }
});
