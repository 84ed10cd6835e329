/**
 * The thread-pool I/O of `slice2solid anonymize`: read-ahead (order, errors, files that changed
 * size), reused buffers, and atomic writes (chunks in order, nothing half-written on failure).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeElement } from '../../dicom/src/deid/element-io.js';
import { fixtureFile } from '../../dicom/test/deid-fixture.js';
import { runAnonymize } from '../src/commands/anonymize.js';
import { AtomicWriter, BufferPool, ReadAhead } from '../src/commands/anonymize-writer.js';
import type { CommandContext } from '../src/commands/types.js';

const root = mkdtempSync(join(tmpdir(), 's2s-anon-io-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, k) => (k * 13 + seed * 7) & 0xff);

describe('anonymize I/O on the thread pool', () => {
  it('ReadAhead gives every file in order, in reused buffers, and the error of a file that cannot be read', async () => {
    const dir = join(root, 'read');
    mkdirSync(dir, { recursive: true });
    const files = [];
    for (let i = 0; i < 40; i++) {
      const p = join(dir, `f${i}`);
      // sizes that grow a little (a series) and a few much larger ones
      const size = i % 13 === 7 ? 300_000 + i : 70_000 + 2 * i;
      writeFileSync(p, pattern(size, i));
      files.push({ path: p, size });
    }
    files[5] = { path: join(dir, 'missing'), size: 10 };
    // a file that shrank after it was listed: the bytes that are there
    truncateSync(files[9]!.path, 1000);
    const pool = new BufferPool(6);
    const ra = new ReadAhead(files, pool, 4);
    const buffers = new Set<ArrayBufferLike>();
    for (let i = 0; i < files.length; i++) {
      if (i === 5) {
        await expect(ra.get(i)).rejects.toMatchObject({ code: 'ENOENT' });
        continue;
      }
      const b = await ra.get(i);
      const want = i === 9 ? pattern(70_018, 9).subarray(0, 1000) : pattern(files[i]!.size, i);
      expect(b.length, `file ${i}`).toBe(want.length);
      expect(Buffer.compare(b, want), `file ${i}`).toBe(0);
      buffers.add(b.buffer);
      pool.release(b);
    }
    // reused: far fewer buffers than files
    expect(buffers.size).toBeLessThan(12);
  });

  it('ReadAhead keeps to its byte budget (but always reads the next file)', async () => {
    const dir = join(root, 'budget');
    mkdirSync(dir, { recursive: true });
    const files = [];
    for (let i = 0; i < 12; i++) {
      const p = join(dir, `f${i}`);
      const size = i === 3 ? 500_000 : 100_000; // one file over the whole budget
      writeFileSync(p, pattern(size, i));
      files.push({ path: p, size });
    }
    const pool = new BufferPool(20);
    const ra = new ReadAhead(files, pool, 10, 250_000);
    const started = () => (ra as unknown as { next: number }).next;
    expect(started()).toBe(2); // 2 x 100 000 fit in 250 000, a third does not
    for (let i = 0; i < files.length; i++) {
      const b = await ra.get(i);
      expect(Buffer.compare(b, pattern(files[i]!.size, i)), `file ${i}`).toBe(0);
      expect((ra as unknown as { aheadBytes: number }).aheadBytes).toBeLessThanOrEqual(500_000);
      pool.release(b);
    }
  });

  it('BufferPool reuses a buffer only where it fits, and never one handed out twice', () => {
    const pool = new BufferPool(4);
    const a = pool.acquire(100_000);
    const b = pool.acquire(100_000);
    expect(a.buffer).not.toBe(b.buffer);
    pool.release(a);
    pool.release(a); // twice: kept once
    const c = pool.acquire(100_002); // slightly larger: fits (buffers are rounded up)
    expect(c.buffer).toBe(a.buffer);
    const d = pool.acquire(100_000);
    expect(d.buffer).not.toBe(a.buffer);
    pool.release(c);
    expect(pool.acquire(1_000_000).buffer).not.toBe(a.buffer); // too small for it
  });

  it('AtomicWriter writes the chunks in order; a failed file leaves neither it nor its temporary file', async () => {
    const dir = join(root, 'write');
    mkdirSync(dir, { recursive: true });
    const w = new AtomicWriter(3);
    const parts = [pattern(10, 1), new Uint8Array(0), pattern(70_000, 2), pattern(3, 3)];
    let done = 0;
    for (let i = 0; i < 10; i++) {
      w.write(join(dir, `ok${i}.dcm`), parts, () => done++);
      await w.room();
    }
    await w.drain();
    expect(done).toBe(10);
    // a byte budget: room() waits until the big file is written
    const small = new AtomicWriter(8, 100_000);
    small.write(join(dir, 'big.dcm'), [pattern(150_000, 4)]);
    expect((small as unknown as { inFlight: number }).inFlight).toBe(1);
    await small.room();
    expect((small as unknown as { inFlight: number }).inFlight).toBe(0);
    expect(readFileSync(join(dir, 'big.dcm')).length).toBe(150_000);
    const want = Buffer.concat(parts);
    for (let i = 0; i < 10; i++) expect(Buffer.compare(readFileSync(join(dir, `ok${i}.dcm`)), want)).toBe(0);
    // a folder where the file should go: the rename fails
    mkdirSync(join(dir, 'taken.dcm', 'sub'), { recursive: true });
    w.write(join(dir, 'taken.dcm'), parts);
    await expect(w.drain()).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringMatching(/taken\.dcm/) });
    expect(() => w.write(join(dir, 'after.dcm'), parts)).toThrow(/taken\.dcm/);
    expect(readdirSync(dir).filter((n) => n.includes('.partial-'))).toEqual([]);
    expect(readdirSync(dir)).not.toContain('after.dcm');
  });

  it('a write that fails stops the command with IO_ERROR and leaves no temporary file', async () => {
    const dir = join(root, 'cmd');
    mkdirSync(join(dir, 'in'), { recursive: true });
    for (let i = 0; i < 30; i++) {
      writeFileSync(
        join(dir, 'in', `${i}.dcm`),
        fixtureFile({ sopUid: `1.2.3.4.5.6.9.${i}`, extra: [makeElement(0x00281201, 'OW', pattern(8000, i))] }),
      );
    }
    writeFileSync(join(dir, 'project.key'), 'cli-test-key-0123456789abcdef\n');
    const c: CommandContext = {
      stdout: { write: () => {} },
      stderr: { write: () => {} },
      cwd: dir,
      debug: false,
      run: {},
    };
    const a = { positionals: ['in', 'out'], values: { 'key-file': 'project.key' } };
    const first = await runAnonymize(c, a);
    expect(first.files.written).toBe(30);
    // the same run again, with one output name taken by a non-empty folder
    const names = readdirSync(join(dir, 'out')).filter((n) => n.endsWith('.dcm'));
    rmSync(join(dir, 'out'), { recursive: true });
    mkdirSync(join(dir, 'out', names[17]!, 'x'), { recursive: true });
    await expect(runAnonymize(c, a)).rejects.toMatchObject({ code: 'IO_ERROR' });
    const left = readdirSync(join(dir, 'out'));
    expect(left.filter((n) => n.includes('.partial-'))).toEqual([]);
    expect(left).not.toContain('deid-report.json');
  });
});
