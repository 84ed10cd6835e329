/**
 * Our DICOM CT writer, checked with readers that are not ours:
 *  - dcmjs (npm) parses every file; the test rebuilds the volume from IPP/IOP/PixelSpacing itself;
 *  - dcm2niix (Debian) converts the series to NIfTI, read back with @slice2solid/io;
 * and the comparison is made in WORLD coordinates (voxel centres within 0.01 mm, identical HU),
 * so a reader that reorders the voxels (dcm2niix flips rows) is still compared correctly.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyAffine,
  cross,
  dot,
  type Grid,
  ijkFromLpsMatrix,
  lpsFromIjk,
  lpsFromIjkMatrix,
  makeGrid,
  makeVolume,
  multiplyAffine,
  S2SError,
  type Vec3,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import { readNifti } from '@slice2solid/io';
import { makeCtHeadPhantom } from '@slice2solid/ops';
// dcmjs ships no TypeScript types
import dcmjs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import { loadDicomSeries } from '../src/load.js';
import { formatDecimalString, uidFromSeed, type WriteCtSeriesOptions, writeCtSeries } from '../src/write/ct-series.js';

// biome-ignore lint/suspicious/noExplicitAny: untyped library
const dcm = dcmjs as any;

interface Parsed {
  ds: Record<string, unknown> & {
    ImagePositionPatient: number[];
    ImageOrientationPatient: number[];
    PixelSpacing: number[];
    Rows: number;
    Columns: number;
    RescaleSlope: number;
    RescaleIntercept: number;
    InstanceNumber: number;
    PixelData: ArrayBuffer[];
  };
  transferSyntax: string;
}

function parseWithDcmjs(bytes: Uint8Array): Parsed {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const dict = dcm.data.DicomMessage.readFile(ab);
  const meta = dcm.data.DicomMetaDictionary.naturalizeDataset(dict.meta);
  return { ds: dcm.data.DicomMetaDictionary.naturalizeDataset(dict.dict), transferSyntax: meta.TransferSyntaxUID };
}

/** Rebuilds a volume from parsed files the textbook way: sort by IPP . (row x col). */
function assemble(files: Parsed[]): Volume {
  const first = files[0]!.ds;
  const iop = first.ImageOrientationPatient.map(Number);
  const row: Vec3 = [iop[0]!, iop[1]!, iop[2]!];
  const col: Vec3 = [iop[3]!, iop[4]!, iop[5]!];
  const normal = cross(row, col);
  const sorted = [...files].sort(
    (a, b) => dot(a.ds.ImagePositionPatient.map(Number), normal) - dot(b.ds.ImagePositionPatient.map(Number), normal),
  );
  const p0 = sorted[0]!.ds.ImagePositionPatient.map(Number) as unknown as Vec3;
  const pN = sorted[sorted.length - 1]!.ds.ImagePositionPatient.map(Number);
  const nz = sorted.length;
  const step = nz > 1 ? [0, 1, 2].map((r) => (pN[r]! - p0[r]!) / (nz - 1)) : normal;
  const sz = Math.hypot(...step);
  const [ps0, ps1] = first.PixelSpacing.map(Number) as [number, number];
  const grid = makeGrid({
    size: [first.Columns, first.Rows, nz],
    spacing: [ps1, ps0, sz], // PixelSpacing is [between rows, between columns]
    origin: p0,
    direction: [row, col, step.map((x) => x / sz)],
  });
  const data = new Int16Array(voxelCount(grid));
  const n2 = first.Columns * first.Rows;
  sorted.forEach((f, k) => {
    // every slice's position must be on the regular grid
    const want = lpsFromIjk(grid, [0, 0, k]);
    const got = f.ds.ImagePositionPatient.map(Number);
    expect(Math.hypot(got[0]! - want[0], got[1]! - want[1], got[2]! - want[2])).toBeLessThan(1e-3);
    const px = new Uint16Array(f.ds.PixelData[0]!);
    for (let p = 0; p < n2; p++) data[k * n2 + p] = px[p]! * Number(f.ds.RescaleSlope) + Number(f.ds.RescaleIntercept);
  });
  return makeVolume({ grid, data, units: 'HU' });
}

/**
 * Compares two volumes of the same object in world coordinates: every voxel centre of `got`
 * must coincide (within tolMm) with a voxel centre of `ref`, and hold the same value.
 */
