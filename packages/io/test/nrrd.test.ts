import { readdirSync } from 'node:fs';
import { lpsFromIjk, makeGrid, makeVolume, S2SError } from '@slice2solid/core';
import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { dataPath, describeData } from '../../../test-utils/shared-data.js';
import { readNrrd, readNrrdHeader, readNrrdSync, volumeWarnings, writeNrrd, writeNrrdDetached } from '../src/index.js';
import {
  ALL_TYPES,
  expectSameVolume,
  type GridKind,
  mulberry32,
  randomGrid,
  randomVolume,
  readBytes,
} from './helpers.js';

const enc = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

async function expectError(fn: () => unknown, code: string): Promise<S2SError> {
  try {
    await fn();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(S2SError);
    expect((e as S2SError).code).toBe(code);
    return e as S2SError;
  }
  throw new Error(`expected an S2SError ${code}`);
}

describe('NRRD header fields', () => {
  const body = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const base = (extra: string) => enc(`NRRD0004\ntype: uint8\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n${extra}\n`);

  it('space right-anterior-superior is converted to LPS (x, y negated)', () => {
    const v = readNrrdSync(
      cat(
        base('space: right-anterior-superior\nspace directions: (0,2,0) (3,0,0) (0,0,4)\nspace origin: (10,20,30)\n'),
        body,
      ),
    );
    expect(lpsFromIjk(v.grid, [0, 0, 0])).toEqual([-10, -20, 30]);
    // i steps +2 along RAS y -> -2 along LPS y
    expect(lpsFromIjk(v.grid, [1, 0, 0])).toEqual([-10, -22, 30]);
    expect(lpsFromIjk(v.grid, [0, 1, 0])).toEqual([-13, -20, 30]);
    expect(volumeWarnings(v)).toEqual([]);
  });

  it('space left-anterior-superior negates only y; LPS is unchanged', () => {
    const las = readNrrdSync(
      cat(base('space: LAS\nspace directions: (1,0,0) (0,1,0) (0,0,1)\nspace origin: (1,2,3)\n'), body),
    );
    expect(las.grid.origin).toEqual([1, -2, 3]);
    expect(las.grid.direction[1]).toEqual([0, -1, 0]);
    const lps = readNrrdSync(
      cat(
        base('space: left-posterior-superior\nspace directions: (1,0,0) (0,1,0) (0,0,1)\nspace origin: (1,2,3)\n'),
        body,
      ),
    );
    expect(lps.grid.origin).toEqual([1, 2, 3]);
  });

  it('no space: spacings (or 1 mm) with a warning about orientation', () => {
    const v = readNrrdSync(cat(base('spacings: 0.5 0.25 2\n'), body));
    expect(v.grid.spacing).toEqual([0.5, 0.25, 2]);
    expect(volumeWarnings(v).join(' ')).toMatch(/orientation is UNKNOWN/);
    const d = readNrrdSync(cat(base(''), body));
    expect(d.grid.spacing).toEqual([1, 1, 1]);
    expect(volumeWarnings(d).join(' ')).toMatch(/assumed 1 mm/);
  });

  it('scanner-xyz / 3D-left-handed: numbers kept, with a warning', () => {
    const v = readNrrdSync(
      cat(base('space: 3D-left-handed\nspace directions: (1,0,0) (0,1,0) (0,0,1)\nspace origin: (1,2,3)\n'), body),
    );
    expect(v.grid.origin).toEqual([1, 2, 3]);
    expect(volumeWarnings(v).join(' ')).toMatch(/no patient orientation/);
  });

  it('space units in metres are converted to mm', () => {
    const v = readNrrdSync(
      cat(
        base(
          'space: LPS\nspace units: "m" "m" "m"\nspace directions: (0.001,0,0) (0,0.001,0) (0,0,0.002)\nspace origin: (0.1,0,0)\n',
        ),
        body,
      ),
    );
    expect(v.grid.spacing).toEqual([1, 1, 2]);
    expect(v.grid.origin[0]).toBeCloseTo(100, 9);
  });

  it('leading RGB-color axis -> components, trailing list axis -> frames, leading list -> frames', () => {
    const rgb = readNrrdSync(
      cat(
        enc(
          'NRRD0004\ntype: uint8\ndimension: 4\nsizes: 3 2 1 1\nkinds: RGB-color domain domain domain\nencoding: raw\n\n',
        ),
        Uint8Array.from([1, 2, 3, 4, 5, 6]),
      ),
    );
    expect(rgb.components).toBe(3);
    expect(rgb.grid.size).toEqual([2, 1, 1]);
    const t = readNrrdSync(
      cat(
        enc(
          'NRRD0004\ntype: uint8\ndimension: 4\nsizes: 2 1 1 3\nspace: LPS\nspace directions: (1,0,0) (0,1,0) (0,0,1) none\nkinds: domain domain domain list\nspace origin: (0,0,0)\nencoding: raw\n\n',
        ),
        Uint8Array.from([1, 2, 3, 4, 5, 6]),
      ),
    );
    expect(t.frames).toBe(3);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const lead = readNrrdSync(
      cat(
        enc('NRRD0004\ntype: uint8\ndimension: 4\nsizes: 3 2 1 1\nkinds: list domain domain domain\nencoding: raw\n\n'),
        Uint8Array.from([1, 2, 3, 4, 5, 6]),
      ),
    );
    expect(lead.frames).toBe(3);
    expect(lead.components).toBe(1);
    // frame t holds sample t of every voxel
    expect(Array.from(lead.data)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('a 2D image gets a third axis of size 1 perpendicular to the others', () => {
    const v = readNrrdSync(
      cat(
        enc(
          'NRRD0004\ntype: uint8\ndimension: 2\nsizes: 2 2\nspace: LPS\nspace directions: (0,1,0) (0,0,1)\nspace origin: (0,0,0)\nencoding: raw\n\n',
        ),
        Uint8Array.from([1, 2, 3, 4]),
      ),
    );
    expect(v.grid.size).toEqual([2, 2, 1]);
    expect(v.grid.direction[2]).toEqual([1, 0, 0]);
  });

  it('big endian, ascii and hex encodings, line skip and byte skip (incl. -1)', () => {
    const h = (e: string) => enc(`NRRD0004\ntype: short\ndimension: 1\nsizes: 3\n${e}\n\n`);
    const be = readNrrdSync(
      cat(h('endian: big\nencoding: raw'), Uint8Array.from([0xff, 0xfe, 0x00, 0x01, 0x01, 0x00])),
    );
    expect(Array.from(be.data)).toEqual([-2, 1, 256]);
    expect(Array.from(readNrrdSync(cat(h('encoding: ascii'), enc('-2 1\n256\n'))).data)).toEqual([-2, 1, 256]);
    expect(Array.from(readNrrdSync(cat(h('endian: big\nencoding: hex'), enc('fffe 0001\n0100'))).data)).toEqual([
      -2, 1, 256,
    ]);
    expect(
      Array.from(
        readNrrdSync(cat(h('endian: little\nencoding: raw\nbyte skip: 2'), Uint8Array.from([9, 9, 1, 0, 2, 0, 3, 0])))
          .data,
      ),
    ).toEqual([1, 2, 3]);
    expect(
      Array.from(
        readNrrdSync(
          cat(h('endian: little\nencoding: raw\nbyte skip: -1'), Uint8Array.from([9, 9, 9, 1, 0, 2, 0, 3, 0])),
        ).data,
      ),
    ).toEqual([1, 2, 3]);
    expect(
      Array.from(
        readNrrdSync(
          cat(
            h('endian: little\nencoding: raw\nline skip: 2'),
            enc('junk\nmore junk\n'),
            Uint8Array.from([1, 0, 2, 0, 3, 0]),
          ),
        ).data,
      ),
    ).toEqual([1, 2, 3]);
    // gzip: byte skip applies to the decompressed stream
    expect(
      Array.from(
        readNrrdSync(
          cat(h('endian: little\nencoding: gzip\nbyte skip: 2'), gzipSync(Uint8Array.from([9, 9, 1, 0, 2, 0, 3, 0]))),
        ).data,
      ),
    ).toEqual([1, 2, 3]);
  });

  it('64-bit integers are read when they fit 32 bits', () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigInt64(0, -7n, true);
    new DataView(b.buffer).setBigInt64(8, 7n, true);
    const v = readNrrdSync(
      cat(enc('NRRD0004\ntype: int64\ndimension: 1\nsizes: 2\nendian: little\nencoding: raw\n\n'), b),
    );
    expect(Array.from(v.data)).toEqual([-7, 7]);
    expect(v.data).toBeInstanceOf(Int32Array);
  });

  it('detached: single file, LIST and %03d pattern forms call readFile with the header names', async () => {
    const files: Record<string, Uint8Array> = {
      'a.raw': Uint8Array.from([1, 2, 3, 4]),
      's001.raw': Uint8Array.from([1, 2]),
      's003.raw': Uint8Array.from([3, 4]),
      's005.raw': Uint8Array.from([5, 6]),
    };
    const asked: string[] = [];
    const readFile = (n: string) => {
      asked.push(n);
      const f = files[n];
      if (!f) throw new Error(`no ${n}`);
      return f;
    };
    const h = 'NRRD0004\ntype: uint8\ndimension: 2\nencoding: raw\n';
    expect(Array.from((await readNrrd(enc(`${h}sizes: 2 2\ndata file: a.raw\n`), { readFile })).data)).toEqual([
      1, 2, 3, 4,
    ]);
    expect(
      Array.from(
        (await readNrrd(enc(`${h}sizes: 2 3\ndata file: LIST\ns005.raw\ns001.raw\ns003.raw\n`), { readFile })).data,
      ),
    ).toEqual([5, 6, 1, 2, 3, 4]);
    expect(
      Array.from((await readNrrd(enc(`${h}sizes: 2 3\ndata file: s%03d.raw 5 1 -2\n`), { readFile })).data),
    ).toEqual([5, 6, 3, 4, 1, 2]);
    expect(asked).toEqual(['a.raw', 's005.raw', 's001.raw', 's003.raw', 's005.raw', 's003.raw', 's001.raw']);
    // async readFile works too; a missing file is an IO_ERROR naming it
    expect(
      Array.from(
        (await readNrrd(enc(`${h}sizes: 2 2\ndata file: a.raw\n`), { readFile: async (n) => readFile(n) })).data,
      ),
    ).toEqual([1, 2, 3, 4]);
    const e = await expectError(
      () => readNrrd(enc(`${h}sizes: 2 2\ndata file: nothere.raw\n`), { readFile }),
      'IO_ERROR',
    );
    expect(e.message).toMatch(/nothere\.raw/);
    const e2 = await expectError(() => readNrrd(enc(`${h}sizes: 2 2\ndata file: a.raw\n`)), 'INVALID_ARGUMENT');
    expect(e2.message).toMatch(/a\.raw/);
  });
});

describe('NRRD malformed input', () => {
  const good = writeNrrd(makeVolume({ grid: makeGrid({ size: [4, 4, 4] }), data: new Int16Array(64) }), {
    encoding: 'raw',
  });
  it('clear errors', async () => {
    await expectError(() => readNrrdSync(new Uint8Array(0)), 'MALFORMED_FILE');
    await expectError(() => readNrrdSync(enc('NRRDxx\n\n')), 'MALFORMED_FILE');
    await expectError(
      () => readNrrdSync(enc('NRRD0004\ntype: short\ndimension: 3\nsizes: 4 0 4\nencoding: raw\n\n')),
      'MALFORMED_FILE',
    );
    await expectError(
      () => readNrrdSync(enc('NRRD0004\ntype: quaternion\ndimension: 1\nsizes: 4\nencoding: raw\n\n')),
      'MALFORMED_FILE',
    );
    await expectError(
      () => readNrrdSync(enc('NRRD0004\ntype: short\ndimension: 3\nsizes: 4 4 4\nencoding: bzip2\n\n')),
      'UNSUPPORTED_FORMAT',
    );
    await expectError(
      () => readNrrdSync(enc('NRRD0004\ntype: short\ndimension: 3\nsizes: 100000 100000 100000\nencoding: raw\n\n')),
      'TRUNCATED_FILE',
    );
    await expectError(
      () =>
        readNrrdSync(
          enc('NRRD0004\ntype: double\ndimension: 4\nsizes: 1000000 1000000 1000000 1000000\nencoding: raw\n\n'),
        ),
      'MALFORMED_FILE',
    );
    await expectError(() => readNrrdSync(good.subarray(0, good.length - 1)), 'TRUNCATED_FILE');
    const gz = writeNrrd(
      makeVolume({ grid: makeGrid({ size: [40, 40, 4] }), data: new Int16Array(6400).map((_, i) => i) }),
    );
    await expectError(() => readNrrdSync(gz.subarray(0, gz.length - 200)), 'TRUNCATED_FILE');
  });
  it('seeded fuzz of the header text never throws anything but S2SError', () => {
    const rand = mulberry32(99);
    const base = writeNrrd(randomVolume(rand, 'int16', randomGrid(rand, 'oblique', [3, 4, 5])), { encoding: 'raw' });
    const headerLen = base.indexOf(10, base.length - 120 * 2 - 1);
    void headerLen;
    for (let trial = 0; trial < 300; trial++) {
      const b = base.slice();
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++)
        b[Math.floor(rand() * 330)] = [48, 32, 10, 45, 40, 41, 44, 58, Math.floor(rand() * 256)][
          Math.floor(rand() * 9)
        ]!;
      try {
        readNrrdSync(b);
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(S2SError);
      }
    }
  });
});

describe('NRRD round trips (seeded property tests)', () => {
  const kinds: GridKind[] = ['axis', 'oblique', 'left-handed', 'sheared'];
  for (const encoding of ['raw', 'gzip'] as const) {
    it(`${encoding}: every type, 3D/4D, components, every grid kind, both byte orders: exact`, () => {
      const rand = mulberry32(encoding === 'raw' ? 3 : 4);
      for (const type of ALL_TYPES) {
        for (const kind of kinds) {
          const frames = rand() < 0.4 ? 2 : 1;
          const components = rand() < 0.3 ? 3 : 1;
          const v = randomVolume(rand, type, randomGrid(rand, kind), frames, components);
          const endian = rand() < 0.5 ? 'little' : 'big';
          const back = readNrrdSync(writeNrrd(v, { encoding, endian }));
          expectSameVolume(v, back, 1e-9);
          // shortest round-trip decimals: the grid is bit-identical
          expect(back.grid.origin).toEqual(v.grid.origin);
          expect(volumeWarnings(back)).toEqual([]);
        }
      }
    });
  }
  it('detached header + data file', () => {
    const rand = mulberry32(8);
    const v = randomVolume(rand, 'float32', randomGrid(rand, 'sheared'), 2);
    const { header, data } = writeNrrdDetached(v, 'vol.raw.gz');
    expect(readNrrdHeader(header).dataFiles).toEqual(['vol.raw.gz']);
    expectSameVolume(v, readNrrdSync(header, { readFile: () => data }), 1e-9);
  });
});

describeData('NRRD on real files', () => {
  const dir = dataPath('ct-head-volumes', 'vtk-headsq');
  it('headsq quarter.nhdr: the geometry the header states and the raw slices, bit for bit', async () => {
    const v = await readNrrd(readBytes(`${dir}/quarter.nhdr`), { readFile: (n) => readBytes(`${dir}/${n}`) });
    expect(v.grid.size).toEqual([64, 64, 93]);
    expect(v.grid.spacing).toEqual([3.2, 3.2, 1.5]);
    expect(v.grid.origin).toEqual([0, 0, 0]);
    expect(v.grid.direction).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(v.data).toBeInstanceOf(Int16Array);
    // independent check: slice k is quarter.(k+1), int16 little-endian, values NOT masked by us
    for (const k of [0, 45, 92]) {
      const raw = readBytes(`${dir}/quarter.${k + 1}`);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let p = 0; p < 64 * 64; p += 37) expect(v.data[k * 4096 + p]).toBe(dv.getInt16(p * 2, true));
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of v.data) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    expect([lo, hi]).toEqual([0, 3926]); // the 0x7fff mask changes nothing in this data
    expect(volumeWarnings(v).join(' ')).toMatch(/3D-left-handed/);
    expect(readdirSync(dir).filter((n) => /^quarter\.\d+$/.test(n))).toHaveLength(93);
  });

  it('dcmqi liver_seg.nrrd (gzip, LPS): geometry as in its header', async () => {
    const v = await readNrrd(readBytes(dataPath('dcmqi-ct-3slice-seg', 'liver_seg.nrrd')));
    expect(v.grid.size).toEqual([512, 512, 3]);
    expect(v.grid.spacing.map((s) => +s.toFixed(6))).toEqual([0.810547, 0.810547, 1]);
    expect(v.grid.origin.map((s) => +s.toFixed(6))).toEqual([-235.2, -226.8, -128.69]);
    expect(volumeWarnings(v)).toEqual([]);
  });
});
