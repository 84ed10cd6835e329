/**
 * Series layer on synthetic stacks: every pixel's stored value is a LINEAR function of its true
 * world position, so after loading, voxel (i, j, k) must hold F(lpsFromIjk(grid, ijk)). This
 * checks sorting, geometry and (because linear interpolation reproduces linear functions exactly)
 * also the tilt / uneven-spacing regularization, without any hard-coded expected volume.
 */
import {
  cross,
  directionSkew,
  dot,
  isLeftHanded,
  lpsFromIjk,
  normalize,
  S2SError,
  type Vec3,
  type Volume,
} from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { type LoadDicomOptions, loadDicomSeries } from '../src/load.js';
import { listSeries } from '../src/series/group.js';
import type { DicomFile, FrameInfo } from '../src/types.js';

/** Linear "phantom": value at LPS position p. */
const F = (p: readonly number[]) => 0.5 * p[0]! - 0.25 * p[1]! + 2 * p[2]! + 100;

interface SliceSpec {
  position: Vec3;
  row?: Vec3;
  col?: Vec3;
  spacing?: [number, number];
  instance?: number;
  acquisition?: number;
  echo?: number;
  uid?: string;
  seriesNumber?: number;
  imageType?: string;
  modality?: string;
  columns?: number;
  rows?: number;
  slope?: number;
  intercept?: number;
  /** Added to the phantom value (to tell repeated volumes apart). */
  offset?: number;
  /** Store rounded integers (as an integer DICOM would), not the exact value. */
  integer?: boolean;
}

let sop = 0;
/** A classic single-frame file whose pixel (i, j) stores (F(world) + offset - intercept) / slope. */
function classic(s: SliceSpec): DicomFile {
  const columns = s.columns ?? 6;
  const rows = s.rows ?? 5;
  const row = s.row ?? [1, 0, 0];
  const col = s.col ?? [0, 1, 0];
  const [si, sj] = s.spacing ?? [0.8, 1.1];
  const slope = s.slope ?? 0.5;
  const intercept = s.intercept ?? 0;
  const data = new Float64Array(columns * rows);
  for (let j = 0; j < rows; j++)
    for (let i = 0; i < columns; i++) {
      const p = [0, 1, 2].map((a) => s.position[a]! + row[a]! * si * i + col[a]! * sj * j);
      const v = (F(p) + (s.offset ?? 0) - intercept) / slope;
      data[j * columns + i] = s.integer ? Math.round(v) : v;
    }
  const frame: FrameInfo = {
    frameIndex: 0,
    position: s.position,
    orientation: [row, col],
    pixelSpacing: [si, sj],
    sliceThickness: 1,
    rescaleSlope: slope,
    rescaleIntercept: intercept,
  };
  const n = ++sop;
  return {
    name: `f${n}.dcm`,
    transferSyntaxUID: '1.2.840.10008.1.2.1',
    sopInstanceUID: `1.2.3.${n}`,
    seriesInstanceUID: s.uid ?? '1.2.99',
    seriesNumber: s.seriesNumber ?? 1,
    modality: s.modality ?? 'MR',
    rows,
    columns,
    samplesPerPixel: 1,
    bitsAllocated: 16,
    bitsStored: 16,
    highBit: 15,
    pixelRepresentation: 1,
    photometricInterpretation: 'MONOCHROME2',
    planarConfiguration: 0,
    numberOfFrames: 1,
    frames: [frame],
    lossyCompression: false,
    ...(s.instance !== undefined ? { instanceNumber: s.instance } : {}),
    ...(s.acquisition !== undefined ? { acquisitionNumber: s.acquisition } : {}),
    ...(s.echo !== undefined ? { echoNumber: s.echo } : {}),
    ...(s.imageType !== undefined ? { imageType: s.imageType } : {}),
    decodeFrame: () => ({ data: s.integer ? Int16Array.from(data) : Float32Array.from(data), samples: 1 }),
  };
}

