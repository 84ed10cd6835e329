/**
 * Synchronous SHA-256 and HMAC-SHA256 (FIPS 180-4, RFC 2104) in plain TypeScript.
 * Why not `crypto.subtle`: it is async only, and `anonymizeDicom` is a synchronous byte-to-byte
 * function (usable in a worker or a tight loop without awaiting per attribute). Inputs here are
 * tiny (UIDs and IDs); what costs is the number of compressions run while the JIT is cold, so the
 * HMAC keeps the key's padded-block states (of the last key used) instead of hashing them for every
 * call. Checked against the NIST/RFC 4231 vectors and node:crypto in
 * packages/dicom/test/deid-crypto.test.ts.
 */
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

const W = new Uint32Array(64);

/** One SHA-256 compression of the 64-byte block at `off` of `block` into the state `h`. */
function compress(h: Uint32Array, block: Uint8Array, off: number): void {
  const w = W;
  for (let t = 0; t < 16; t++) {
    const i = off + 4 * t;
    w[t] = (block[i]! << 24) | (block[i + 1]! << 16) | (block[i + 2]! << 8) | block[i + 3]!;
  }
  for (let t = 16; t < 64; t++) {
    const a = w[t - 15]!;
    const b = w[t - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) >>> 0;
  }
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  let f = h[5]!;
  let g = h[6]!;
  let hh = h[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (hh + S1 + ch + K[t]! + w[t]!) >>> 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) >>> 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) >>> 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) >>> 0;
  }
  h[0] = (h[0]! + a) >>> 0;
  h[1] = (h[1]! + b) >>> 0;
  h[2] = (h[2]! + c) >>> 0;
  h[3] = (h[3]! + d) >>> 0;
  h[4] = (h[4]! + e) >>> 0;
  h[5] = (h[5]! + f) >>> 0;
  h[6] = (h[6]! + g) >>> 0;
  h[7] = (h[7]! + hh) >>> 0;
}

const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/**
 * The rest of a hash whose state `h` already holds `prefixBlocks` whole blocks: `data`, padding and
 * length (of prefix + data), then the digest (big endian).
 */
function finish(h: Uint32Array, prefixBlocks: number, data: Uint8Array): Uint8Array {
  const whole = data.length & ~63;
  for (let off = 0; off < whole; off += 64) compress(h, data, off);
  const restLen = data.length - whole;
  const tail = new Uint8Array(restLen + 9 > 64 ? 128 : 64);
  tail.set(data.subarray(whole));
  tail[restLen] = 0x80;
  const bitLen = (prefixBlocks * 64 + data.length) * 8;
  const dv = new DataView(tail.buffer);
  dv.setUint32(tail.length - 8, Math.floor(bitLen / 0x100000000));
  dv.setUint32(tail.length - 4, bitLen >>> 0);
  for (let off = 0; off < tail.length; off += 64) compress(h, tail, off);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const v = h[i]!;
    out[4 * i] = v >>> 24;
    out[4 * i + 1] = (v >>> 16) & 0xff;
    out[4 * i + 2] = (v >>> 8) & 0xff;
    out[4 * i + 3] = v & 0xff;
  }
  return out;
}

export function sha256(data: Uint8Array): Uint8Array {
  return finish(Uint32Array.from(IV), 0, data);
}

/** The states after the key's inner (0x36) and outer (0x5c) pad blocks, computed once per key. */
interface KeyStates {
  readonly inner: Uint32Array;
  readonly outer: Uint32Array;
}
let lastKey: { copy: Uint8Array; states: KeyStates } | undefined;

function keyStates(key: Uint8Array): KeyStates {
  // Reused while the same key (same bytes) comes again, e.g. for every UID of a series.
  if (lastKey && equalBytes(lastKey.copy, key)) return lastKey.states;
  const k = key.length > 64 ? sha256(key) : key;
  const ipad = new Uint8Array(64);
  const opad = new Uint8Array(64);
  for (let i = 0; i < 64; i++) {
    ipad[i] = (k[i] ?? 0) ^ 0x36;
    opad[i] = (k[i] ?? 0) ^ 0x5c;
  }
  const inner = Uint32Array.from(IV);
  compress(inner, ipad, 0);
  const outer = Uint32Array.from(IV);
  compress(outer, opad, 0);
  const states = { inner, outer };
  lastKey = { copy: key.slice(), states };
  return states;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array {
  const { inner, outer } = keyStates(key);
  const innerHash = finish(inner.slice(), 1, message);
  return finish(outer.slice(), 1, innerHash);
}

const encoder = new TextEncoder();
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
