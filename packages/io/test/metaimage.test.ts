import { lpsFromIjk, makeGrid, makeVolume, S2SError } from '@slice2solid/core';
import { zlibSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { dataPath, describeData } from '../../../test-utils/shared-data.js';
import {
  readImageStack,
  readMetaImage,
  readMetaImageHeader,
  readMetaImageSync,
  volumeWarnings,
  writeMetaImage,
  writeMetaImageDetached,
} from '../src/index.js';
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

function expectError(fn: () => unknown, code: string): S2SError {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(S2SError);
    expect((e as S2SError).code).toBe(code);
    return e as S2SError;
  }
  throw new Error(`expected an S2SError ${code}`);
}

describe('MetaImage header fields', () => {
  const hdr = (extra: string, file = 'LOCAL') =>
    enc(`ObjectType = Image\nNDims = 3\nDimSize = 2 1 1\nElementType = MET_SHORT\n${extra}ElementDataFile = ${file}\n`);
  const body = Uint8Array.from([1, 0, 2, 0]);

  it('TransformMatrix is read as ITK does: numbers [3a..3a+2] are the LPS direction of index axis a', () => {
    // axis 0 -> (0,1,0), axis 1 -> (0,0,1), axis 2 -> (1,0,0)
    const v = readMetaImageSync(
      cat(hdr('TransformMatrix = 0 1 0 0 0 1 1 0 0\nOffset = 10 20 30\nElementSpacing = 2 3 4\n'), body),
    );
    expect(v.grid.direction).toEqual([
      [0, 1, 0],
      [0, 0, 1],
      [1, 0, 0],
    ]);
    expect(lpsFromIjk(v.grid, [1, 0, 0])).toEqual([10, 22, 30]);
    expect(lpsFromIjk(v.grid, [0, 0, 1])).toEqual([14, 20, 30]);
  });

  it('synonyms Position / Orientation, big-endian data, channels, 4D frames, 2D images', () => {
    const v = readMetaImageSync(
      cat(
        hdr('Position = 1 2 3\nOrientation = 1 0 0 0 1 0 0 0 1\nElementByteOrderMSB = True\n'),
        Uint8Array.from([0, 1, 0, 2]),
      ),
    );
    expect(v.grid.origin).toEqual([1, 2, 3]);
    expect(Array.from(v.data)).toEqual([1, 2]);
    const rgb = readMetaImageSync(
      cat(
        enc(
          'NDims = 2\nDimSize = 2 1\nElementNumberOfChannels = 3\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n',
        ),
        Uint8Array.from([1, 2, 3, 4, 5, 6]),
      ),
    );
    expect(rgb.components).toBe(3);
    expect(rgb.grid.size).toEqual([2, 1, 1]);
    const t = readMetaImageSync(
      cat(
        enc(
          'NDims = 4\nDimSize = 1 1 1 3\nElementType = MET_UCHAR\nElementSpacing = 1 1 1 1\nElementDataFile = LOCAL\n',
        ),
        Uint8Array.from([7, 8, 9]),
      ),
    );
    expect(t.frames).toBe(3);
  });

  it('AnatomicalOrientation that disagrees with the matrix gives a warning; RAI = identity does not', () => {
    const ok = readMetaImageSync(cat(hdr('AnatomicalOrientation = RAI\nElementSpacing = 1 1 1\n'), body));
    expect(volumeWarnings(ok)).toEqual([]);
    const bad = readMetaImageSync(cat(hdr('AnatomicalOrientation = LPS\nElementSpacing = 1 1 1\n'), body));
    expect(volumeWarnings(bad).join(' ')).toMatch(/disagrees/);
  });

  it('CompressedData (zlib), HeaderSize and HeaderSize = -1, LIST and pattern data files', async () => {
    const z = readMetaImageSync(cat(hdr('CompressedData = True\n'), zlibSync(body)));
    expect(Array.from(z.data)).toEqual([1, 2]);
    const files: Record<string, Uint8Array> = {
      'a.raw': cat(Uint8Array.from([9, 9, 9]), body),
      's1.raw': Uint8Array.from([1, 0]),
      's2.raw': Uint8Array.from([2, 0]),
    };
    const readFile = (n: string) => files[n] ?? new Uint8Array(0);
    expect(Array.from(readMetaImageSync(hdr('HeaderSize = 3\n', 'a.raw'), { readFile }).data)).toEqual([1, 2]);
    expect(Array.from(readMetaImageSync(hdr('HeaderSize = -1\n', 'a.raw'), { readFile }).data)).toEqual([1, 2]);
    expect(Array.from(readMetaImageSync(hdr('', 'LIST\ns2.raw\ns1.raw'), { readFile }).data)).toEqual([2, 1]);
    expect(
      Array.from((await readMetaImage(hdr('', 's%d.raw 1 2 1'), { readFile: async (n) => readFile(n) })).data),
    ).toEqual([1, 2]);
    expect(readMetaImageHeader(hdr('', 's%d.raw 1 2 1')).dataFiles).toEqual(['s1.raw', 's2.raw']);
  });

  it('malformed input: clear S2SErrors; seeded fuzz', () => {
    expectError(() => readMetaImageSync(new Uint8Array(0)), 'MALFORMED_FILE');
    expectError(
      () => readMetaImageSync(enc('NDims = 3\nDimSize = 2 2 2\nElementType = MET_SHORT\n')),
      'TRUNCATED_FILE',
    );
    expectError(
      () => readMetaImageSync(enc('NDims = 3\nDimSize = 2 0 2\nElementType = MET_SHORT\nElementDataFile = LOCAL\n')),
      'MALFORMED_FILE',
    );
    expectError(
      () => readMetaImageSync(enc('NDims = 3\nDimSize = 2 2 2\nElementType = MET_FOO\nElementDataFile = LOCAL\n')),
      'MALFORMED_FILE',
    );
    expectError(
      () =>
        readMetaImageSync(
          enc('NDims = 3\nDimSize = 100000 100000 100000\nElementType = MET_SHORT\nElementDataFile = LOCAL\n'),
        ),
      'TRUNCATED_FILE',
    );
    expectError(() => readMetaImageSync(cat(hdr(''), body.subarray(0, 3))), 'TRUNCATED_FILE');
    expectError(
      () =>
        readMetaImageSync(
          cat(hdr('CompressedData = True\n'), zlibSync(new Uint8Array(4000).map((_, i) => i * 7)).subarray(0, 30)),
        ),
      'TRUNCATED_FILE',
    );
    expectError(() => readMetaImageSync(hdr('', 'x.raw')), 'INVALID_ARGUMENT');
    const rand = mulberry32(11);
    const base = writeMetaImage(randomVolume(rand, 'int16', randomGrid(rand, 'oblique', [3, 4, 5])));
    for (let trial = 0; trial < 300; trial++) {
      const b = base.slice();
      for (let f = 0; f < 1 + Math.floor(rand() * 4); f++)
        b[Math.floor(rand() * 300)] = [48, 32, 10, 61, 45, 46, Math.floor(rand() * 256)][Math.floor(rand() * 7)]!;
      try {
        readMetaImageSync(b);
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(S2SError);
      }
    }
  });
});