const add = (a: Vec3, b: Vec3, s = 1): Vec3 => [a[0] + b[0] * s, a[1] + b[1] * s, a[2] + b[2] * s];

/** Largest |voxel - F(world)| over voxels that are not the fill value. */
function phantomError(v: Volume, offsets: number[] = [0]): { max: number; checked: number } {
  const [nx, ny, nz] = v.grid.size;
  let max = 0;
  let checked = 0;
  let fill = Infinity;
  for (let n = 0; n < v.data.length; n++) fill = Math.min(fill, v.data[n]!);
  for (let t = 0; t < v.frames; t++)
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const val = v.data[((t * nz + k) * ny + j) * nx + i]!;
          if (val === fill && v.meta?.geometry === 'regularized') continue;
          max = Math.max(max, Math.abs(val - F(lpsFromIjk(v.grid, [i, j, k])) - (offsets[t] ?? 0)));
          checked++;
        }
  return { max, checked };
}

function shuffle<T>(a: T[], seed = 7): T[] {
  const out = [...a];
  let s = seed;
  for (let n = out.length - 1; n > 0; n--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const m = s % (n + 1);
    [out[n], out[m]] = [out[m]!, out[n]!];
  }
  return out;
}

const load = (files: DicomFile[], o: LoadDicomOptions = {}) => loadDicomSeries(files, o);

describe('slice sorting and geometry', () => {
  const rotations: [string, Vec3, Vec3][] = [
    ['axial', [1, 0, 0], [0, 1, 0]],
    ['coronal', [1, 0, 0], [0, 0, -1]],
    ['sagittal', [0, 1, 0], [0, 0, -1]],
    ['oblique', normalize([0.9, 0.3, 0.1]), normalize(cross(normalize([0.2, -0.3, 0.93]), normalize([0.9, 0.3, 0.1])))],
  ];
  for (const [name, row, col] of rotations) {
    it(`${name}: shuffled files with misleading InstanceNumbers are sorted by position`, async () => {
      const n = cross(row, col);
      const files = shuffle(
        Array.from({ length: 9 }, (_, k) =>
          classic({ position: add([10, -20, 30], n, 2.5 * k), row, col, instance: 100 - ((k * 4) % 9) }),
        ),
      );
      const { volume, report } = await load(files);
      expect(volume.grid.size).toEqual([6, 5, 9]);
      expect(volume.grid.spacing[2]).toBeCloseTo(2.5, 9);
      expect(report.geometry).toBe('exact');
      expect(report.warnings).toEqual([]);
      expect(dot(volume.grid.direction[2], n)).toBeCloseTo(1, 9);
      const e = phantomError(volume);
      expect(e.checked).toBe(6 * 5 * 9);
      expect(e.max).toBeLessThan(1e-3);
    });
  }

  it('PixelSpacing order: i uses the column spacing, j the row spacing (anisotropic)', async () => {
    const files = Array.from({ length: 3 }, (_, k) => classic({ position: [0, 0, k], spacing: [0.5, 2] }));
    const { volume } = await load(files);
    expect(volume.grid.spacing[0]).toBe(0.5);
    expect(volume.grid.spacing[1]).toBe(2);
    expect(phantomError(volume).max).toBeLessThan(1e-3);
  });

  it('4D: repeated positions become volumes in acquisition order, never instance order across positions', async () => {
    const files: DicomFile[] = [];
    const offsets = [0, 1000, 2000, 3000];
    for (let t = 0; t < 4; t++)
      for (let k = 0; k < 5; k++)
        files.push(
          classic({ position: [0, 0, 3 * k], acquisition: t + 1, instance: 50 - k * 4 - t, offset: offsets[t]! }),
        );
    const { volume, report } = await load(shuffle(files, 3));
    expect([...volume.grid.size, volume.frames]).toEqual([6, 5, 5, 4]);
    expect(report.frames).toBe(4);
    expect(phantomError(volume, offsets).max).toBeLessThan(1e-3);
  });

  it('incomplete 4D (a missing image) is an INCONSISTENT_SERIES error, not a silent wrong volume', async () => {
    const files: DicomFile[] = [];
    for (let t = 0; t < 2; t++)
      for (let k = 0; k < 4; k++) files.push(classic({ position: [0, 0, k], acquisition: 1, instance: t * 4 + k }));
    files.pop();
    await expect(load(files)).rejects.toMatchObject({ code: 'INCONSISTENT_SERIES' });
  });

  it('two acquisitions of different ranges in one series are split by acquisition number', async () => {
    const a = Array.from({ length: 4 }, (_, k) => classic({ position: [0, 0, k], acquisition: 1 }));
    const b = Array.from({ length: 6 }, (_, k) => classic({ position: [0, 0, 2 + k], acquisition: 2 }));
    const s = listSeries([...a, ...b]);
    expect(s.map((x) => x.size[2]).sort()).toEqual([4, 6]);
    expect(s.every((x) => x.split?.includes('acquisition'))).toBe(true);
    const { volume, report } = await load([...a, ...b]);
    expect(volume.grid.size[2]).toBe(6);
    expect(report.warnings.map((w) => w.code)).toContain('MULTIPLE_SERIES');
  });

  it('a single slice loads with SliceThickness as its depth and a warning', async () => {
    const { volume, report } = await load([classic({ position: [1, 2, 3] })]);
    expect(volume.grid.size).toEqual([6, 5, 1]);
    expect(report.warnings.map((w) => w.code)).toContain('SINGLE_SLICE');
  });

  it('duplicate copies of the same image are ignored and reported', async () => {
    const files = Array.from({ length: 3 }, (_, k) => classic({ position: [0, 0, k] }));
    const { volume, report } = await load([...files, files[1]!]);
    expect(volume.grid.size[2]).toBe(3);
    expect(report.warnings.map((w) => w.code)).toContain('DUPLICATE_IMAGES');
  });
});

