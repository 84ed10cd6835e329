/**
 * Turns parsed files into 2D `SliceImage`s with resolved geometry: one per frame, or one per tile
 * of a Siemens mosaic (whose ImagePositionPatient describes the whole mosaic, not a slice).
 */
import { cross, dot, normalize, S2SError, type Vec3 } from '@slice2solid/core';
import type { DicomFile, FrameInfo } from '../types.js';
import type { SliceImage } from './types.js';

/** Optional facts a parser may add beyond the `DicomFile` contract (used when present). */
interface OptionalExtras {
  /** Measurement units of the stored values (e.g. 'Hz' from a Real World Value Mapping). */
  readonly units?: string;
}

function extras(x: unknown): OptionalExtras {
  return (x ?? {}) as OptionalExtras;
}

/** Siemens mosaic layout: tiles per side and tile size. */
export interface MosaicLayout {
  readonly slices: number;
  readonly perSide: number;
  readonly tileColumns: number;
  readonly tileRows: number;
}

export function mosaicLayout(file: DicomFile): MosaicLayout | undefined {
  const n = file.mosaicSlices;
  if (n === undefined || !(n > 1) || file.numberOfFrames > 1) return undefined;
  const perSide = Math.ceil(Math.sqrt(n));
  if (file.columns % perSide !== 0 || file.rows % perSide !== 0) {
    throw new S2SError(
      'INCONSISTENT_SERIES',
      `Siemens mosaic with ${n} slices cannot be tiled: ${file.columns}x${file.rows} is not a multiple of ${perSide} tiles per side`,
      {
        hint: 'the mosaic header (NumberOfImagesInMosaic) does not match the image size; the file may be damaged',
        file: file.name,
      },
    );
  }
  return { slices: n, perSide, tileColumns: file.columns / perSide, tileRows: file.rows / perSide };
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** All 2D images of the given files, in input order. */
export function expandFiles(files: readonly DicomFile[]): SliceImage[] {
  const out: SliceImage[] = [];
  files.forEach((file, fileOrder) => {
    const mosaic = mosaicLayout(file);
    const nFrames = Math.max(1, file.numberOfFrames);
    for (let f = 0; f < nFrames; f++) {
      const frame: FrameInfo = file.frames[f] ?? {
        frameIndex: f,
        rescaleSlope: 1,
        rescaleIntercept: 0,
      };
      if (mosaic) out.push(...mosaicTiles(file, fileOrder, frame, f, mosaic));
      else out.push(frameImage(file, fileOrder, frame, f));
    }
  });
  return out;
}

function baseImage(file: DicomFile, fileOrder: number, frame: FrameInfo, frameIndex: number) {
  const orientation = frame.orientation;
  const hasGeometry = orientation !== undefined && frame.position !== undefined;
  let rowDir: Vec3 = [1, 0, 0];
  let colDir: Vec3 = [0, 1, 0];
  if (orientation) {
    rowDir = normalize(orientation[0]);
    colDir = normalize(orientation[1]);
    const n = cross(rowDir, colDir);
    if (!(Math.hypot(...n) > 0.5) || !Number.isFinite(n[0])) {
      throw new S2SError(
        'MISSING_GEOMETRY',
        'ImageOrientationPatient is degenerate (row and column directions are parallel or zero)',
        {
          hint: 'the file has a broken orientation; it cannot be placed in 3D',
          file: file.name,
        },
      );
    }
  }
  const spacing = frame.pixelSpacing;
  const pixelSpacing: readonly [number, number] =
    spacing && spacing[0] > 0 && spacing[1] > 0 && Number.isFinite(spacing[0]) && Number.isFinite(spacing[1])
      ? spacing
      : [1, 1];
  const slope = isNum(frame.rescaleSlope) && frame.rescaleSlope !== 0 ? frame.rescaleSlope : 1;
  const intercept = isNum(frame.rescaleIntercept) ? frame.rescaleIntercept : 0;
  const units = extras(frame).units ?? extras(file).units;
  const img = {
    file,
    fileOrder,
    frame,
    frameIndex,
    samples: Math.max(1, file.samplesPerPixel),
    rowDir,
    colDir,
    pixelSpacing,
    slope,
    intercept,
    hasGeometry: hasGeometry && spacing !== undefined,
    ...opt('echo', frame.echoNumber ?? file.echoNumber),
    ...opt('acquisition', frame.acquisitionNumber ?? file.acquisitionNumber),
    ...opt('temporal', frame.temporalPosition),
    ...opt('instance', file.instanceNumber),
    ...opt('imageType', frame.imageType ?? file.imageType),
    ...opt('units', units),
  };
  return img;
}

function opt<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined || v === null ? {} : { [key]: v }) as { [P in K]?: V };
}