function expectSameWorldImage(ref: Volume, got: Volume, tolMm = 0.01): void {
  expect(voxelCount(got.grid)).toBe(voxelCount(ref.grid));
  // index(got) -> index(ref)
  const t = multiplyAffine(ijkFromLpsMatrix(ref.grid), lpsFromIjkMatrix(got.grid));
  const [gx, gy, gz] = got.grid.size;
  const mRef = lpsFromIjkMatrix(ref.grid);
  const mGot = lpsFromIjkMatrix(got.grid);
  for (let c = 0; c < 8; c++) {
    const ijk = [c & 1 ? gx - 1 : 0, c & 2 ? gy - 1 : 0, c & 4 ? gz - 1 : 0];
    const r = applyAffine(t, ijk).map(Math.round);
    const a = applyAffine(mGot, ijk);
    const b = applyAffine(mRef, r);
    expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeLessThan(tolMm);
  }
  const [rx, ry] = ref.grid.size;
  let mismatches = 0;
  for (let k = 0; k < gz; k++)
    for (let j = 0; j < gy; j++)
      for (let i = 0; i < gx; i++) {
        const r = applyAffine(t, [i, j, k]).map(Math.round) as [number, number, number];
        const want = ref.data[(r[2] * ry + r[1]) * rx + r[0]];
        if (want !== got.data[(k * gy + j) * gx + i]) mismatches++;
      }
  expect(mismatches).toBe(0);
}

function rotation(a: number, b: number, c: number): [Vec3, Vec3, Vec3] {
  const rx = [
    [1, 0, 0],
    [0, Math.cos(a), -Math.sin(a)],
    [0, Math.sin(a), Math.cos(a)],
  ];
  const ry = [
    [Math.cos(b), 0, Math.sin(b)],
    [0, 1, 0],
    [-Math.sin(b), 0, Math.cos(b)],
  ];
  const rz = [
    [Math.cos(c), -Math.sin(c), 0],
    [Math.sin(c), Math.cos(c), 0],
    [0, 0, 1],
  ];
  const mul = (p: number[][], q: number[][]) =>
    p.map((row) => [0, 1, 2].map((cc) => row[0]! * q[0]![cc]! + row[1]! * q[1]![cc]! + row[2]! * q[2]![cc]!));
  const m = mul(mul(rx, ry), rz);
  return [0, 1, 2].map((cc) => [m[0]![cc]!, m[1]![cc]!, m[2]![cc]!] as Vec3) as [Vec3, Vec3, Vec3];
}

const CASES: [string, Grid, WriteCtSeriesOptions][] = [
  [
    'axial LPS, non-square, anisotropic pixels',
    makeGrid({ size: [40, 46, 24], spacing: [4.5, 4.1, 6], origin: [-88, -93, -70] }),
    {},
  ],
  [
    'descending instance order, shuffled names',
    makeGrid({ size: [40, 46, 24], spacing: [4.5, 4.1, 6], origin: [-88, -93, -70] }),
    { sliceOrder: 'descending', fileNames: 'shuffled' },
  ],
  [
    'left-handed (k towards inferior)',
    makeGrid({
      size: [36, 40, 22],
      spacing: [5, 5, 7],
      origin: [-87, -97, 72],
      direction: [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, -1],
      ],
    }),
    {},
  ],
  [
    'oblique, all three axes rotated',
    (() => {
      const d = rotation(0.35, -0.2, 0.5);
      const g = makeGrid({ size: [38, 42, 26], spacing: [4.8, 4.6, 6.5], direction: d });
      // centre the grid on the head
      const c = lpsFromIjk(g, [18.5, 20.5, 12.5]);
      return makeGrid({ ...g, origin: [g.origin[0] - c[0], g.origin[1] - c[1], g.origin[2] - c[2]] });
    })(),
    { fileNames: 'shuffled' },
  ],
  [
    'sagittal, left-handed, descending',
    makeGrid({
      size: [42, 38, 30],
      spacing: [5, 5.5, 5.2],
      origin: [78, -100, 100],
      direction: [
        [0, 1, 0],
        [0, 0, -1],
        [-1, 0, 0],
      ],
    }),
    { sliceOrder: 'descending' },
  ],
];

