import { readdirSync } from 'node:fs';
import { lpsFromIjk, S2SError } from '@slice2solid/core';
import { encode as encodePng } from 'fast-png';
import UTIF from 'utif2';
import { describe, expect, it } from 'vitest';
import { dataPath, describeData } from '../../../test-utils/shared-data.js';
import { naturalCompare, readImageStack, readNifti, readNrrd, volumeWarnings } from '../src/index.js';
import { readBytes } from './helpers.js';

function grey8(name: string, w: number, h: number, f: (x: number, y: number) => number) {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = f(x, y);
  return { name, bytes: encodePng({ width: w, height: h, data, depth: 8, channels: 1 }) };
}

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

describe('natural file-name order', () => {
  it.each([
    ['slice_2.png', 'slice_10.png', -1],
    ['slice_10.png', 'slice_9.png', 1],
    ['img001.tif', 'img2.tif', -1],
    ['a.png', 'a.png', 0],
    ['IM_5', 'im_5', -1],
    ['s1/2.png', 's1/10.png', -1],
    ['s2/1.png', 's10/1.png', -1],
  ])('%s vs %s', (a, b, sign) => {
    expect(Math.sign(naturalCompare(a, b))).toBe(sign);
    expect(Math.sign(naturalCompare(b, a))).toBe(-sign || 0);
  });
});