describe('tilt, uneven spacing and missing slices', () => {
  // gantry tilt: slices step along z while the image plane is tilted about the x axis
  const tilt = (18.5 * Math.PI) / 180;
  const row: Vec3 = [1, 0, 0];
  const col: Vec3 = [0, Math.cos(tilt), -Math.sin(tilt)];
  const tilted = (zs: number[]) => zs.map((z) => classic({ position: [-2, -3, z], row, col, columns: 7, rows: 9 }));

  it('detects the tilt angle; default regularizes onto an orthogonal grid that still maps every voxel to its true value', async () => {
    const { volume, report } = await load(tilted([0, 4, 8, 12, 16, 20]));
    expect(report.tiltDegrees).toBeCloseTo(18.5, 6);
    expect(report.warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['GANTRY_TILT', 'RESAMPLED']));
    expect(report.geometry).toBe('regularized');
    expect(directionSkew(volume.grid)).toBeLessThan(1e-9);
    // equidistant along the normal: 4 mm * cos(tilt)
    expect(volume.grid.spacing[2]).toBeCloseTo(4 * Math.cos(tilt), 9);
    expect(volume.grid.size[2]).toBe(6);
    // the in-plane lattice is extended to hold the sideways shift of the slices
    const shift = (20 * Math.sin(tilt)) / 1.1;
    expect(volume.grid.size[1]).toBe(9 + Math.ceil(shift - 1e-6));
    const e = phantomError(volume);
    expect(e.checked).toBeGreaterThan(7 * 9 * 6 * 0.8);
    expect(e.max).toBeLessThan(1e-3);
  });

  it("geometry 'raw' keeps the stored pixels on the exact sheared grid", async () => {
    const { volume, report } = await load(tilted([0, 4, 8, 12]), { geometry: 'raw' });
    expect(report.geometry).toBe('raw');
    expect(volume.grid.size).toEqual([7, 9, 4]);
    expect(dot(volume.grid.direction[2], [0, 0, 1])).toBeCloseTo(1, 9);
    expect(volume.grid.spacing[2]).toBeCloseTo(4, 9);
    expect(directionSkew(volume.grid)).toBeCloseTo(Math.sin(tilt), 6);
    expect(phantomError(volume).max).toBeLessThan(1e-3);
  });

  it('uneven spacing: reported with the gaps seen, regularized to equidistant slices (dcm2niix rule)', async () => {
    const zs = [0, 2, 4, 6, 7, 8, 12, 16];
    const files = zs.map((z) => classic({ position: [0, 0, z] }));
    const { volume, report } = await load(files);
    const codes = report.warnings.map((w) => w.code);
    expect(codes).toContain('UNEVEN_SPACING');
    expect(report.sliceGaps).toEqual(expect.arrayContaining([1, 2, 4]));
    // smallest gap 1 mm would give 17 slices; capped at 2 x 8 = 16 -> 16 mm / 15
    expect(volume.grid.size[2]).toBe(16);
    expect(volume.grid.spacing[2]).toBeCloseTo(16 / 15, 9);
    expect(phantomError(volume).max).toBeLessThan(1e-3);
    const raw = await load(files, { geometry: 'raw' });
    expect(raw.volume.grid.size[2]).toBe(8);
    expect(raw.report.warnings.map((w) => w.code)).toContain('UNEVEN_SPACING');
  });

  it('missing slices are detected and counted; the gap is filled by interpolation', async () => {
    const zs = [0, 1.5, 3, 6, 7.5, 9, 13.5];
    const { volume, report } = await load(zs.map((z) => classic({ position: [5, 5, z] })));
    const w = report.warnings.find((x) => x.code === 'MISSING_SLICES');
    expect(w?.message).toMatch(/about 3 slice/);
    expect(volume.grid.size[2]).toBe(10);
    expect(volume.grid.spacing[2]).toBeCloseTo(1.5, 9);
    expect(phantomError(volume).max).toBeLessThan(1e-3);
  });

  it('sub-tolerance jitter in positions is not reported as uneven', async () => {
    const zs = [0, 1.002, 1.998, 3.001, 4];
    const { report } = await load(
      zs.map((z) => classic({ position: [0, 0, z] })),
      { spacingToleranceMm: 0.01 },
    );
    expect(report.geometry).toBe('exact');
    expect(report.warnings).toEqual([]);
  });
});

