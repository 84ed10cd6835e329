/**
 * PNG / TIFF slice stacks -> Volume.
 *
 * These files carry no patient geometry, so the caller must give the voxel spacing (or accept 1 mm
 * explicitly). The default grid, documented and warned about on the result:
 *   i (image column, left -> right)  -> +x = patient Left  (L)
 *   j (image row, row 0 = TOP)       -> +y = Posterior     (P)
 *   k (slice: first file / page = 0) -> +z = Superior      (S)
 * origin (0, 0, 0) = centre of the top-left pixel of the first slice. This is the DICOM display
 * convention of an axial slice (IOP 1\0\0\0\1\0: anterior at the top, patient left on the right),
 * so a stack of exported axial screenshots lands the usual way round; it is still an ASSUMPTION and
 * every result carries a warning unless `direction` is given.
 *
 * Files are ordered by natural file-name order (slice_2 < slice_10); a multi-page TIFF contributes
 * its pages in order. PNG: fast-png (1..16-bit grey, grey+alpha, RGB, RGBA, palette). TIFF: utif2
 * (uncompressed, LZW, deflate, PackBits; predictor 2; 8/16/32-bit integer and 32-bit float;
 * multi-page). Alpha is dropped. Colour: see `ImageStackOptions.color`.
 */
import {
  allocateVoxels,
  makeGrid,
  makeVolume,
  type RunOptions,
  S2SError,
  throwIfAborted,
  type Vec3,
  type Volume,
  type VoxelArray,
  type VoxelType,
} from '@slice2solid/core';
import { decode as decodePng, hasPngSignature } from 'fast-png';
import UTIF from 'utif2';
import { HOST_LITTLE_ENDIAN, swapBytes } from './common/binary.js';
import { withWarnings } from './common/meta.js';
import { checkTiffStructure } from './common/tiff-check.js';

export interface NamedBytes {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface ImageStackOptions extends RunOptions {
  /** Voxel spacing in mm: [between columns (i), between rows (j), between slices (k)]. */
  spacing?: readonly [number, number, number];
  /** Use 1 mm x 1 mm x 1 mm when `spacing` is not given (explicit opt-in; a warning is added). */
  acceptDefaultSpacing?: boolean;
  /** LPS position (mm) of the centre of the first pixel of the first slice. Default 0, 0, 0. */
  origin?: readonly [number, number, number];
  /** LPS unit vectors of i, j, k. Default [[1,0,0],[0,1,0],[0,0,1]] (i -> L, j -> P, k -> S). */
  direction?: readonly [Vec3, Vec3, Vec3];
  /**
   * Colour images: 'auto' (default) keeps 3 components (R, G, B) unless every pixel of every slice
   * has R = G = B, in which case the (identical) grey value is kept as 1 component, losslessly;
   * 'rgb' always keeps 3 components; 'luma' converts to grey with Rec. 601 weights
   * 0.299 R + 0.587 G + 0.114 B (float32).
   */
  color?: 'auto' | 'rgb' | 'luma';
  /** 'natural' (default): sort by natural file-name order; 'none': keep the given order. */
  order?: 'natural' | 'none';
}

export const IMAGE_STACK_DEFAULTS = {
  acceptDefaultSpacing: false,
  origin: [0, 0, 0] as readonly [number, number, number],
  color: 'auto',
  order: 'natural',
} as const satisfies Partial<ImageStackOptions>;

/** Natural order: digit runs compare as numbers ("slice_2" < "slice_10"); ties fall back to code points. */
export function naturalCompare(a: string, b: string): number {
  const ta = a.match(/\d+|\D+/g) ?? [];
  const tb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i]!;
    const y = tb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = x.replace(/^0+(?=\d)/, '');
      const ny = y.replace(/^0+(?=\d)/, '');
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      continue; // same number, different zero padding: decided below
    }
    const lx = x.toLowerCase();
    const ly = y.toLowerCase();
    if (lx !== ly) return lx < ly ? -1 : 1;
  }
  if (ta.length !== tb.length) return ta.length - tb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One decoded 2D image. */
interface Slice {
  name: string;
  width: number;
  height: number;
  /** 1 (grey) or 3 (RGB), after dropping alpha / expanding palettes. */
  channels: number;
  type: VoxelType;
  data: VoxelArray;
}