describe('writeCtSeries', () => {
  for (const [name, grid, options] of CASES) {
    it(`round-trips through dcmjs with identical voxels and voxel centres: ${name}`, () => {
      const volume = makeCtHeadPhantom({ grid, seed: 5 });
      const files = writeCtSeries(volume, { ...options, seed: name });
      expect(files).toHaveLength(grid.size[2]);
      expect(new Set(files.map((f) => f.name)).size).toBe(files.length);
      const parsed = files.map((f) => parseWithDcmjs(f.bytes));
      for (const p of parsed) {
        expect(p.transferSyntax).toBe('1.2.840.10008.1.2.1');
        expect(p.ds.SOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.2');
        expect(p.ds.Modality).toBe('CT');
        expect(p.ds.Rows).toBe(grid.size[1]);
        expect(p.ds.Columns).toBe(grid.size[0]);
      }
      // instance numbers follow position along the normal as requested
      const normal = cross(grid.direction[0], grid.direction[1]);
      const byInstance = [...parsed].sort((a, b) => a.ds.InstanceNumber - b.ds.InstanceNumber);
      const heights = byInstance.map((p) => dot(p.ds.ImagePositionPatient.map(Number), normal));
      for (let n = 1; n < heights.length; n++) {
        if ((options.sliceOrder ?? 'ascending') === 'ascending') expect(heights[n]!).toBeGreaterThan(heights[n - 1]!);
        else expect(heights[n]!).toBeLessThan(heights[n - 1]!);
      }
      // with 'instance' names, IM0001 is instance 1; shuffled names are not in instance order
      const inNameOrder = parsed.map((p) => p.ds.InstanceNumber);
      const sortedNumbers = [...inNameOrder].sort((a, b) => a - b);
      if (options.fileNames === 'shuffled') expect(inNameOrder).not.toEqual(sortedNumbers);
      else expect(inNameOrder).toEqual(sortedNumbers);
      expectSameWorldImage(volume, assemble(parsed));
    });
  }

  for (const [name, grid, options] of CASES) {
    it(`round-trips through our loadDicomSeries: ${name}`, async () => {
      const volume = makeCtHeadPhantom({ grid, seed: 6 });
      const files = writeCtSeries(volume, { ...options, seed: `load-${name}` });
      const { volume: back, report } = await loadDicomSeries(files);
      expect(report.geometry).toBe('exact');
      expect(report.units).toBe('HU');
      expect(report.warnings.map((w) => w.code)).toEqual([]);
      expectSameWorldImage(volume, back, 0.01);
    });
  }

  it('is deterministic and uses valid, distinct 2.25 UIDs', () => {
    const volume = makeCtHeadPhantom({ size: [16, 18, 6], spacing: [10, 10, 20] });
    const a = writeCtSeries(volume, { seed: 'x' });
    const b = writeCtSeries(volume, { seed: 'x' });
    const c = writeCtSeries(volume, { seed: 'y' });
    a.forEach((f, n) => {
      expect(Buffer.from(f.bytes).equals(Buffer.from(b[n]!.bytes))).toBe(true);
    });
    const uidsOf = (files: typeof a) =>
      files.map((f) => {
        const d = parseWithDcmjs(f.bytes).ds as Record<string, string>;
        return [d.SOPInstanceUID!, d.SeriesInstanceUID!, d.StudyInstanceUID!, d.FrameOfReferenceUID!];
      });
    const ua = uidsOf(a);
    const uc = uidsOf(c);
    const all = new Set<string>();
    for (const u of ua.flat()) {
      expect(u).toMatch(/^2\.25\.(0|[1-9][0-9]*)$/);
      expect(u.length).toBeLessThanOrEqual(64);
      all.add(u);
    }
    expect(all.size).toBe(a.length + 3); // one per instance + series, study, frame of reference
    expect(uc[0]![0]).not.toBe(ua[0]![0]);
    expect(uidFromSeed('a')).not.toBe(uidFromSeed('b'));
    expect(BigInt(uidFromSeed('a').slice(5)) < 2n ** 128n).toBe(true);
  });

  it('writes no identity: synthetic name/ID, empty dates, identity removed', () => {
    const volume = makeCtHeadPhantom({ size: [8, 8, 2], spacing: [20, 20, 20] });
    const [f] = writeCtSeries(volume);
    const d = parseWithDcmjs(f!.bytes).ds as Record<string, unknown>;
    expect(d.PatientName).toEqual([{ Alphabetic: 'Phantom^Head' }]);
    expect(d.PatientID).toBe('PHANTOM');
    expect(d.PatientIdentityRemoved).toBe('YES');
    for (const key of ['StudyDate', 'StudyTime', 'PatientBirthDate', 'AccessionNumber', 'ReferringPhysicianName']) {
      expect(d[key] === undefined || d[key] === '' || (Array.isArray(d[key]) && d[key].length === 0)).toBe(true);
    }
    const text = Buffer.from(f!.bytes).toString('latin1');
    expect(text).not.toMatch(/(19|20)\d\d[01]\d[0-3]\d/); // no DA-like dates anywhere
  });

  it('PixelSpacing is [between rows, between columns] and SliceThickness the plane distance', () => {
    const volume = makeCtHeadPhantom({ size: [10, 12, 3], spacing: [1.25, 2.5, 3.75] });
    const d = parseWithDcmjs(writeCtSeries(volume)[0]!.bytes).ds;
    expect(d.PixelSpacing.map(Number)).toEqual([2.5, 1.25]);
    expect(Number(d.SliceThickness)).toBe(3.75);
    expect(d.Rows).toBe(12);
    expect(d.Columns).toBe(10);
  });

  it.each([
    // value, allowed relative error
    [0.1 + 0.2, 1e-14],
    [-123.45678901234568, 1e-13],
    [1 / 3, 1e-14],
    [-0, 0],
    [1e-20, 1e-14],
    [-1.5e-7, 1e-14],
    [1.2345678901234568e16, 1e-10],
    [Math.SQRT1_2, 1e-14],
    [-Math.SQRT1_2, 1e-13],
  ])('formats decimal strings in at most 16 characters: %d', (x, rel) => {
    const s = formatDecimalString(x);
    expect(s.length).toBeLessThanOrEqual(16);
    expect(s).toMatch(/^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$/);
    expect(Math.abs(Number(s) - x)).toBeLessThanOrEqual(Math.abs(x) * rel);
  });

  it('rejects what DICOM CT cannot hold exactly', () => {
    const grid = makeGrid({ size: [4, 4, 2] });
    const v = (data: Int16Array | Float32Array, extra: object = {}) =>
      makeVolume({ grid, data, units: 'HU', ...extra });
    expect(() => writeCtSeries(v(new Int16Array(32), { frames: 1, components: 1 }))).not.toThrow();
    expect(() => writeCtSeries(makeVolume({ grid, data: new Int16Array(64), frames: 2, units: 'HU' }))).toThrow(
      /frame/,
    );
    expect(() => writeCtSeries(makeVolume({ grid, data: new Int16Array(96), components: 3, units: 'HU' }))).toThrow(
      /component/,
    );
    const low = new Int16Array(32).fill(-2000);
    expect(() => writeCtSeries(v(low))).toThrow(S2SError);
    expect(() => writeCtSeries(v(low), { rescaleIntercept: -2048 })).not.toThrow();
    const frac = new Float32Array(32).fill(0.25);
    expect(() => writeCtSeries(v(frac))).toThrow(/allowQuantization/);
    expect(() => writeCtSeries(v(frac), { rescaleSlope: 0.25 })).not.toThrow();
    expect(() => writeCtSeries(v(frac), { allowQuantization: true })).not.toThrow();
    const skew = makeGrid({
      size: [4, 4, 2],
      direction: [
        [1, 0, 0],
        [0.5, 0.866, 0],
        [0, 0, 1],
      ],
    });
    expect(() => writeCtSeries(makeVolume({ grid: skew, data: new Int16Array(32), units: 'HU' }))).toThrow(
      /perpendicular/,
    );
  });

  const HAVE_DCM2NIIX = spawnSync('dcm2niix', ['-v'], { encoding: 'utf8' }).error === undefined;
  const itDcm2niix = HAVE_DCM2NIIX ? it : it.skip;
  if (!HAVE_DCM2NIIX)
    console.warn('[write-ct-series] dcm2niix not installed: skipping the independent-converter check');
  for (const [name, grid, options] of CASES.filter((c) => !c[0].startsWith('oblique'))) {
    itDcm2niix(`dcm2niix sees the same world image: ${name}`, () => {
      const volume = makeCtHeadPhantom({ grid, seed: 9 });
      const files = writeCtSeries(volume, { ...options, seed: `n-${name}` });
      const dir = mkdtempSync(join(tmpdir(), 's2s-write-'));
      try {
        const inDir = join(dir, 'in');
        const outDir = join(dir, 'out');
        spawnSync('mkdir', ['-p', inDir, outDir]);
        for (const f of files) writeFileSync(join(inDir, f.name), f.bytes);
        const r = spawnSync('dcm2niix', ['-z', 'n', '-b', 'n', '-o', outDir, '-f', 'x', inDir], { encoding: 'utf8' });
        expect(r.status, r.stdout + r.stderr).toBe(0);
        const nii = readdirSync(outDir).filter((n) => n.endsWith('.nii'));
        expect(nii).toEqual(['x.nii']);
        const back = readNifti(new Uint8Array(readFileSync(join(outDir, 'x.nii'))));
        expectSameWorldImage(volume, back, 0.01);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
  // dcm2niix stores an oblique orthogonal grid exactly as well; it is kept separate because
  // the NIfTI sform is float32 (about 1e-5 mm error at 100 mm), still far inside 0.01 mm.
  itDcm2niix('dcm2niix sees the same world image: oblique', () => {
    const [, grid, options] = CASES.find((c) => c[0].startsWith('oblique'))!;
    const volume = makeCtHeadPhantom({ grid, seed: 9 });
    const files = writeCtSeries(volume, options);
    const dir = mkdtempSync(join(tmpdir(), 's2s-write-'));
    try {
      for (const f of files) writeFileSync(join(dir, f.name), f.bytes);
      const r = spawnSync('dcm2niix', ['-z', 'n', '-b', 'n', '-o', dir, '-f', 'x', dir], { encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expectSameWorldImage(volume, readNifti(new Uint8Array(readFileSync(join(dir, 'x.nii')))), 0.01);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