function frameImage(file: DicomFile, fileOrder: number, frame: FrameInfo, frameIndex: number): SliceImage {
  const b = baseImage(file, fileOrder, frame, frameIndex);
  return {
    ...b,
    tile: -1,
    columns: file.columns,
    rows: file.rows,
    position: frame.position ?? [0, 0, frameIndex * (frame.sliceThickness ?? 1)],
    normal: cross(b.rowDir, b.colDir),
  };
}

/**
 * The tiles of one mosaic frame as slices. The mosaic's ImagePositionPatient is the centre of the
 * first pixel of the WHOLE mosaic; the first tile's first pixel lies half the mosaic/tile size
 * difference further along the row and column directions (as in dcm2niix and nibabel). Slices
 * are stacked along the CSA SliceNormalVector (which says whether the order is descending).
 */
function mosaicTiles(
  file: DicomFile,
  fileOrder: number,
  frame: FrameInfo,
  frameIndex: number,
  m: MosaicLayout,
): SliceImage[] {
  const b = baseImage(file, fileOrder, frame, frameIndex);
  const [si, sj] = b.pixelSpacing;
  const ipp = frame.position ?? [0, 0, 0];
  const du = ((file.columns - m.tileColumns) / 2) * si;
  const dv = ((file.rows - m.tileRows) / 2) * sj;
  const first: Vec3 = [
    ipp[0] + b.rowDir[0] * du + b.colDir[0] * dv,
    ipp[1] + b.rowDir[1] * du + b.colDir[1] * dv,
    ipp[2] + b.rowDir[2] * du + b.colDir[2] * dv,
  ];
  const rc = cross(b.rowDir, b.colDir);
  let normal: Vec3 = rc;
  if (file.mosaicNormal && Math.hypot(...file.mosaicNormal) > 0.5) {
    const csa = normalize(file.mosaicNormal);
    // the CSA normal is the true slice direction; it may only differ in sign (descending) or by rounding
    if (Math.abs(dot(csa, rc)) > 0.99) normal = csa;
  }
  const spacing = file.spacingBetweenSlices ?? frame.sliceThickness;
  const step = spacing !== undefined && spacing > 0 ? spacing : 1;
  const tiles: SliceImage[] = [];
  for (let t = 0; t < m.slices; t++) {
    tiles.push({
      ...b,
      tile: t,
      columns: m.tileColumns,
      rows: m.tileRows,
      position: [first[0] + normal[0] * step * t, first[1] + normal[1] * step * t, first[2] + normal[2] * step * t],
      normal,
    });
  }
  return tiles;
}

/** Whether mosaic slice spacing had to be assumed from SliceThickness (SpacingBetweenSlices missing). */
export function mosaicSpacingAssumed(file: DicomFile): boolean {
  return file.mosaicSlices !== undefined && file.mosaicSlices > 1 && file.spacingBetweenSlices === undefined;
}

/** Reads one tile (or the whole image when tile < 0) out of a decoded frame. */
export function extractTile(
  data: ArrayLike<number>,
  file: DicomFile,
  samples: number,
  tile: number,
  m: MosaicLayout | undefined,
): ArrayLike<number> {
  if (tile < 0 || !m) return data;
  const tc = m.tileColumns;
  const tr = m.tileRows;
  const x0 = (tile % m.perSide) * tc;
  const y0 = Math.floor(tile / m.perSide) * tr;
  const out = new Float64Array(tc * tr * samples);
  const rowLen = file.columns * samples;
  for (let j = 0; j < tr; j++) {
    const src = (y0 + j) * rowLen + x0 * samples;
    const dst = j * tc * samples;
    for (let n = 0; n < tc * samples; n++) out[dst + n] = data[src + n]!;
  }
  return out;
}