function decodeFailed(name: string, what: string, cause?: unknown): S2SError {
  return new S2SError('DECODE_FAILED', `cannot decode the image: ${what}`, {
    hint: 'the file is corrupt or uses a variant that is not supported; re-export it as an uncompressed or deflate PNG/TIFF',
    file: name,
    cause,
  });
}

export function isTiff(head: Uint8Array): boolean {
  return (
    head.length >= 4 &&
    ((head[0] === 0x49 && head[1] === 0x49 && head[2] === 42 && head[3] === 0) ||
      (head[0] === 0x4d && head[1] === 0x4d && head[2] === 0 && head[3] === 42))
  );
}

export function isPng(head: Uint8Array): boolean {
  return head.length >= 8 && hasPngSignature(head.subarray(0, 8));
}

function pngSlices(f: NamedBytes): Slice[] {
  let png: ReturnType<typeof decodePng>;
  try {
    png = decodePng(f.bytes);
  } catch (e) {
    throw decodeFailed(f.name, (e as Error).message, e);
  }
  const { width, height, depth } = png;
  let channels = png.channels;
  let data: VoxelArray;
  if (depth < 8) {
    // fast-png keeps sub-byte samples packed, each row byte-aligned
    const per = channels;
    const rowBytes = Math.ceil((width * per * depth) / 8);
    const src = png.data as Uint8Array;
    if (src.length < rowBytes * height) throw decodeFailed(f.name, 'pixel data is shorter than the image size');
    const out = new Uint8Array(width * height * per);
    const mask = (1 << depth) - 1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width * per; x++) {
        const bit = x * depth;
        const byte = src[y * rowBytes + (bit >> 3)]!;
        out[y * width * per + x] = (byte >> (8 - depth - (bit & 7))) & mask;
      }
    }
    data = out;
  } else {
    data =
      png.data instanceof Uint8ClampedArray
        ? new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length)
        : png.data;
  }
  if (png.palette) {
    const pal = png.palette;
    const idx = data;
    const out = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) {
      const c = pal[idx[p]!];
      if (!c) throw decodeFailed(f.name, `palette index ${idx[p]} is outside the palette`);
      out[p * 3] = c[0]!;
      out[p * 3 + 1] = c[1]!;
      out[p * 3 + 2] = c[2]!;
    }
    return [{ name: f.name, width, height, channels: 3, type: 'uint8', data: out }];
  }
  const type: VoxelType = depth === 16 ? 'uint16' : 'uint8';
  if (channels === 2 || channels === 4) {
    data = dropAlpha(data, channels, type);
    channels -= 1;
  }
  if (data.length !== width * height * channels) throw decodeFailed(f.name, 'pixel data does not match the image size');
  return [{ name: f.name, width, height, channels, type, data }];
}

function dropAlpha(data: VoxelArray, channels: number, type: VoxelType): VoxelArray {
  const n = data.length / channels;
  const keep = channels - 1;
  const out = allocateVoxels(type, n * keep);
  for (let p = 0; p < n; p++) for (let c = 0; c < keep; c++) out[p * keep + c] = data[p * channels + c]!;
  return out;
}

const TIFF_COMPRESSIONS: Record<number, string> = {
  1: 'none',
  5: 'LZW',
  8: 'deflate',
  32946: 'deflate',
  32773: 'PackBits',
};

function tagNum(ifd: Record<string, unknown>, tag: number): number | undefined {
  const v = ifd[`t${tag}`];
  if (Array.isArray(v) && typeof v[0] === 'number') return v[0];
  return undefined;
}

