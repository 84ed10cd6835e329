import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacSha256, sha256, toHex, utf8 } from '../src/deid/sha256.js';

describe('pure-TS SHA-256 / HMAC-SHA256 used for UID and pseudonym hashing', () => {
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
  ])('SHA-256 NIST vector %#', (msg, hex) => {
    expect(toHex(sha256(utf8(msg)))).toBe(hex);
  });

  it('SHA-256 of one million "a" (multi-block)', () => {
    expect(toHex(sha256(utf8('a'.repeat(1_000_000))))).toBe(
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    );
  });

  it('HMAC-SHA256 RFC 4231 test cases 1, 2 and 6 (long key)', () => {
    const key1 = new Uint8Array(20).fill(0x0b);
    expect(toHex(hmacSha256(key1, utf8('Hi There')))).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
    expect(toHex(hmacSha256(utf8('Jefe'), utf8('what do ya want for nothing?')))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    const key6 = new Uint8Array(131).fill(0xaa);
    expect(toHex(hmacSha256(key6, utf8('Test Using Larger Than Block-Size Key - Hash Key First')))).toBe(
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
  });

  it('same digests as node:crypto for every message length around the block boundaries, keys changing and reused', () => {
    let seed = 7;
    const bytes = (n: number) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      return b;
    };
    const keys = [bytes(16), bytes(30), bytes(64), bytes(65), bytes(131), new Uint8Array(0)];
    for (let len = 0; len <= 200; len++) {
      const msg = bytes(len);
      expect(toHex(sha256(msg)), `sha256 ${len}`).toBe(createHash('sha256').update(msg).digest('hex'));
      // the same key twice in a row (cached pad states), then another key
      for (const key of [keys[len % keys.length]!, keys[len % keys.length]!, keys[(len + 1) % keys.length]!]) {
        expect(toHex(hmacSha256(key, msg)), `hmac ${key.length}/${len}`).toBe(
          createHmac('sha256', key).update(msg).digest('hex'),
        );
      }
    }
    // a key changed in place after use is not mistaken for the old one
    const k = bytes(32);
    const m = utf8('uid\u00001.2.3');
    expect(toHex(hmacSha256(k, m))).toBe(createHmac('sha256', k).update(m).digest('hex'));
    k[5] = k[5]! ^ 1;
    expect(toHex(hmacSha256(k, m))).toBe(createHmac('sha256', k).update(m).digest('hex'));
  });
});