describe('grouping and series choice', () => {
  it('splits one UID by orientation, size and echo, and lists summaries without patient identifiers', () => {
    const ax = Array.from({ length: 4 }, (_, k) => classic({ position: [0, 0, k] }));
    const cor = Array.from({ length: 3 }, (_, k) => classic({ position: [0, k, 0], row: [1, 0, 0], col: [0, 0, -1] }));
    const e2 = Array.from({ length: 4 }, (_, k) => classic({ position: [0, 0, k], echo: 2 }));
    const big = Array.from({ length: 2 }, (_, k) => classic({ position: [0, 0, k], columns: 8 }));
    const list = listSeries([...ax, ...cor, ...e2, ...big]);
    expect(list.length).toBe(4);
    expect(new Set(list.map((s) => s.id)).size).toBe(4);
    expect(list.map((s) => s.orientation).sort()).toEqual(['LIP', 'LPS', 'LPS', 'LPS']);
    const text = JSON.stringify(list);
    expect(text).not.toMatch(/patient|birth/i);
  });

  it('one UID with two image sizes: split, the larger stack loaded, MIXED_SIZES reported', async () => {
    const small = Array.from({ length: 5 }, (_, k) => classic({ position: [0, 0, k] }));
    const big = Array.from({ length: 2 }, (_, k) => classic({ position: [0, 0, k], columns: 8 }));
    const { volume, report } = await load([...big, ...small]);
    expect(volume.grid.size).toEqual([6, 5, 5]);
    expect(report.warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['MIXED_SIZES', 'MULTIPLE_SERIES']));
  });

  it('prefers a 3D original series over a localizer and a derived series; report says why', async () => {
    const loc = Array.from({ length: 3 }, (_, k) =>
      classic({
        uid: '9.1',
        seriesNumber: 1,
        position: [0, k * 10, 0],
        row: [1, 0, 0],
        col: [0, 0, -1],
        imageType: 'ORIGINAL\\PRIMARY\\LOCALIZER',
      }),
    );
    const main = Array.from({ length: 5 }, (_, k) =>
      classic({ uid: '9.2', seriesNumber: 2, position: [0, 0, k], imageType: 'ORIGINAL\\PRIMARY\\AXIAL' }),
    );
    const derived = Array.from({ length: 8 }, (_, k) =>
      classic({ uid: '9.3', seriesNumber: 3, position: [0, 0, k], imageType: 'DERIVED\\SECONDARY\\MPR' }),
    );
    const { report, series } = await load([...loc, ...derived, ...main]);
    expect(series.length).toBe(3);
    expect(report.series.uid).toBe('9.2');
    expect(report.reason).toMatch(/automatically/);
    expect((await load([...loc, ...derived, ...main], { series: 3 })).report.series.uid).toBe('9.3');
    expect((await load([...loc, ...derived, ...main], { series: '9.1' })).report.series.uid).toBe('9.1');
    await expect(load(main, { series: 42 })).rejects.toMatchObject({ code: 'SERIES_NOT_FOUND' });
  });

  it('prefers CT/MR images over SEG objects', async () => {
    const seg = Array.from({ length: 9 }, (_, k) => classic({ uid: '8.1', modality: 'SEG', position: [0, 0, k] }));
    const ct = Array.from({ length: 4 }, (_, k) => classic({ uid: '8.2', modality: 'CT', position: [0, 0, k] }));
    const { report } = await load([...seg, ...ct]);
    expect(report.series.uid).toBe('8.2');
  });
});