function tiffSlices(f: NamedBytes, warnings: string[]): Slice[] {
  // utif2 reads from offset 0 of the buffer it is given: hand it an exact copy
  const buf = f.bytes.slice().buffer;
  checkTiffStructure(f.bytes, f.name);
  let ifds: UTIF.IFD[];
  try {
    ifds = (UTIF.decode as (b: ArrayBuffer, prm: object) => UTIF.IFD[])(buf, { parseMN: false, debug: false });
  } catch (e) {
    throw decodeFailed(f.name, `bad TIFF structure (${String((e as Error)?.message ?? e)})`, e);
  }
  const pages = ifds.filter((d) => d.t256 !== undefined);
  const full = pages.filter((d) => ((tagNum(d, 254) ?? 0) & 1) === 0);
  if (full.length < pages.length)
    warnings.push(`${f.name}: ${pages.length - full.length} reduced-resolution page(s) skipped`);
  if (full.length === 0) throw decodeFailed(f.name, 'the TIFF has no image pages');
  const out: Slice[] = [];
  for (const [pi, ifd] of full.entries()) {
    const where = full.length > 1 ? `${f.name} (page ${pi + 1})` : f.name;
    const compression = tagNum(ifd, 259) ?? 1;
    if (!TIFF_COMPRESSIONS[compression]) {
      throw new S2SError('UNSUPPORTED_FORMAT', `TIFF compression ${compression} is not supported`, {
        hint: 'save the TIFF uncompressed, LZW or deflate (lossy JPEG TIFFs are not suitable for measurement)',
        file: where,
      });
    }
    const bps = (ifd.t258 as number[] | undefined) ?? [1];
    const spp = tagNum(ifd, 277) ?? bps.length ?? 1;
    const bits = bps[0] ?? 1;
    const photometric = tagNum(ifd, 262) ?? 1;
    const sampleFormat = tagNum(ifd, 339) ?? 1;
    const planar = tagNum(ifd, 284) ?? 1;
    const predictor = tagNum(ifd, 317) ?? 1;
    if (planar !== 1 && spp > 1) {
      throw new S2SError(
        'UNSUPPORTED_FORMAT',
        'TIFF with separate colour planes (PlanarConfiguration 2) is not supported',
        {
          hint: 'save the TIFF with interleaved (chunky) samples',
          file: where,
        },
      );
    }
    if (bps.some((b) => b !== bits) || ![8, 16, 32].includes(bits)) {
      throw new S2SError('UNSUPPORTED_FORMAT', `TIFF with ${bps.join('/')} bits per sample is not supported`, {
        hint: 'use 8-, 16- or 32-bit samples',
        file: where,
      });
    }
    if (predictor !== 1 && !(predictor === 2 && bits <= 16)) {
      throw new S2SError(
        'UNSUPPORTED_FORMAT',
        `TIFF predictor ${predictor} with ${bits}-bit samples is not supported`,
        {
          hint: 'save without a predictor',
          file: where,
        },
      );
    }
    if (![0, 1, 2, 3].includes(photometric)) {
      throw new S2SError('UNSUPPORTED_FORMAT', `TIFF photometric interpretation ${photometric} is not supported`, {
        hint: 'save as greyscale or RGB',
        file: where,
      });
    }
    // refuse absurd sizes before utif2 allocates them (deflate/LZW cannot expand beyond ~1000:1)
    const w0 = tagNum(ifd, 256) ?? 0;
    const h0 = tagNum(ifd, 257) ?? 0;
    const expected = (w0 * h0 * spp * bits) / 8;
    if (!(w0 >= 1 && h0 >= 1) || w0 * h0 > 2 ** 28 || expected > f.bytes.length * 1032 + (1 << 20)) {
      throw new S2SError(
        'MALFORMED_FILE',
        `the TIFF claims ${w0}x${h0} pixels, which this ${f.bytes.length}-byte file cannot hold`,
        {
          hint: 'the file is corrupt; export it again',
          file: where,
        },
      );
    }
    const offs = (ifd.t273 ?? ifd.t324) as number[] | undefined;
    const counts = (ifd.t279 ?? ifd.t325) as number[] | undefined;
    if (!offs || !counts || offs.length === 0 || offs.length !== counts.length) {
      throw new S2SError('MALFORMED_FILE', 'the TIFF page has no valid strip/tile table', {
        hint: 'the file is corrupt; export it again',
        file: where,
      });
    }
    for (let k = 0; k < offs.length; k++) {
      if (!(offs[k]! >= 0 && counts[k]! >= 0 && offs[k]! + counts[k]! <= f.bytes.length)) {
        throw new S2SError('TRUNCATED_FILE', `TIFF strip ${k} lies beyond the end of the file`, {
          hint: 'the file was cut short; export it again',
          file: where,
        });
      }
    }
    if (compression === 1 && counts.reduce((a, c) => a + c, 0) < expected) {
      throw new S2SError('TRUNCATED_FILE', `the TIFF holds fewer pixel bytes than ${w0}x${h0}x${spp} samples need`, {
        hint: 'the file was cut short; export it again',
        file: where,
      });
    }
    try {
      UTIF.decodeImage(buf, ifd);
    } catch (e) {
      throw decodeFailed(where, String((e as Error)?.message ?? e), e);
    }
    const width = ifd.width;
    const height = ifd.height;
    const n = width * height * spp;
    const bytesNeeded = (n * bits) / 8;
    const raw = ifd.data as Uint8Array | undefined;
    if (!raw || raw.length < bytesNeeded || !(width > 0 && height > 0)) {
      throw new S2SError('TRUNCATED_FILE', `the TIFF pixel data is shorter than ${width}x${height}x${spp} samples`, {
        hint: 'the file was cut short; export it again',
        file: where,
      });
    }
    let type: VoxelType;
    if (sampleFormat === 3) {
      if (bits !== 32)
        throw new S2SError('UNSUPPORTED_FORMAT', `${bits}-bit float TIFF is not supported`, { file: where });
      type = 'float32';
    } else {
      type = ((sampleFormat === 2 ? 'int' : 'uint') + String(bits)) as VoxelType;
    }
    const bytes = raw.slice(0, bytesNeeded);
    // utif2 already converts 16-bit samples to little-endian; 32-bit ones stay in file order
    const fileLE = (ifd as unknown as { isLE?: boolean }).isLE !== false;
    if (bits === 32 && fileLE !== HOST_LITTLE_ENDIAN) swapBytes(bytes, 4);
    if (bits === 16 && !HOST_LITTLE_ENDIAN) swapBytes(bytes, 2);
    let data: VoxelArray = typedFrom(bytes.buffer, type, n);
    let channels = spp;
    if (photometric === 3) {
      const map = ifd.t320 as number[] | undefined;
      const nColors = 1 << bits;
      if (!map || map.length < 3 * nColors || spp !== 1)
        throw decodeFailed(where, 'palette TIFF without a valid colour map');
      const rgb = new Uint8Array(width * height * 3);
      for (let p = 0; p < width * height; p++) {
        const v = data[p]!;
        rgb[p * 3] = map[v]! >> 8;
        rgb[p * 3 + 1] = map[nColors + v]! >> 8;
        rgb[p * 3 + 2] = map[2 * nColors + v]! >> 8;
      }
      out.push({ name: where, width, height, channels: 3, type: 'uint8', data: rgb });
      continue;
    }
    if (photometric === 0) {
      // WhiteIsZero: store as BlackIsZero so that brighter = larger, like every other format
      if (type === 'float32')
        throw new S2SError('UNSUPPORTED_FORMAT', 'float WhiteIsZero TIFF is not supported', { file: where });
      const max = type.startsWith('int') ? -1 : 2 ** bits - 1;
      for (let p = 0; p < data.length; p++) data[p] = max - data[p]!;
      warnings.push(`${where}: WhiteIsZero greyscale was inverted to BlackIsZero`);
    }
    if (spp === 2 || spp === 4) {
      data = dropAlpha(data, spp, type);
      channels = spp - 1;
    } else if (spp !== 1 && spp !== 3) {
      throw new S2SError('UNSUPPORTED_FORMAT', `TIFF with ${spp} samples per pixel is not supported`, { file: where });
    }
    out.push({ name: where, width, height, channels, type, data });
  }
  return out;
}

