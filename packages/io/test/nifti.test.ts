import {
  allocateVoxels,
  lpsFromIjk,
  makeGrid,
  makeVolume,
  reorientVolume,
  S2SError,
  type VoxelType,
} from '@slice2solid/core';
import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { dataPath, describeData } from '../../../test-utils/shared-data.js';
import { NIFTI_DATATYPE, readNifti, readNiftiHeader, volumeWarnings, writeNifti } from '../src/index.js';
import {
  ALL_TYPES,
  expectSameGrid,
  expectSameVolume,
  type GridKind,
  mulberry32,
  randomGrid,
  randomVolume,
  readBytes,
} from './helpers.js';

// ------------------------------------------------------------------------------------------
// An independent NIfTI-1 builder (does not use writeNifti), for byte order, qform and ANALYZE cases.

interface Hdr1 {
  le?: boolean;
  dim: number[];
  datatype: number;
  bitpix: number;
  pixdim?: number[];
  sclSlope?: number;
  sclInter?: number;
  qformCode?: number;
  sformCode?: number;
  quatern?: number[];
  qoffset?: number[];
  srow?: number[];
  xyztUnits?: number;
  magic?: string;
  voxOffset?: number;
}

function buildNifti1(h: Hdr1, body: Uint8Array): Uint8Array {
  const le = h.le ?? true;
  const off = h.voxOffset ?? 352;
  const out = new Uint8Array(Math.max(352, off + body.length));
  const dv = new DataView(out.buffer);
  dv.setInt32(0, 348, le);
  for (let k = 0; k < 8; k++) dv.setInt16(40 + 2 * k, h.dim[k] ?? 0, le);
  dv.setInt16(70, h.datatype, le);
  dv.setInt16(72, h.bitpix, le);
  const pd = h.pixdim ?? [1, 1, 1, 1, 1, 1, 1, 1];
  for (let k = 0; k < 8; k++) dv.setFloat32(76 + 4 * k, pd[k] ?? 0, le);
  dv.setFloat32(108, off, le);
  dv.setFloat32(112, h.sclSlope ?? 0, le);
  dv.setFloat32(116, h.sclInter ?? 0, le);
  out[123] = h.xyztUnits ?? 2;
  dv.setInt16(252, h.qformCode ?? 0, le);
  dv.setInt16(254, h.sformCode ?? 0, le);
  const q = h.quatern ?? [0, 0, 0];
  const qo = h.qoffset ?? [0, 0, 0];
  for (let k = 0; k < 3; k++) dv.setFloat32(256 + 4 * k, q[k]!, le);
  for (let k = 0; k < 3; k++) dv.setFloat32(268 + 4 * k, qo[k]!, le);
  const s = h.srow ?? new Array(12).fill(0);
  for (let k = 0; k < 12; k++) dv.setFloat32(280 + 4 * k, s[k]!, le);
  const magic = h.magic ?? 'n+1';
  for (let k = 0; k < magic.length; k++) out[344 + k] = magic.charCodeAt(k);
  out.set(body, off);
  return out;
}

function bytesOf(values: number[], type: VoxelType, le: boolean): Uint8Array {
  const arr = allocateVoxels(type, values.length);
  values.forEach((v, i) => {
    arr[i] = v;
  });
  const size = arr.BYTES_PER_ELEMENT;
  const u = new Uint8Array(arr.buffer.slice(0));
  if (!le) for (let i = 0; i < u.length; i += size) u.subarray(i, i + size).reverse();
  return u;
}

const TYPE_CODE: Record<VoxelType, number> = {
  uint8: 2,
  int16: 4,
  int32: 8,
  float32: 16,
  float64: 64,
  int8: 256,
  uint16: 512,
  uint32: 768,
};

function expectError(fn: () => unknown, code: string): S2SError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(S2SError);
    expect((e as S2SError).code).toBe(code);
    expect((e as S2SError).message.length).toBeGreaterThan(10);
    return e as S2SError;
  }
  throw new Error(`expected an S2SError ${code}`);
}