describe('rescale and units', () => {
  it('integer rescale that fits -> Int16 with HU for CT', async () => {
    const files = Array.from({ length: 3 }, (_, k) =>
      classic({ position: [0, 0, k], modality: 'CT', slope: 1, intercept: -1024, integer: true }),
    );
    const { volume, report } = await load(files);
    expect(volume.data).toBeInstanceOf(Int16Array);
    expect(report.units).toBe('HU');
    expect(volume.units).toBe('HU');
    // F is not integral everywhere; Int16 rounding stays within 0.5
    expect(phantomError(volume).max).toBeLessThanOrEqual(0.5 + 1e-9);
  });

  it('per-frame rescale (different slopes per slice) is applied per image -> Float32', async () => {
    const files = Array.from({ length: 4 }, (_, k) =>
      classic({ position: [0, 0, k], slope: 0.25 + k * 0.1, intercept: k }),
    );
    const { volume, report } = await load(files);
    expect(volume.data).toBeInstanceOf(Float32Array);
    expect(report.rescale).toBe('per-frame');
    expect(phantomError(volume).max).toBeLessThan(1e-3);
  });
});

describe('Siemens mosaic (synthetic)', () => {
  /** A 2x2-tile mosaic of 3 slices; IPP refers to the whole mosaic image as the scanner writes it. */
  function mosaic(normalSign: 1 | -1): DicomFile {
    const tc = 4;
    const tr = 3;
    const per = 2;
    const row: Vec3 = [1, 0, 0];
    const col: Vec3 = [0, 1, 0];
    const [si, sj] = [2, 3];
    const n: Vec3 = [0, 0, normalSign];
    const first: Vec3 = [10, 20, 30];
    const ipp = add(add(first, row, (-(tc * per - tc) / 2) * si), col, (-(tr * per - tr) / 2) * sj);
    const data = new Float32Array(tc * per * tr * per);
    for (let t = 0; t < 3; t++) {
      const origin = add(first, n, 5 * t);
      for (let j = 0; j < tr; j++)
        for (let i = 0; i < tc; i++) {
          const p = add(add(origin, row, si * i), col, sj * j);
          data[((t >> 1) * tr + j) * tc * per + (t & 1) * tc + i] = F(p);
        }
    }
    const base = classic({ position: ipp, row, col, spacing: [si, sj], columns: tc * per, rows: tr * per, slope: 1 });
    return {
      ...base,
      imageType: 'ORIGINAL\\PRIMARY\\M\\MOSAIC',
      mosaicSlices: 3,
      mosaicNormal: n,
      spacingBetweenSlices: 5,
      decodeFrame: () => ({ data, samples: 1 }),
    };
  }

  it('unpacks tiles, corrects the mosaic position to the first slice, ascending normal', async () => {
    const { volume } = await load([mosaic(1)]);
    expect(volume.grid.size).toEqual([4, 3, 3]);
    expect(volume.grid.origin).toEqual([10, 20, 30]);
    expect(isLeftHanded(volume.grid)).toBe(false);
    expect(phantomError(volume).max).toBeLessThan(1e-3);
  });

  it('a descending CSA normal gives a left-handed stack that stays left-handed (no silent flip)', async () => {
    const { volume, report } = await load([mosaic(-1)]);
    expect(isLeftHanded(volume.grid)).toBe(true);
    expect(report.leftHanded).toBe(true);
    expect(volume.grid.direction[2]).toEqual([0, 0, -1]);
    expect(phantomError(volume).max).toBeLessThan(1e-3);
  });
});