function typedFrom(buffer: ArrayBufferLike, type: VoxelType, n: number): VoxelArray {
  switch (type) {
    case 'uint8':
      return new Uint8Array(buffer, 0, n);
    case 'int8':
      return new Int8Array(buffer, 0, n);
    case 'uint16':
      return new Uint16Array(buffer, 0, n);
    case 'int16':
      return new Int16Array(buffer, 0, n);
    case 'uint32':
      return new Uint32Array(buffer, 0, n);
    case 'int32':
      return new Int32Array(buffer, 0, n);
    case 'float32':
      return new Float32Array(buffer, 0, n);
    case 'float64':
      return new Float64Array(buffer, 0, n);
  }
}

/** Decodes the 2D image(s) in one PNG or TIFF file (multi-page TIFF: one per page). */
function decodeImageFile(f: NamedBytes, warnings: string[]): Slice[] {
  if (isPng(f.bytes)) return pngSlices(f);
  if (isTiff(f.bytes)) return tiffSlices(f, warnings);
  throw new S2SError('UNSUPPORTED_FORMAT', 'not a PNG or TIFF image (checked by content, not by name)', {
    hint: 'image stacks must be PNG or TIFF files',
    file: f.name,
  });
}

/**
 * Reads a stack of PNG/TIFF slices into a Volume (see the file comment for the default geometry).
 * Throws MISSING_GEOMETRY without `spacing` unless `acceptDefaultSpacing` is true, and
 * INCONSISTENT_SERIES naming the odd file when slices differ in size, type or colour.
 */
