// BLAKE3 (hash mode) in plain TypeScript: what a blob id is, so a client
// checks a downloaded blob against its id and trusts bytes, not a node.
// Incremental, constant memory; follows the reference implementation of
// the BLAKE3 paper (tested against its official vectors).

const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const PERM = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];
const CHUNK_START = 1;
const CHUNK_END = 2;
const PARENT = 4;
const ROOT = 8;
const BLOCK_LEN = 64;
const CHUNK_LEN = 1024;

// The message word order of each of the seven rounds.
const SCHEDULE: number[][] = (() => {
  const out: number[][] = [];
  let m = [...Array(16).keys()];
  for (let r = 0; r < 7; r++) {
    out.push(m);
    m = PERM.map((p) => m[p]);
  }
  return out;
})();

// compress writes the 16 output words of the compression function into
// out. The state lives in locals (the quarter-rounds G written out), which
// the engines keep in registers: several times faster than an array.
function compress(cv: Uint32Array, m: Uint32Array, counter: number, blockLen: number, flags: number, out: Uint32Array): void {
  let v0 = cv[0] | 0, v1 = cv[1] | 0, v2 = cv[2] | 0, v3 = cv[3] | 0, v4 = cv[4] | 0, v5 = cv[5] | 0, v6 = cv[6] | 0, v7 = cv[7] | 0;
  let v8 = IV[0] | 0, v9 = IV[1] | 0, v10 = IV[2] | 0, v11 = IV[3] | 0;
  let v12 = counter | 0, v13 = Math.floor(counter / 0x100000000) | 0, v14 = blockLen | 0, v15 = flags | 0;
  for (const o of SCHEDULE) {
    v0 = (v0 + v4 + m[o[0]]) | 0; v12 ^= v0; v12 = (v12 >>> 16) | (v12 << 16);
    v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 12) | (v4 << 20);
    v0 = (v0 + v4 + m[o[1]]) | 0; v12 ^= v0; v12 = (v12 >>> 8) | (v12 << 24);
    v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 7) | (v4 << 25);
    v1 = (v1 + v5 + m[o[2]]) | 0; v13 ^= v1; v13 = (v13 >>> 16) | (v13 << 16);
    v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 12) | (v5 << 20);
    v1 = (v1 + v5 + m[o[3]]) | 0; v13 ^= v1; v13 = (v13 >>> 8) | (v13 << 24);
    v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 7) | (v5 << 25);
    v2 = (v2 + v6 + m[o[4]]) | 0; v14 ^= v2; v14 = (v14 >>> 16) | (v14 << 16);
    v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 12) | (v6 << 20);
    v2 = (v2 + v6 + m[o[5]]) | 0; v14 ^= v2; v14 = (v14 >>> 8) | (v14 << 24);
    v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 7) | (v6 << 25);
    v3 = (v3 + v7 + m[o[6]]) | 0; v15 ^= v3; v15 = (v15 >>> 16) | (v15 << 16);
    v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 12) | (v7 << 20);
    v3 = (v3 + v7 + m[o[7]]) | 0; v15 ^= v3; v15 = (v15 >>> 8) | (v15 << 24);
    v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 7) | (v7 << 25);
    v0 = (v0 + v5 + m[o[8]]) | 0; v15 ^= v0; v15 = (v15 >>> 16) | (v15 << 16);
    v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 12) | (v5 << 20);
    v0 = (v0 + v5 + m[o[9]]) | 0; v15 ^= v0; v15 = (v15 >>> 8) | (v15 << 24);
    v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 7) | (v5 << 25);
    v1 = (v1 + v6 + m[o[10]]) | 0; v12 ^= v1; v12 = (v12 >>> 16) | (v12 << 16);
    v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 12) | (v6 << 20);
    v1 = (v1 + v6 + m[o[11]]) | 0; v12 ^= v1; v12 = (v12 >>> 8) | (v12 << 24);
    v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 7) | (v6 << 25);
    v2 = (v2 + v7 + m[o[12]]) | 0; v13 ^= v2; v13 = (v13 >>> 16) | (v13 << 16);
    v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 12) | (v7 << 20);
    v2 = (v2 + v7 + m[o[13]]) | 0; v13 ^= v2; v13 = (v13 >>> 8) | (v13 << 24);
    v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 7) | (v7 << 25);
    v3 = (v3 + v4 + m[o[14]]) | 0; v14 ^= v3; v14 = (v14 >>> 16) | (v14 << 16);
    v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 12) | (v4 << 20);
    v3 = (v3 + v4 + m[o[15]]) | 0; v14 ^= v3; v14 = (v14 >>> 8) | (v14 << 24);
    v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 7) | (v4 << 25);
  }
  out[0] = v0 ^ v8; out[1] = v1 ^ v9; out[2] = v2 ^ v10; out[3] = v3 ^ v11;
  out[4] = v4 ^ v12; out[5] = v5 ^ v13; out[6] = v6 ^ v14; out[7] = v7 ^ v15;
  out[8] = v8 ^ cv[0]; out[9] = v9 ^ cv[1]; out[10] = v10 ^ cv[2]; out[11] = v11 ^ cv[3];
  out[12] = v12 ^ cv[4]; out[13] = v13 ^ cv[5]; out[14] = v14 ^ cv[6]; out[15] = v15 ^ cv[7];
}