describe('NIfTI-1 reader: header cases built by hand', () => {
  it.each(ALL_TYPES.flatMap((t) => [true, false].map((le) => [t, le] as const)))(
    'reads %s data in %s-endian order',
    (type, le) => {
      const vals = type.startsWith('u') ? [0, 1, 2, 3, 100, 5, 6, 7] : [0, -1, 2, -3, 100, 5, -6, 7];
      const body = bytesOf(vals, type, le);
      const bytes = buildNifti1(
        {
          le,
          dim: [3, 2, 2, 2, 1],
          datatype: TYPE_CODE[type],
          bitpix: body.length,
          sformCode: 1,
          srow: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0],
        },
        body,
      );
      const v = readNifti(bytes);
      expect(v.data.constructor.name.toLowerCase()).toBe(`${type}array`);
      expect(Array.from(v.data)).toEqual(vals);
      expect(readNiftiHeader(bytes).littleEndian).toBe(le);
    },
  );

  it('converts the RAS sform to LPS: (i,j,k) -> ras (x,y,z) becomes lps (-x,-y,z)', () => {
    // sform: i -> +x (R..L? no: RAS +x = Right), rotated 90 deg about z, with an offset
    const srow = [0, -2, 0, 10, 3, 0, 0, 20, 0, 0, 4, 30];
    const body = bytesOf(new Array(24).fill(0), 'uint8', true);
    const v = readNifti(buildNifti1({ dim: [3, 2, 3, 4], datatype: 2, bitpix: 8, sformCode: 2, srow }, body));
    for (const ijk of [
      [0, 0, 0],
      [1, 2, 3],
      [1, 0, 2],
    ]) {
      const [i, j, k] = ijk as [number, number, number];
      const ras = [
        srow[0]! * i + srow[1]! * j + srow[2]! * k + srow[3]!,
        srow[4]! * i + srow[5]! * j + srow[6]! * k + srow[7]!,
        srow[8]! * i + srow[9]! * j + srow[10]! * k + srow[11]!,
      ];
      const lps = lpsFromIjk(v.grid, ijk);
      expect(lps[0]).toBeCloseTo(-ras[0]!, 9);
      expect(lps[1]).toBeCloseTo(-ras[1]!, 9);
      expect(lps[2]).toBeCloseTo(ras[2]!, 9);
    }
    expect(v.grid.spacing).toEqual([3, 2, 4]);
    expect(v.meta?.geometry).toBe('sform');
  });

  it('uses the qform (quaternion + qfac) when sform_code is 0', () => {
    // 90 degrees about z: a = cos45, d = sin45 -> R = [[0,-1,0],[1,0,0],[0,0,1]]; qfac -1 flips k
    const s = Math.SQRT1_2;
    const body = bytesOf(new Array(8).fill(0), 'uint8', true);
    const v = readNifti(
      buildNifti1(
        {
          dim: [3, 2, 2, 2],
          datatype: 2,
          bitpix: 8,
          pixdim: [-1, 2, 3, 4, 1, 1, 1, 1],
          qformCode: 1,
          quatern: [0, 0, s],
          qoffset: [5, 6, 7],
          sformCode: 0,
          // a decoy sform that must be ignored because sform_code = 0
          srow: [9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9],
        },
        body,
      ),
    );
    expect(v.meta?.geometry).toBe('qform');
    // ras(i,j,k) = [-3j + 5, 2i + 6, -4k + 7]
    const lps = lpsFromIjk(v.grid, [1, 1, 1]);
    expect(lps[0]).toBeCloseTo(-(-3 + 5), 6);
    expect(lps[1]).toBeCloseTo(-(2 + 6), 6);
    expect(lps[2]).toBeCloseTo(-4 + 7, 6);
  });

  it('falls back to pixdim only (ANALYZE method) with a warning when both codes are 0', () => {
    const body = bytesOf(new Array(8).fill(0), 'uint8', true);
    const v = readNifti(
      buildNifti1({ dim: [3, 2, 2, 2], datatype: 2, bitpix: 8, pixdim: [1, 0.5, 0.7, 2, 0, 0, 0, 0] }, body),
    );
    expect(v.meta?.geometry).toBe('pixdim');
    expect(v.grid.spacing).toEqual([0.5, Math.fround(0.7), 2]);
    expect(volumeWarnings(v).join(' ')).toMatch(/orientation is UNKNOWN/);
  });

  it('converts metre and micron units to mm', () => {
    const body = bytesOf([0], 'uint8', true);
    const m = readNifti(
      buildNifti1(
        {
          dim: [3, 1, 1, 1],
          datatype: 2,
          bitpix: 8,
          xyztUnits: 1,
          sformCode: 1,
          srow: [0.001, 0, 0, 0.1, 0, 0.002, 0, 0, 0, 0, 0.003, 0],
        },
        body,
      ),
    );
    expect(m.grid.spacing.map((x) => +x.toFixed(6))).toEqual([1, 2, 3]);
    expect(m.grid.origin[0]).toBeCloseTo(-100, 3);
  });

  it('applies scl_slope/scl_inter: integral -> integer type that fits, fractional -> float32', () => {
    const body = bytesOf([0, 1, 2, 1000], 'uint16', true);
    const base = {
      dim: [3, 4, 1, 1],
      datatype: 512,
      bitpix: 16,
      sformCode: 1,
      srow: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0],
    };
    const ct = readNifti(buildNifti1({ ...base, sclSlope: 1, sclInter: -1024 }, body));
    expect(ct.data).toBeInstanceOf(Int16Array);
    expect(Array.from(ct.data)).toEqual([-1024, -1023, -1022, -24]);
    const same = readNifti(buildNifti1({ ...base, sclSlope: 2, sclInter: 0 }, body));
    expect(same.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(same.data)).toEqual([0, 2, 4, 2000]);
    const frac = readNifti(buildNifti1({ ...base, sclSlope: 0.5, sclInter: 0.25 }, body));
    expect(frac.data).toBeInstanceOf(Float32Array);
    expect(Array.from(frac.data)).toEqual([0.25, 0.75, 1.25, 500.25]);
    const ident = readNifti(buildNifti1({ ...base, sclSlope: 1, sclInter: 0 }, body));
    expect(ident.data).toBeInstanceOf(Uint16Array);
    const zero = readNifti(buildNifti1({ ...base, sclSlope: 0, sclInter: 5 }, body));
    expect(Array.from(zero.data)).toEqual([0, 1, 2, 1000]); // slope 0 means "no scaling"
    const raw = readNifti(buildNifti1({ ...base, sclSlope: 0.5, sclInter: 0.25 }, body), { applyScaling: false });
    expect(raw.data).toBeInstanceOf(Uint16Array);
  });

  it('reads dim[4] as frames and RGB24 as 3 components', () => {
    const body = bytesOf([1, 2, 3, 4, 5, 6, 7, 8], 'uint8', true);
    const v = readNifti(buildNifti1({ dim: [4, 2, 1, 1, 4], datatype: 2, bitpix: 8 }, body));
    expect(v.frames).toBe(4);
    expect(v.grid.size).toEqual([2, 1, 1]);
    const rgbBody = bytesOf([10, 20, 30, 40, 50, 60], 'uint8', true);
    const rgb = readNifti(buildNifti1({ dim: [3, 2, 1, 1], datatype: 128, bitpix: 24 }, rgbBody));
    expect(rgb.components).toBe(3);
    expect(Array.from(rgb.data)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('reads int64 that fits into int32 and refuses values that do not', () => {
    const mk = (vals: bigint[]) => {
      const b = new Uint8Array(vals.length * 8);
      const dv = new DataView(b.buffer);
      for (const [i, x] of vals.entries()) dv.setBigInt64(i * 8, x, true);
      return buildNifti1({ dim: [3, vals.length, 1, 1], datatype: NIFTI_DATATYPE.int64, bitpix: 64 }, b);
    };
    const ok = readNifti(mk([-5n, 0n, 2147483647n]));
    expect(ok.data).toBeInstanceOf(Int32Array);
    expect(Array.from(ok.data)).toEqual([-5, 0, 2147483647]);
    expectError(() => readNifti(mk([0n, 1n << 40n])), 'UNSUPPORTED_FORMAT');
  });

  it('reads a .hdr/.img pair when the image bytes are given, and explains when they are not', () => {
    const body = bytesOf([1, 2, 3, 4], 'uint8', true);
    const hdr = buildNifti1(
      {
        dim: [3, 4, 1, 1],
        datatype: 2,
        bitpix: 8,
        magic: 'ni1',
        voxOffset: 0,
        sformCode: 1,
        srow: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0],
      },
      new Uint8Array(0),
    );
    expect(Array.from(readNifti(hdr, { imageBytes: body }).data)).toEqual([1, 2, 3, 4]);
    expect(expectError(() => readNifti(hdr), 'INVALID_ARGUMENT').hint).toMatch(/imageBytes/);
  });

  it('reads multi-member gzip (bgzip style)', () => {
    const body = bytesOf([1, 2, 3, 4, 5, 6], 'uint8', true);
    const raw = buildNifti1({ dim: [3, 6, 1, 1], datatype: 2, bitpix: 8 }, body);
    const a = gzipSync(raw.subarray(0, 200));
    const b = gzipSync(raw.subarray(200));
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    expect(Array.from(readNifti(both).data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('NIfTI malformed input gives a clear S2SError', () => {
  const good = buildNifti1(
    { dim: [3, 4, 4, 4], datatype: 4, bitpix: 16, sformCode: 1, srow: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0] },
    new Uint8Array(128),
  );
  it('empty and truncated headers', () => {
    expectError(() => readNifti(new Uint8Array(0)), 'TRUNCATED_FILE');
    expectError(() => readNifti(good.subarray(0, 200)), 'TRUNCATED_FILE');
  });
  it('bad magic / not NIfTI', () => {
    expectError(() => readNifti(new TextEncoder().encode('NRRD0004\ntype: short\n')), 'MALFORMED_FILE');
    const bad = good.slice();
    bad[344] = 'x'.charCodeAt(0);
    expectError(() => readNifti(bad), 'MALFORMED_FILE');
  });
  it('dim = 0 and negative dims', () => {
    const z = buildNifti1({ dim: [3, 4, 0, 4], datatype: 4, bitpix: 16 }, new Uint8Array(128));
    expectError(() => readNifti(z), 'MALFORMED_FILE');
    const z0 = buildNifti1({ dim: [0, 4, 4, 4], datatype: 4, bitpix: 16 }, new Uint8Array(128));
    expectError(() => readNifti(z0), 'MALFORMED_FILE');
  });
  it('absurd sizes are refused before allocating', () => {
    // 2.8e14 bytes: plausible as a number, impossible for the 16 bytes present
    const huge = buildNifti1({ dim: [3, 32767, 32767, 32767], datatype: 64, bitpix: 64 }, new Uint8Array(16));
    expectError(() => readNifti(huge), 'TRUNCATED_FILE');
    // 9e18 bytes: not even a safe integer
    const absurd = buildNifti1({ dim: [4, 32767, 32767, 32767, 32767], datatype: 64, bitpix: 64 }, new Uint8Array(16));
    expectError(() => readNifti(absurd), 'MALFORMED_FILE');
  });
  it('data shorter than the header says', () => {
    expectError(() => readNifti(good.subarray(0, good.length - 1)), 'TRUNCATED_FILE');
    const gz = gzipSync(good);
    expectError(() => readNifti(gz.subarray(0, gz.length >> 1)), 'TRUNCATED_FILE');
  });
  it('unsupported datatypes (complex) are named', () => {
    const c = buildNifti1({ dim: [3, 1, 1, 1], datatype: 32, bitpix: 64 }, new Uint8Array(8));
    expect(expectError(() => readNifti(c), 'UNSUPPORTED_FORMAT').message).toMatch(/complex64/);
  });
  it('seeded fuzz: random byte corruption never crashes with anything but S2SError', () => {
    const rand = mulberry32(1234);
    const base = writeNifti(randomVolume(rand, 'int16', randomGrid(rand, 'oblique', [5, 4, 3])));
    for (let trial = 0; trial < 300; trial++) {
      const b = base.slice(0, trial % 7 === 0 ? Math.floor(rand() * base.length) : base.length);
      const flips = 1 + Math.floor(rand() * 6);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(rand() * Math.min(b.length, 360));
        b[at] = Math.floor(rand() * 256);
      }
      try {
        const v = readNifti(b);
        expect(v.data.length).toBeGreaterThan(0);
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(S2SError);
      }
    }
  });
});

describe('NIfTI round trips (seeded property tests)', () => {
  const kinds: GridKind[] = ['axis', 'oblique', 'left-handed'];
  for (const version of [1, 2] as const) {
    for (const gz of [false, true]) {
      it(`NIfTI-${version}${gz ? ' gz' : ''}: every type, 3D and 4D, oblique and left-handed grids`, () => {
        const rand = mulberry32(version * 10 + (gz ? 1 : 0));
        for (const type of ALL_TYPES) {
          for (const kind of kinds) {
            const frames = rand() < 0.4 ? 2 + Math.floor(rand() * 2) : 1;
            // NIfTI-1 stores the affine in float32: keep coordinates within 100 mm for a 1e-5 mm bound
            const grid = randomGrid(rand, kind, undefined, version === 1 ? 60 : 150);
            const v = randomVolume(rand, type, grid, frames);
            const bytes = writeNifti(v, { gzip: gz, version });
            const back = readNifti(bytes);
            expectSameVolume(v, back, version === 1 ? 1e-5 : 1e-9);
            expect(back.meta?.geometry).toBe('sform');
            const h = readNiftiHeader(bytes);
            expect(h.version).toBe(version);
            expect(h.qformCode).toBe(1);
            expect(h.sformCode).toBe(1);
            expect(h.descrip).toBe('slice2solid');
            expect(h.xyztUnits & 7).toBe(2);
          }
        }
      });
    }
  }

  it('the qform written alongside the sform describes the same grid (incl. left-handed)', () => {
    const rand = mulberry32(77);
    for (const kind of kinds) {
      for (let n = 0; n < 5; n++) {
        const v = randomVolume(rand, 'uint8', randomGrid(rand, kind, undefined, 60));
        const bytes = writeNifti(v, { version: 2 });
        // blank the sform code: the reader must fall back to the qform
        const b = bytes.slice();
        new DataView(b.buffer).setInt32(348, 0, true);
        const viaQ = readNifti(b);
        expect(viaQ.meta?.geometry).toBe('qform');
        expectSameGrid(v.grid, viaQ.grid, 1e-6);
      }
    }
  });

  it('a sheared (non-orthogonal) grid round-trips through the sform; qform_code is 0', () => {
    const rand = mulberry32(5);
    for (let n = 0; n < 5; n++) {
      const v = randomVolume(rand, 'int16', randomGrid(rand, 'sheared', undefined, 60));
      const bytes = writeNifti(v, { version: 2 });
      expect(readNiftiHeader(bytes).qformCode).toBe(0);
      expectSameVolume(v, readNifti(bytes), 1e-9);
    }
  });

  it('RGB24 round trip, description option, xformCode 2', () => {
    const grid = makeGrid({ size: [2, 2, 1], spacing: [0.5, 0.5, 1] });
    const v = makeVolume({ grid, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), components: 3 });
    const bytes = writeNifti(v, { description: 'phantom', xformCode: 2 });
    const h = readNiftiHeader(bytes);
    expect(h.datatype).toBe(128);
    expect(h.descrip).toBe('phantom');
    expect(h.sformCode).toBe(2);
    expect(h.auxFile).toBe('');
    expect(h.intentName).toBe('');
    expectSameVolume(v, readNifti(bytes), 1e-6);
  });

  it('refuses multi-component volumes NIfTI cannot hold', () => {
    const grid = makeGrid({ size: [2, 1, 1] });
    const v = makeVolume({ grid, data: new Float32Array(4), components: 2 });
    expectError(() => writeNifti(v), 'INVALID_ARGUMENT');
  });
});

// ------------------------------------------------------------------------------------------
// Real data

const ORIENT = ['RAS', 'LAS', 'LPS', 'LPI', 'RPI', 'RAI', 'ASL', 'PIR', 'SLA', 'IAL', 'AIL', 'PSR'];

describeData('NIfTI on real files', () => {
  it('the 12 orientation permutations are the same world image (identical after reorienting to LPS)', () => {
    const vols = ORIENT.map((o) => readNifti(readBytes(dataPath('nifti-orientation-permutations', `${o}.nii.gz`))));
    const ref = reorientVolume(vols[0]!, 'LPS');
    expect(ref.grid.size).toEqual([64, 79, 67]);
    for (const [n, v] of vols.entries()) {
      const r = reorientVolume(v, 'LPS');
      expectSameGrid(ref.grid, r.grid, 1e-4);
      expectSameVolume(ref, r, 1e-4);
      expect(ORIENT[n]).toBeDefined();
    }
    // the stored voxel orders really differ (the test is not comparing a file with itself)
    expect(vols[0]!.grid.size).not.toEqual(vols[6]!.grid.size);
    expect(vols[0]!.data).not.toEqual(vols[2]!.data);
  });

  it('orientation codes match the file names (RAS file reads as index axes R, A, S in LPS)', async () => {
    const { orientationCode } = await import('@slice2solid/core');
    for (const o of ORIENT) {
      const v = readNifti(readBytes(dataPath('nifti-orientation-permutations', `${o}.nii.gz`)));
      expect(orientationCode(v.grid)).toBe(o);
    }
  });

  it('matches nibabel 5.0 on AIL.nii.gz (uint8 x scl_slope; affine)', () => {
    const v = readNifti(readBytes(dataPath('nifti-orientation-permutations', 'AIL.nii.gz')));
    // nibabel: get_fdata().max() = 92.5538831949234, sum = 11398461.144353032 (float64 arithmetic)
    let max = -Infinity;
    let sum = 0;
    for (const x of v.data) {
      if (x > max) max = x;
      sum += x;
    }
    expect(max).toBeCloseTo(92.5538831949234, 4);
    expect(sum / 11398461.144353032).toBeCloseTo(1, 6);
    // nibabel affine (RAS) row 0: [0, 0, -2.3852, 74.5071] -> LPS x = +2.3852 k - 74.5071
    expect(lpsFromIjk(v.grid, [0, 0, 1])[0] - lpsFromIjk(v.grid, [0, 0, 0])[0]).toBeCloseTo(2.3852, 4);
    expect(v.grid.origin[0]).toBeCloseTo(-74.5071, 4);
  });

  const realFiles = [
    ['totalsegmentator-ct-mr', 'example_ct.nii.gz'],
    ['totalsegmentator-ct-mr', 'example_mr_sm.nii.gz'],
    ['totalsegmentator-ct-mr', 'example_seg.nii.gz'],
    ['mri-brain-freesurfer-labels', 'norm.converted-by-nibabel.nii.gz'],
    ['mri-brain-freesurfer-labels', 'aparc.a2009s+aseg.converted-by-nibabel.nii.gz'],
  ];
  it.each(realFiles)('%s/%s loads, writes back and re-reads unchanged', (dir, file) => {
    const v = readNifti(readBytes(dataPath(dir, file)), { name: file });
    expect(v.data.length).toBeGreaterThan(1000);
    for (const version of [1, 2] as const) {
      const back = readNifti(writeNifti(v, { gzip: true, gzipLevel: 1, version }));
      expectSameVolume(v, back, 1e-4);
    }
  });

  it('example_ct.nii.gz: int32 HU range -1207..3382 and 3 mm grid (as the manifest states)', () => {
    const v = readNifti(readBytes(dataPath('totalsegmentator-ct-mr', 'example_ct.nii.gz')));
    expect(v.grid.size).toEqual([122, 101, 112]);
    expect(v.grid.spacing.map((s) => +s.toFixed(4))).toEqual([3, 3, 3]);
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of v.data) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    expect([lo, hi]).toEqual([-1207, 3382]);
  });
});