export function readImageStack(files: readonly NamedBytes[], options: ImageStackOptions = {}): Volume {
  const opts = { ...IMAGE_STACK_DEFAULTS, ...options };
  if (files.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'no image files were given', { hint: 'give one or more PNG/TIFF slices' });
  }
  const warnings: string[] = [];
  let spacing: Vec3;
  if (opts.spacing) {
    if (opts.spacing.length !== 3 || !opts.spacing.every((s) => s > 0 && Number.isFinite(s))) {
      throw new S2SError('INVALID_ARGUMENT', `spacing must be 3 positive numbers (mm), got ${opts.spacing.join(',')}`, {
        hint: 'e.g. --spacing 0.5,0.5,1',
      });
    }
    spacing = [opts.spacing[0], opts.spacing[1], opts.spacing[2]];
  } else if (opts.acceptDefaultSpacing) {
    spacing = [1, 1, 1];
    warnings.push(
      'PNG/TIFF files hold no voxel size: 1 mm x 1 mm x 1 mm was used as accepted; sizes in the model are only as right as that',
    );
  } else {
    throw new S2SError(
      'MISSING_GEOMETRY',
      'PNG/TIFF images do not record the voxel size, so the model size would be unknown',
      {
        hint: 'pass the spacing in mm (column, row, slice), e.g. --spacing 0.5,0.5,1, or accept 1 mm explicitly with --accept-default-spacing',
      },
    );
  }
  const ordered = opts.order === 'none' ? [...files] : [...files].sort((a, b) => naturalCompare(a.name, b.name));
  const slices: Slice[] = [];
  for (const [n, f] of ordered.entries()) {
    throwIfAborted(opts.signal);
    slices.push(...decodeImageFile(f, warnings));
    opts.onProgress?.({ stage: 'decode images', done: n + 1, total: ordered.length });
  }
  const first = slices[0]!;
  for (const s of slices) {
    if (s.width !== first.width || s.height !== first.height) {
      throw new S2SError(
        'INCONSISTENT_SERIES',
        `${s.name} is ${s.width}x${s.height} but ${first.name} is ${first.width}x${first.height}; all slices must have the same size`,
        { hint: 'remove or fix the odd image', file: s.name },
      );
    }
    if (s.type !== first.type || s.channels !== first.channels) {
      const d = (x: Slice) => `${x.channels === 3 ? 'RGB' : 'grey'} ${x.type}`;
      throw new S2SError(
        'INCONSISTENT_SERIES',
        `${s.name} is ${d(s)} but ${first.name} is ${d(first)}; all slices must match`,
        {
          hint: 'export every slice with the same bit depth and colour type',
          file: s.name,
        },
      );
    }
  }
  const { width, height, type } = first;
  let channels = first.channels;
  const plane = width * height;
  const depth = slices.length;
  let data = allocateVoxels(type, plane * channels * depth);
  for (const [k, s] of slices.entries()) data.set(s.data as never, k * plane * channels);

  if (channels === 3 && opts.color !== 'rgb') {
    if (opts.color === 'luma') {
      const g = new Float32Array(plane * depth);
      for (let p = 0; p < g.length; p++)
        g[p] = 0.299 * data[p * 3]! + 0.587 * data[p * 3 + 1]! + 0.114 * data[p * 3 + 2]!;
      data = g;
      channels = 1;
      warnings.push('colour images were converted to grey (0.299 R + 0.587 G + 0.114 B)');
    } else {
      let grey = true;
      for (let p = 0; p < data.length && grey; p += 3) grey = data[p] === data[p + 1] && data[p] === data[p + 2];
      if (grey) {
        const g = allocateVoxels(type, plane * depth);
        for (let p = 0; p < g.length; p++) g[p] = data[p * 3]!;
        data = g;
        channels = 1;
      }
    }
  }
  const size: Vec3 = [width, height, depth];
  const grid = makeGrid({
    size,
    spacing,
    origin: opts.origin,
    ...(opts.direction ? { direction: opts.direction } : {}),
  });
  if (!opts.direction) {
    warnings.push(
      'PNG/TIFF images hold no orientation: assumed columns -> patient Left, rows (top to bottom) -> Posterior, slices (first file first) -> Superior',
    );
  }
  const meta = withWarnings({ format: 'image-stack', files: ordered.length }, warnings);
  return makeVolume({ grid, data, components: channels, frames: 1, units: 'arbitrary', meta });
}