function words(b: Uint8Array, off: number, out: Uint32Array): void {
  for (let i = 0; i < 16; i++, off += 4) out[i] = b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24);
}

// A node of the tree not yet compressed: enough to give its chaining
// value, or the root's output when it is the root.
interface Output {
  cv: Uint32Array;
  block: Uint32Array;
  counter: number;
  blockLen: number;
  flags: number;
}

function chainingValue(o: Output): Uint32Array {
  const out = new Uint32Array(16);
  compress(o.cv, o.block, o.counter, o.blockLen, o.flags, out);
  return out.slice(0, 8);
}

function parent(left: Uint32Array, right: Uint32Array): Output {
  const block = new Uint32Array(16);
  block.set(left, 0);
  block.set(right, 8);
  return { cv: Uint32Array.from(IV), block, counter: 0, blockLen: BLOCK_LEN, flags: PARENT };
}

/** An incremental BLAKE3 hash: update with bytes as they come, then digest. */
export class Blake3 {
  private stack: Uint32Array[] = [];
  private chunks = 0; // chunks completed
  private cv = Uint32Array.from(IV);
  private buf = new Uint8Array(BLOCK_LEN);
  private bufLen = 0;
  private blocks = 0; // blocks compressed in the current chunk
  private m = new Uint32Array(16);
  private tmp = new Uint32Array(16);

  update(data: Uint8Array): this {
    let off = 0;
    while (off < data.length) {
      if (this.blocks * BLOCK_LEN + this.bufLen === CHUNK_LEN) this.endChunk();
      if (this.bufLen === BLOCK_LEN) {
        words(this.buf, 0, this.m);
        this.compressBlock();
      }
      // Whole blocks straight from the input, keeping the last one back:
      // the final block of a chunk carries CHUNK_END.
      while (this.bufLen === 0 && data.length - off > BLOCK_LEN && this.blocks < CHUNK_LEN / BLOCK_LEN - 1) {
        words(data, off, this.m);
        this.compressBlock();
        off += BLOCK_LEN;
      }
      const n = Math.min(BLOCK_LEN - this.bufLen, data.length - off);
      this.buf.set(data.subarray(off, off + n), this.bufLen);
      this.bufLen += n;
      off += n;
    }
    return this;
  }

  private compressBlock(): void {
    compress(this.cv, this.m, this.chunks, BLOCK_LEN, this.blocks === 0 ? CHUNK_START : 0, this.tmp);
    this.cv.set(this.tmp.subarray(0, 8));
    this.blocks++;
    this.bufLen = 0;
  }

  private chunkOutput(): Output {
    const block = new Uint32Array(16);
    const padded = new Uint8Array(BLOCK_LEN);
    padded.set(this.buf.subarray(0, this.bufLen));
    words(padded, 0, block);
    const flags = (this.blocks === 0 ? CHUNK_START : 0) | CHUNK_END;
    return { cv: this.cv.slice(), block, counter: this.chunks, blockLen: this.bufLen, flags };
  }

  private endChunk(): void {
    let cv = chainingValue(this.chunkOutput());
    this.chunks++;
    // Merge completed subtrees: one per trailing zero bit of the count.
    for (let n = this.chunks; n % 2 === 0; n /= 2) cv = chainingValue(parent(this.stack.pop()!, cv));
    this.stack.push(cv);
    this.cv = Uint32Array.from(IV);
    this.bufLen = 0;
    this.blocks = 0;
  }

  /** The hash of everything given so far: 32 bytes, or length bytes of output. */
  digest(length = 32): Uint8Array {
    let o = this.chunkOutput();
    for (let i = this.stack.length - 1; i >= 0; i--) o = parent(this.stack[i], chainingValue(o));
    const out = new Uint8Array(length);
    const w = new Uint32Array(16);
    for (let block = 0, off = 0; off < length; block++) {
      compress(o.cv, o.block, block, o.blockLen, o.flags | ROOT, w);
      for (let i = 0; i < 16 && off < length; i++) {
        for (let k = 0; k < 4 && off < length; k++) out[off++] = (w[i] >>> (8 * k)) & 0xff;
      }
    }
    return out;
  }
}

/** The BLAKE3 hash of data: 32 bytes, or length bytes of output. */
export function blake3(data: Uint8Array, length = 32): Uint8Array {
  return new Blake3().update(data).digest(length);
}