describe('enhanced multi-frame (synthetic)', () => {
  it('assembles slices and temporal positions from per-frame groups, frames given out of order', async () => {
    const slices = Array.from({ length: 12 }, (_, n) => {
      const k = (n * 5) % 6;
      const t = 1 - Math.floor(n / 6);
      return { k, t, file: classic({ position: [0, 0, 2 * k], offset: t * 500 }) };
    });
    const frames: FrameInfo[] = slices.map((s, f) => ({
      ...s.file.frames[0]!,
      frameIndex: f,
      temporalPosition: s.t + 1,
    }));
    const base = slices[0]!.file;
    const enhanced: DicomFile = {
      ...base,
      numberOfFrames: 12,
      frames,
      decodeFrame: (f: number) => slices[f]!.file.decodeFrame(0),
    };
    const { volume } = await load([enhanced]);
    expect([...volume.grid.size, volume.frames]).toEqual([6, 5, 6, 2]);
    expect(phantomError(volume, [0, 500]).max).toBeLessThan(1e-3);
  });
});

describe('run options and errors', () => {
  it('reports progress and honours an aborted signal', async () => {
    const files = Array.from({ length: 4 }, (_, k) => classic({ position: [0, 0, k] }));
    const stages = new Set<string>();
    await load(files, { onProgress: (p) => stages.add(p.stage) } as LoadDicomOptions);
    expect(stages.has('assemble')).toBe(true);
    const ac = new AbortController();
    ac.abort();
    await expect(loadDicomSeries(files, { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('no DICOM at all -> NO_SERIES with a hint, not a crash', async () => {
    const err = await loadDicomSeries([{ name: 'notes.txt', bytes: new TextEncoder().encode('hello') }]).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(S2SError);
    expect(err.code).toBe('NO_SERIES');
    expect(err.hint).toBeTruthy();
  });

  it('rejects an unknown geometry option', async () => {
    const files = Array.from({ length: 2 }, (_, k) => classic({ position: [0, 0, k] }));
    await expect(load(files, { geometry: 'banana' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