describe('MetaImage round trips (seeded property tests)', () => {
  const kinds: GridKind[] = ['axis', 'oblique', 'left-handed', 'sheared'];
  for (const compress of [false, true]) {
    it(`.mha${compress ? ' compressed' : ''}: every type, 3D/4D, channels, every grid kind: exact`, () => {
      const rand = mulberry32(compress ? 21 : 20);
      for (const type of ALL_TYPES) {
        for (const kind of kinds) {
          const frames = rand() < 0.4 ? 2 : 1;
          const components = rand() < 0.3 ? 3 : 1;
          const v = randomVolume(rand, type, randomGrid(rand, kind), frames, components);
          const back = readMetaImageSync(writeMetaImage(v, { compress }));
          expectSameVolume(v, back, 1e-9);
          expect(back.grid.origin).toEqual(v.grid.origin);
          expect(volumeWarnings(back)).toEqual([]);
        }
      }
    });
  }
  it('.mhd + .raw / .zraw', () => {
    const rand = mulberry32(22);
    const v = randomVolume(rand, 'float64', randomGrid(rand, 'left-handed'));
    for (const compress of [false, true]) {
      const { header, data } = writeMetaImageDetached(v, compress ? 'v.zraw' : 'v.raw', { compress });
      expectSameVolume(v, readMetaImageSync(header, { readFile: () => data }), 1e-9);
    }
  });
  it('writes 2D-like volumes (one slice) and keeps their geometry', () => {
    const v = makeVolume({
      grid: makeGrid({ size: [3, 2, 1], spacing: [0.5, 0.7, 2], origin: [1, 2, 3] }),
      data: new Uint8Array(6),
    });
    expectSameVolume(v, readMetaImageSync(writeMetaImage(v)), 1e-12);
  });
});

describeData('MetaImage on real files', () => {
  const dir = dataPath('image-stacks-png-tiff', 'itk-examples-debian');
  it('ITK BrainProtonDensity3Slices.mha (+ .raw): 181x217x3 uchar, spacing 1, origin 0, identity', async () => {
    const v = await readMetaImage(readBytes(`${dir}/BrainProtonDensity3Slices.mha`), {
      readFile: (n) => readBytes(`${dir}/${n}`),
    });
    expect(v.grid.size).toEqual([181, 217, 3]);
    expect(v.grid.spacing).toEqual([1, 1, 1]);
    expect(v.grid.origin).toEqual([0, 0, 0]);
    expect(v.grid.direction).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(v.data).toBeInstanceOf(Uint8Array);
    const raw = readBytes(`${dir}/BrainProtonDensity3Slices.raw`);
    expect(Array.from(v.data.subarray(0, 1000))).toEqual(Array.from(raw.subarray(0, 1000)));
    // the 2D example PNG of the same subject has the same in-plane size
    const png = readImageStack([{ name: 'slice.png', bytes: readBytes(`${dir}/BrainProtonDensitySlice.png`) }], {
      acceptDefaultSpacing: true,
    });
    expect(png.grid.size.slice(0, 2)).toEqual([181, 217]);
  });
});
