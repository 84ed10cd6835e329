/**
 * Slice pixels (no DOM): grey values through a window, the label map as coloured overlay, and the
 * live threshold preview. Window presets for CT (HU) and an automatic window for anything else.
 */
import type { Segment, VoxelArray } from '@slice2solid/core';

export interface WindowLevel {
  /** Centre (level) and width, in the volume's units. */
  readonly center: number;
  readonly width: number;
}

export interface WindowPreset {
  readonly id: string;
  readonly label: string;
  /** Fixed window (HU); undefined for the automatic ones. */
  readonly window?: WindowLevel;
  /** Only meaningful for calibrated CT (HU). */
  readonly hu: boolean;
}

export const WINDOW_PRESETS: readonly WindowPreset[] = [
  { id: 'auto', label: 'Automatic (1st–99th percentile)', hu: false },
  { id: 'full', label: 'Full range', hu: false },
  { id: 'soft-tissue', label: 'Soft tissue (W 400, L 40)', window: { center: 40, width: 400 }, hu: true },
  { id: 'bone', label: 'Bone (W 1800, L 400)', window: { center: 400, width: 1800 }, hu: true },
  { id: 'brain', label: 'Brain (W 80, L 40)', window: { center: 40, width: 80 }, hu: true },
  { id: 'lung', label: 'Lung (W 1500, L −600)', window: { center: -600, width: 1500 }, hu: true },
];

/** Value statistics for automatic windows, from a strided sample (at most ~2M voxels). */
export function intensityStats(
  data: ArrayLike<number>,
  maxSamples = 2_000_000,
): { min: number; max: number; p1: number; p99: number } {
  const n = data.length;
  const step = Math.max(1, Math.floor(n / maxSamples));
  const sample = new Float64Array(Math.ceil(n / step));
  let m = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let p = 0; p < n; p += step) {
    const x = data[p]!;
    if (!Number.isFinite(x)) continue;
    sample[m++] = x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (m === 0) return { min: 0, max: 1, p1: 0, p99: 1 };
  const s = sample.subarray(0, m).sort();
  const q = (f: number) => s[Math.min(m - 1, Math.max(0, Math.round(f * (m - 1))))]!;
  return { min, max, p1: q(0.01), p99: q(0.99) };
}

/** The window of a preset for a volume with the given statistics. */
export function presetWindow(id: string, stats: { min: number; max: number; p1: number; p99: number }): WindowLevel {
  const p = WINDOW_PRESETS.find((w) => w.id === id);
  if (p?.window) return p.window;
  const [lo, hi] = id === 'full' ? [stats.min, stats.max] : [stats.p1, stats.p99];
  const width = Math.max(hi - lo, 1e-6);
  return { center: lo + width / 2, width };
}

export interface SliceOverlay {
  /** Label values (same layout as the volume's first frame), or undefined for none. */
  readonly labels?: ArrayLike<number> | undefined;
  /** Colour per label value (RGB, 0..255); index = value. */
  readonly lut?: Uint8Array | undefined;
  readonly hidden?: ReadonlySet<number> | undefined;
  /** Label opacity 0..1. */
  readonly opacity?: number;
  /** Live threshold preview: voxels with lower <= value <= upper are tinted. */
  readonly preview?: { readonly lower: number; readonly upper: number; readonly color: readonly number[] } | undefined;
  /** Scribble strokes (0 = none, else a class), drawn on top in `scribbleColors[class]`. */
  readonly scribbles?: ArrayLike<number> | undefined;
  readonly scribbleColors?: Readonly<Record<number, readonly number[]>> | undefined;
}

/** Colour table indexed by label value (RGB triplets). */
export function labelLut(segments: readonly Segment[]): Uint8Array {
  const max = segments.reduce((a, s) => Math.max(a, s.value), 0);
  const lut = new Uint8Array(3 * (max + 1));
  for (const s of segments) lut.set(s.color, 3 * s.value);
  return lut;
}

/**
 * RGBA pixels of one slice: `indices[p]` is the voxel of pixel p (see sliceIndices). Grey values
 * through the window; labels blended with their colour; the preview tinted on top.
 */
export function renderSlice(
  data: VoxelArray,
  indices: Uint32Array,
  wl: WindowLevel,
  overlay: SliceOverlay = {},
  out = new Uint8ClampedArray(indices.length * 4),
): Uint8ClampedArray {
  const lo = wl.center - wl.width / 2;
  const scale = 255 / Math.max(wl.width, 1e-12);
  const labels = overlay.labels;
  const lut = overlay.lut;
  const a = overlay.opacity ?? 0.45;
  const pv = overlay.preview;
  const pa = 0.4;
  const sc = overlay.scribbles;
  const scol = overlay.scribbleColors ?? {};
  const sa = 0.8;
  for (let p = 0; p < indices.length; p++) {
    const q = indices[p]!;
    const x = data[q]!;
    const g = Math.min(255, Math.max(0, (x - lo) * scale));
    let r = g;
    let gg = g;
    let b = g;
    if (labels && lut) {
      const l = labels[q]!;
      if (l > 0 && 3 * l < lut.length && !overlay.hidden?.has(l)) {
        r = r * (1 - a) + lut[3 * l]! * a;
        gg = gg * (1 - a) + lut[3 * l + 1]! * a;
        b = b * (1 - a) + lut[3 * l + 2]! * a;
      }
    }
    if (pv && x >= pv.lower && x <= pv.upper) {
      r = r * (1 - pa) + pv.color[0]! * pa;
      gg = gg * (1 - pa) + pv.color[1]! * pa;
      b = b * (1 - pa) + pv.color[2]! * pa;
    }
    if (sc) {
      const c = sc[q] ? scol[sc[q]!] : undefined;
      if (c) {
        r = r * (1 - sa) + c[0]! * sa;
        gg = gg * (1 - sa) + c[1]! * sa;
        b = b * (1 - sa) + c[2]! * sa;
      }
    }
    const o = 4 * p;
    out[o] = r;
    out[o + 1] = gg;
    out[o + 2] = b;
    out[o + 3] = 255;
  }
  return out;
}