describe('PNG/TIFF stacks: geometry and options', () => {
  const files = [
    grey8('slice_10.png', 3, 2, () => 10),
    grey8('slice_2.png', 3, 2, (x, y) => x + 3 * y),
    grey8('slice_1.png', 3, 2, () => 1),
  ];

  it('without spacing: MISSING_GEOMETRY whose hint shows --spacing and the explicit 1 mm opt-in', () => {
    const e = expectError(() => readImageStack(files), 'MISSING_GEOMETRY');
    expect(e.hint).toContain('--spacing 0.5,0.5,1');
    expect(e.hint).toMatch(/accept/);
  });

  it('sorts naturally, stacks k upwards, puts row 0 at the top (j -> P) and column 0 at the right (i -> L)', () => {
    const v = readImageStack(files, { spacing: [0.5, 0.25, 2] });
    expect(v.grid.size).toEqual([3, 2, 3]);
    expect(Array.from(v.data.subarray(0, 6))).toEqual([1, 1, 1, 1, 1, 1]); // slice_1
    expect(Array.from(v.data.subarray(6, 12))).toEqual([0, 1, 2, 3, 4, 5]); // slice_2, row-major from the top-left
    expect(v.data[12]).toBe(10); // slice_10 last
    expect(lpsFromIjk(v.grid, [1, 0, 0])).toEqual([0.5, 0, 0]);
    expect(lpsFromIjk(v.grid, [0, 1, 0])).toEqual([0, 0.25, 0]);
    expect(lpsFromIjk(v.grid, [0, 0, 1])).toEqual([0, 0, 2]);
    expect(volumeWarnings(v).join(' ')).toMatch(/no orientation/);
  });

  it('acceptDefaultSpacing gives 1 mm with a warning; origin/direction options are honoured (and silence the orientation warning)', () => {
    const v = readImageStack(files, { acceptDefaultSpacing: true });
    expect(v.grid.spacing).toEqual([1, 1, 1]);
    expect(volumeWarnings(v).join(' ')).toMatch(/1 mm/);
    const w = readImageStack(files, {
      spacing: [1, 1, 1],
      origin: [5, 6, 7],
      direction: [
        [1, 0, 0],
        [0, 0, -1],
        [0, 1, 0],
      ],
    });
    expect(lpsFromIjk(w.grid, [0, 1, 0])).toEqual([5, 6, 6]);
    expect(volumeWarnings(w).join(' ')).not.toMatch(/no orientation/);
    expect(readImageStack(files, { spacing: [1, 1, 1], order: 'none' }).data[0]).toBe(10);
  });

  it('mixed sizes or bit depths: INCONSISTENT_SERIES naming the odd file', () => {
    const odd = grey8('slice_3.png', 4, 2, () => 0);
    const e = expectError(() => readImageStack([...files, odd], { spacing: [1, 1, 1] }), 'INCONSISTENT_SERIES');
    expect(e.message).toContain('slice_3.png');
    const deep = {
      name: 'slice_4.png',
      bytes: encodePng({ width: 3, height: 2, data: new Uint16Array(6), depth: 16, channels: 1 }),
    };
    expect(
      expectError(() => readImageStack([...files, deep], { spacing: [1, 1, 1] }), 'INCONSISTENT_SERIES').message,
    ).toContain('slice_4.png');
  });

  it('PNG variants: 16-bit, 2-bit packed, palette, grey+alpha, RGB (auto / rgb / luma)', () => {
    const s = { spacing: [1, 1, 1] as [number, number, number] };
    const p16 = encodePng({ width: 2, height: 1, data: Uint16Array.from([0, 65535]), depth: 16, channels: 1 });
    expect(Array.from(readImageStack([{ name: 'a.png', bytes: p16 }], s).data)).toEqual([0, 65535]);
    // 3 pixels at 2 bits: 0, 1, 3 -> packed in one byte 00 01 11 00
    const p2 = encodePng({ width: 3, height: 1, data: Uint8Array.from([0b00011100]), depth: 2, channels: 1 });
    expect(Array.from(readImageStack([{ name: 'a.png', bytes: p2 }], s).data)).toEqual([0, 1, 3]);
    const pal = encodePng({
      width: 2,
      height: 1,
      data: Uint8Array.from([1, 0]),
      depth: 8,
      channels: 1,
      palette: [
        [10, 10, 10],
        [20, 20, 20],
      ],
    });
    const pv = readImageStack([{ name: 'a.png', bytes: pal }], s);
    expect(pv.components).toBe(1);
    expect(Array.from(pv.data)).toEqual([20, 10]);
    const ga = encodePng({ width: 2, height: 1, data: Uint8Array.from([5, 255, 6, 0]), depth: 8, channels: 2 });
    expect(Array.from(readImageStack([{ name: 'a.png', bytes: ga }], s).data)).toEqual([5, 6]);
    const rgb = encodePng({ width: 2, height: 1, data: Uint8Array.from([1, 2, 3, 4, 5, 6]), depth: 8, channels: 3 });
    const auto = readImageStack([{ name: 'a.png', bytes: rgb }], s);
    expect(auto.components).toBe(3);
    expect(Array.from(auto.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const luma = readImageStack([{ name: 'a.png', bytes: rgb }], { ...s, color: 'luma' });
    expect(luma.components).toBe(1);
    expect(luma.data[0]).toBeCloseTo(0.299 + 1.174 + 0.342, 5);
    const greyRgb = encodePng({
      width: 2,
      height: 1,
      data: Uint8Array.from([7, 7, 7, 9, 9, 9]),
      depth: 8,
      channels: 3,
    });
    expect(Array.from(readImageStack([{ name: 'a.png', bytes: greyRgb }], s).data)).toEqual([7, 9]);
    expect(readImageStack([{ name: 'a.png', bytes: greyRgb }], { ...s, color: 'rgb' }).components).toBe(3);
  });

  it('TIFF written by utif2 (RGBA, uncompressed): alpha dropped, rows top-down', () => {
    const rgba = Uint8Array.from([1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255, 10, 11, 12, 255]);
    const tif = new Uint8Array(UTIF.encodeImage(rgba, 2, 2));
    const v = readImageStack([{ name: 'a.tif', bytes: tif }], { spacing: [1, 1, 1] });
    expect(v.components).toBe(3);
    expect(v.grid.size).toEqual([2, 2, 1]);
    expect(Array.from(v.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('bad input: not an image, corrupt PNG, empty list', () => {
    expectError(
      () =>
        readImageStack([{ name: 'x.png', bytes: new TextEncoder().encode('hello world, not a png') }], {
          spacing: [1, 1, 1],
        }),
      'UNSUPPORTED_FORMAT',
    );
    const good = files[0]!.bytes;
    expectError(
      () => readImageStack([{ name: 'x.png', bytes: good.subarray(0, good.length - 20) }], { spacing: [1, 1, 1] }),
      'DECODE_FAILED',
    );
    expectError(() => readImageStack([], { spacing: [1, 1, 1] }), 'INVALID_ARGUMENT');
    expectError(() => readImageStack(files, { spacing: [1, 0, 1] }), 'INVALID_ARGUMENT');
  });
});

describeData('PNG/TIFF stacks on real files', () => {
  const root = dataPath('image-stacks-png-tiff');
  it('headsq: the PNG16 stack and the multi-page TIFF equal the raw volume read through quarter.nhdr, voxel for voxel', async () => {
    const dir = dataPath('ct-head-volumes', 'vtk-headsq');
    const ref = await readNrrd(readBytes(`${dir}/quarter.nhdr`), { readFile: (n) => readBytes(`${dir}/${n}`) });
    const pngDir = `${root}/headsq-derived/png16`;
    // shuffled input order: the natural sort must restore it
    const names = readdirSync(pngDir)
      .filter((n) => n.endsWith('.png'))
      .reverse();
    const png = readImageStack(
      names.map((n) => ({ name: n, bytes: readBytes(`${pngDir}/${n}`) })),
      { spacing: [3.2, 3.2, 1.5] },
    );
    const tif = readImageStack(
      [{ name: 'headsq_93slices_uint16.tif', bytes: readBytes(`${root}/headsq-derived/headsq_93slices_uint16.tif`) }],
      {
        spacing: [3.2, 3.2, 1.5],
      },
    );
    for (const v of [png, tif]) {
      expect(v.grid).toEqual(ref.grid);
      expect(v.data.length).toBe(ref.data.length);
      let bad = -1;
      for (let i = 0; i < ref.data.length; i++) {
        if (v.data[i] !== ref.data[i]) {
          bad = i;
          break;
        }
      }
      expect(bad).toBe(-1);
    }
  });

  it('dicomtomesh PNG stack with spacing (1, 1.5, 2): 256x256x12, and 256x256x3 for 0..2.png', () => {
    const dir = `${root}/dicomtomesh-png-stack`;
    const all = readdirSync(dir).filter((n) => n.endsWith('.png'));
    const v = readImageStack(
      all.map((n) => ({ name: n, bytes: readBytes(`${dir}/${n}`) })),
      { spacing: [1, 1.5, 2] },
    );
    expect(v.grid.size).toEqual([256, 256, 12]);
    expect(v.grid.spacing).toEqual([1, 1.5, 2]);
    const three = readImageStack(
      ['0.png', '1.png', '2.png'].map((n) => ({ name: n, bytes: readBytes(`${dir}/${n}`) })),
      { spacing: [1, 1.5, 2] },
    );
    expect(three.grid.size).toEqual([256, 256, 3]);
    // natural order: 10.png is slice 10, not slice 2
    const ten = readImageStack([{ name: '10.png', bytes: readBytes(`${dir}/10.png`) }], { spacing: [1, 1, 1] });
    expect(Array.from(v.data.subarray(10 * 65536, 11 * 65536))).toEqual(Array.from(ten.data));
  });

  it('niivue shapes_deflate.tif (RGB, deflate) equals its reference shapes_deflate.nii', () => {
    const dir = `${root}/niivue-tiff-loader`;
    const tif = readImageStack([{ name: 'shapes_deflate.tif', bytes: readBytes(`${dir}/shapes_deflate.tif`) }], {
      acceptDefaultSpacing: true,
    });
    const nii = readNifti(readBytes(`${dir}/shapes_deflate.nii`));
    expect(nii.components).toBe(3);
    expect(tif.components).toBe(3);
    expect(tif.grid.size).toEqual([128, 72, 1]);
    expect(tif.grid.size).toEqual(nii.grid.size);
    expect(Array.from(tif.data)).toEqual(Array.from(nii.data));
  });

  it('niivue mni.tiff (2D, LZW) loads as one 207x256 slice', () => {
    const v = readImageStack([{ name: 'mni.tiff', bytes: readBytes(`${root}/niivue-tiff-loader/mni.tiff`) }], {
      acceptDefaultSpacing: true,
    });
    expect(v.grid.size).toEqual([207, 256, 1]);
  });
});

describe('PNG/TIFF seeded fuzz', () => {
  it('corrupted PNG and TIFF bytes give S2SError or a volume, never another error', async () => {
    const { mulberry32 } = await import('./helpers.js');
    const rand = mulberry32(31);
    const rgba = new Uint8Array(16 * 16 * 4).map((_, i) => (i * 37) & 255);
    const bases = [
      new Uint8Array(UTIF.encodeImage(rgba, 16, 16)),
      encodePng({ width: 16, height: 16, data: rgba, depth: 8, channels: 4 }),
    ];
    for (const base of bases) {
      for (let trial = 0; trial < 200; trial++) {
        const b = base.slice(0, trial % 5 === 0 ? Math.floor(rand() * base.length) : base.length);
        for (let f = 0; f < 1 + Math.floor(rand() * 4); f++)
          b[Math.floor(rand() * Math.min(b.length, 300))] = Math.floor(rand() * 256);
        try {
          readImageStack([{ name: 'f', bytes: b }], { spacing: [1, 1, 1] });
        } catch (e) {
          expect(e, String(e)).toBeInstanceOf(S2SError);
        }
      }
    }
  });
});

describe('TIFF regression: structures that made utif2 hang or exhaust memory', () => {
  it('an IFD chain cycle, a huge tag count and strips past the end give S2SErrors', () => {
    const rgba = new Uint8Array(4 * 4 * 4).fill(9);
    const good = new Uint8Array(UTIF.encodeImage(rgba, 4, 4));
    const dv = new DataView(good.buffer);
    const le = good[0] === 0x49; // utif2 writes big-endian ("MM")
    const ifd = dv.getUint32(4, le);
    const cnt = dv.getUint16(ifd, le);
    // 1. next-IFD pointer back to itself (utif2 would loop forever)
    const cyc = good.slice();
    new DataView(cyc.buffer).setUint32(ifd + 2 + cnt * 12, ifd, le);
    expect(() => readImageStack([{ name: 'c.tif', bytes: cyc }], { spacing: [1, 1, 1] })).toThrow(S2SError);
    // 2. first entry claims 2^31 SHORT values (utif2 would build a 2-billion-element array)
    const huge = good.slice();
    new DataView(huge.buffer).setUint16(ifd + 2 + 2, 3, le);
    new DataView(huge.buffer).setUint32(ifd + 2 + 4, 0x80000000, le);
    expect(() => readImageStack([{ name: 'h.tif', bytes: huge }], { spacing: [1, 1, 1] })).toThrow(S2SError);
    // 3. uncompressed data cut short: an error, not silent zeros
    const cut = good.slice(0, good.length - 8);
    let threw = false;
    try {
      const v = readImageStack([{ name: 't.tif', bytes: cut }], { spacing: [1, 1, 1] });
      expect(Array.from(v.data).every((x) => x === 9)).toBe(true);
    } catch (e) {
      threw = true;
      expect(e).toBeInstanceOf(S2SError);
    }
    expect(threw || cut.length >= good.length).toBe(true);
  });
});
