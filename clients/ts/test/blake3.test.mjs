// node --test: BLAKE3 against the official test vectors (testdata/), fed
// whole and in uneven pieces. Run through internal/ui/build's
// TestNodeTests, which bundles these files with the client.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Blake3, blake3, toHex } from "../onvm.ts";

const vectors = JSON.parse(readFileSync(process.env.ONVM_TESTDATA + "/blake3_test_vectors.json", "utf8"));

function input(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

for (const c of vectors.cases) {
  test(`vector ${c.input_len} bytes`, () => {
    const data = input(c.input_len);
    assert.equal(toHex(blake3(data)), c.hash.slice(0, 64));
    assert.equal(toHex(blake3(data, c.hash.length / 2)), c.hash);
    for (const step of [1, 63, 64, 65, 1000, 1024, 4099]) {
      const h = new Blake3();
      for (let off = 0; off < data.length; off += step) h.update(data.subarray(off, off + step));
      assert.equal(toHex(h.digest()), c.hash.slice(0, 64), `in pieces of ${step}`);
    }
  });
}
