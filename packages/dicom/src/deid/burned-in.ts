/**
 * Burned-in text: which images are likely to carry it (so they are held back rather than silently
 * released), and black-out of user-given rectangles in native (uncompressed) pixel data.
 * Black-out is the ONE operation that intentionally changes pixels.
 */
import { type DElement, stringValue } from './element-io.js';

export interface BlackoutRect {
  /** Column of the top-left pixel. */
  readonly x: number;
  /** Row of the top-left pixel. */
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

const SECONDARY_CAPTURE = /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.7(\.\d+)?$/;
const ULTRASOUND = new Set([
  '1.2.840.10008.5.1.4.1.1.6.1',
  '1.2.840.10008.5.1.4.1.1.6.2',
  '1.2.840.10008.5.1.4.1.1.3.1',
]);
const ENCAPSULATED_DOC = /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.104\./;
const VIDEO_PHOTO = /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.77\.1\.(1\.1|2\.1|4\.1|4|2|1)$/;

function top(elements: readonly DElement[], tag: number): string | undefined {
  const e = elements.find((x) => x.tag === tag);
  return e ? stringValue(e).trim() : undefined;
}

/** Reasons to believe the image has burned-in text (empty when none). Reads the ORIGINAL top-level elements. */
export function burnedInReasons(elements: readonly DElement[]): string[] {
  const reasons: string[] = [];
  const burned = top(elements, 0x00280301)?.toUpperCase();
  const sopClass = top(elements, 0x00080016) ?? '';
  const modality = top(elements, 0x00080060)?.toUpperCase() ?? '';
  const imageType = top(elements, 0x00080008)?.toUpperCase() ?? '';
  if (burned === 'YES') reasons.push('Burned In Annotation is YES');
  if (SECONDARY_CAPTURE.test(sopClass) || modality === 'SC')
    reasons.push('secondary capture (may be a screenshot or scan)');
  if (ULTRASOUND.has(sopClass) || modality === 'US') reasons.push('ultrasound (usually has burned-in text)');
  if (ENCAPSULATED_DOC.test(sopClass) || modality === 'DOC') reasons.push('encapsulated document');
  if (VIDEO_PHOTO.test(sopClass) || modality === 'XC') reasons.push('photograph or video');
  if (/SCREEN ?SAVE|SCREENSHOT/.test(imageType)) reasons.push('Image Type says screen save');
  if (top(elements, 0x00080064) !== undefined && !reasons.some((r) => r.startsWith('secondary'))) {
    reasons.push('has a Conversion Type (converted from film, paper or screen)');
  }
  return reasons;
}

function u16(elements: readonly DElement[], tag: number, little: boolean): number | undefined {
  const e = elements.find((x) => x.tag === tag);
  if (!e || e.value.length < 2) return undefined;
  return new DataView(e.value.buffer, e.value.byteOffset, 2).getUint16(0, little);
}

/**
 * Blacks out rectangles in every frame of native Pixel Data. Returns undefined on success, or why it
 * could not be done. "Black" is the frame's minimum value (maximum for MONOCHROME1), 0 for RGB.
 */
export function blackoutPixels(
  elements: readonly DElement[],
  rects: readonly BlackoutRect[],
  native: boolean,
  little: boolean,
): string | undefined {
  const pixel = elements.find((x) => x.tag === 0x7fe00010);
  if (!pixel) return 'no Pixel Data';
  if (!native || pixel.encapsulated)
    return 'the pixels are compressed; decompress them first (e.g. dcmdjpeg/gdcmconv --raw)';
  const rows = u16(elements, 0x00280010, little);
  const cols = u16(elements, 0x00280011, little);
  const spp = u16(elements, 0x00280002, little) ?? 1;
  const bits = u16(elements, 0x00280100, little);
  const planar = u16(elements, 0x00280006, little) ?? 0;
  const signed = (u16(elements, 0x00280103, little) ?? 0) === 1;
  const photometric = top(elements, 0x00280004)?.toUpperCase() ?? '';
  const frames = Number.parseInt(top(elements, 0x00280008) ?? '1', 10) || 1;
  if (!rows || !cols || !bits) return 'Rows, Columns or Bits Allocated missing';
  if (![8, 16, 32].includes(bits)) return `Bits Allocated ${bits} is not supported for black-out`;
  if (!['MONOCHROME1', 'MONOCHROME2', 'RGB', 'PALETTE COLOR'].includes(photometric)) {
    return `photometric interpretation ${photometric || '(none)'} is not supported for black-out`;
  }
  const bytesPer = bits / 8;
  const frameBytes = rows * cols * spp * bytesPer;
  if (pixel.value.length < frameBytes * frames) return 'Pixel Data is shorter than Rows x Columns x frames';
  for (const r of rects) {
    if (!(r.width > 0 && r.height > 0 && r.x >= 0 && r.y >= 0)) return 'a black-out rectangle is empty or negative';
  }
  const data = new Uint8Array(pixel.value);
  const dv = new DataView(data.buffer);
  const read = (o: number): number =>
    bits === 8
      ? signed
        ? dv.getInt8(o)
        : dv.getUint8(o)
      : bits === 16
        ? signed
          ? dv.getInt16(o, little)
          : dv.getUint16(o, little)
        : signed
          ? dv.getInt32(o, little)
          : dv.getUint32(o, little);
  const write = (o: number, v: number): void => {
    if (bits === 8) signed ? dv.setInt8(o, v) : dv.setUint8(o, v);
    else if (bits === 16) signed ? dv.setInt16(o, v, little) : dv.setUint16(o, v, little);
    else signed ? dv.setInt32(o, v, little) : dv.setUint32(o, v, little);
  };
  for (let f = 0; f < frames; f++) {
    const base = f * frameBytes;
    let fill = 0;
    if (photometric.startsWith('MONOCHROME')) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let o = base; o < base + frameBytes; o += bytesPer) {
        const v = read(o);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      fill = photometric === 'MONOCHROME1' ? hi : lo;
    }
    for (const r of rects) {
      const y1 = Math.min(rows, r.y + r.height);
      const x1 = Math.min(cols, r.x + r.width);
      for (let y = r.y; y < y1; y++) {
        for (let x = r.x; x < x1; x++) {
          for (let s = 0; s < spp; s++) {
            const idx = planar === 1 && spp > 1 ? s * rows * cols + y * cols + x : (y * cols + x) * spp + s;
            write(base + idx * bytesPer, fill);
          }
        }
      }
    }
  }
  pixel.value = data;
  pixel.dirty = true;
  return undefined;
}
