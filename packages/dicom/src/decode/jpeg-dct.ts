/**
 * A focused decoder for DCT JPEG (ITU T.81) with Huffman coding: baseline and extended sequential
 * (SOF0/SOF1) and progressive (SOF2), 8- or 12-bit precision.
 *
 * Why our own: DICOM's JPEG Extended (.51) and the retired progressive syntaxes (.53/.55) carry
 * 12-bit samples, and no maintained npm package decodes 12-bit DCT JPEG (libjpeg-turbo's WASM build
 * is 8-bit only; cornerstone3D vendors a pdf.js-derived file rather than depending on a package).
 * The inverse DCT reproduces the IJG "islow" integer algorithm (jidctint.c: CONST_BITS 13,
 * PASS1_BITS 2 for 8-bit / 1 for 12-bit, same rounding points), which GDCM and DCMTK use, so the
 * decoded grey samples match theirs exactly. Colour upsampling is pixel replication and colour
 * conversion uses the exact YCbCr formula rounded (IJG uses tables; differences of 1 are possible
 * for colour 12-bit images, which DICOM practically never contains).
 */
import { S2SError } from '@slice2solid/core';

export interface JpegDctResult {
  readonly width: number;
  readonly height: number;
  readonly components: number;
  readonly precision: number;
  /** Interleaved samples (RGB if 3 components). */
  readonly data: Uint8Array | Uint16Array;
}

// Zig-zag index -> natural (row-major) index.
const ZIGZAG = new Int32Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47,
  55, 62, 63,
]);

/** The sample precision of the first frame header, or undefined if none is found. */
export function jpegPrecision(b: Uint8Array): number | undefined {
  let p = 2;
  while (p + 4 < b.length) {
    if (b[p] !== 0xff) {
      p++;
      continue;
    }
    const m = b[p + 1]!;
    if (m === 0xff) {
      p++;
      continue;
    }
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return b[p + 4];
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      p += 2;
      continue;
    }
    p += 2 + ((b[p + 2]! << 8) | b[p + 3]!);
  }
  return undefined;
}

interface Huffman {
  readonly maxcode: Int32Array; // index 1..16, -1 if no codes of that length
  readonly valptr: Int32Array;
  readonly mincode: Int32Array;
  readonly values: Uint8Array;
}

interface Component {
  readonly id: number;
  readonly h: number;
  readonly v: number;
  readonly tq: number;
  width: number;
  height: number;
  blocksPerLine: number;
  blocksPerColumn: number;
  blocksPerLineMcu: number;
  blocksPerColumnMcu: number;
  coefs: Int32Array;
  pred: number;
  dcTable?: Huffman;
  acTable?: Huffman;
}

class Fail {
  constructor(readonly name: string) {}
  error(why: string, truncated = false): S2SError {
    return new S2SError(truncated ? 'TRUNCATED_FILE' : 'DECODE_FAILED', `JPEG frame is damaged: ${why}`, {
      hint: truncated
        ? 'the compressed frame ends early; the file is incomplete'
        : 'the JPEG data does not follow ITU T.81; re-export the image',
      file: this.name,
    });
  }
}

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1]!;
    if (n > 0) {
      valptr[l] = k;
      mincode[l] = code;
      code += n;
      k += n;
      maxcode[l] = code - 1;
    }
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  return { maxcode, valptr, mincode, values };
}

class BitReader {
  private buf = 0;
  private cnt = 0;
  private zeroBytes = 0;
  private atMarker = false;
  constructor(
    private readonly d: Uint8Array,
    public pos: number,
    private readonly fail: Fail,
  ) {}

  private fill(): void {
    const d = this.d;
    if (this.atMarker || this.pos >= d.length) {
      // Past the entropy-coded data: feed zeros as IJG does, but refuse to invent whole blocks.
      if (++this.zeroBytes > 64) throw this.fail.error('the entropy-coded data ends early', this.pos >= d.length);
      this.buf = 0;
      this.cnt = 8;
      return;
    }
    const b = d[this.pos]!;
    if (b === 0xff) {
      const n = d[this.pos + 1];
      if (n === 0x00) this.pos += 2;
      else {
        this.atMarker = true;
        this.buf = 0;
        this.cnt = 8;
        this.zeroBytes++;
        return;
      }
    } else this.pos++;
    this.buf = b;
    this.cnt = 8;
  }

  bit(): number {
    if (this.cnt === 0) this.fill();
    this.cnt--;
    return (this.buf >> this.cnt) & 1;
  }

  bits(n: number): number {
    let v = 0;
    for (let k = 0; k < n; k++) v = (v << 1) | this.bit();
    return v;
  }

  /** Receive-and-extend (T.81 F.2.2.1). */
  extend(s: number): number {
    if (s === 0) return 0;
    const v = this.bits(s);
    return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
  }

  huff(h: Huffman | undefined): number {
    if (!h) throw this.fail.error('a scan uses a Huffman table that was never defined');
    let code = this.bit();
    let l = 1;
    while (code > h.maxcode[l]!) {
      code = (code << 1) | this.bit();
      if (++l > 16) throw this.fail.error('invalid Huffman code');
    }
    const v = h.values[h.valptr[l]! + code - h.mincode[l]!];
    if (v === undefined) throw this.fail.error('invalid Huffman code');
    return v;
  }

  /** Byte-align and step over the next RSTn marker (restart interval boundary). */
  restart(): void {
    this.cnt = 0;
    this.atMarker = false;
    this.zeroBytes = 0;
    const d = this.d;
    let p = this.pos;
    while (p + 1 < d.length && !(d[p] === 0xff && d[p + 1]! >= 0xd0 && d[p + 1]! <= 0xd7)) p++;
    this.pos = p + 1 < d.length ? p + 2 : d.length;
  }

  /** Position of the next marker after the entropy-coded segment. */
  end(): number {
    const d = this.d;
    let p = this.pos;
    while (p + 1 < d.length) {
      if (d[p] === 0xff) {
        const n = d[p + 1]!;
        if (n !== 0x00 && !(n >= 0xd0 && n <= 0xd7) && n !== 0xff) return p;
      }
      p++;
    }
    return d.length;
  }
}

// IJG jidctint.c constants (CONST_BITS = 13).
const FIX_0_298631336 = 2446;
const FIX_0_390180644 = 3196;
const FIX_0_541196100 = 4433;
const FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373;
const FIX_1_175875602 = 9633;
const FIX_1_501321110 = 12299;
const FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069;
const FIX_2_053119869 = 16819;
const FIX_2_562915447 = 20995;
const FIX_3_072711026 = 25172;
const CONST_BITS = 13;

/** Arithmetic right shift with rounding (IJG DESCALE), exact in doubles. */
function descale(x: number, n: number): number {
  return Math.floor((x + 2 ** (n - 1)) / 2 ** n);
}

/** IJG islow inverse DCT of one block (natural order, dequantized here) into `out` at (x, y). */
function idctBlock(
  coef: Int32Array,
  at: number,
  q: Int32Array,
  out: Uint16Array,
  stride: number,
  x0: number,
  y0: number,
  precision: number,
  ws: Float64Array,
): void {
  const pass1 = precision === 8 ? 2 : 1;
  const center = 1 << (precision - 1);
  const max = (1 << precision) - 1;
  // Pass 1: columns.
  for (let c = 0; c < 8; c++) {
    const i = (k: number) => coef[at + k * 8 + c]! * q[k * 8 + c]!;
    const d0 = i(0);
    const d1 = i(1);
    const d2 = i(2);
    const d3 = i(3);
    const d4 = i(4);
    const d5 = i(5);
    const d6 = i(6);
    const d7 = i(7);
    if (d1 === 0 && d2 === 0 && d3 === 0 && d4 === 0 && d5 === 0 && d6 === 0 && d7 === 0) {
      const dc = d0 * 2 ** pass1;
      for (let r = 0; r < 8; r++) ws[r * 8 + c] = dc;
      continue;
    }
    let z1 = (d2 + d6) * FIX_0_541196100;
    let tmp2 = z1 + d6 * -FIX_1_847759065;
    let tmp3 = z1 + d2 * FIX_0_765366865;
    let tmp0 = (d0 + d4) * 2 ** CONST_BITS;
    let tmp1 = (d0 - d4) * 2 ** CONST_BITS;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = d7;
    tmp1 = d5;
    tmp2 = d3;
    tmp3 = d1;
    z1 = tmp0 + tmp3;
    let z2 = tmp1 + tmp2;
    let z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    const s = CONST_BITS - pass1;
    ws[c] = descale(tmp10 + tmp3, s);
    ws[56 + c] = descale(tmp10 - tmp3, s);
    ws[8 + c] = descale(tmp11 + tmp2, s);
    ws[48 + c] = descale(tmp11 - tmp2, s);
    ws[16 + c] = descale(tmp12 + tmp1, s);
    ws[40 + c] = descale(tmp12 - tmp1, s);
    ws[24 + c] = descale(tmp13 + tmp0, s);
    ws[32 + c] = descale(tmp13 - tmp0, s);
  }
  // Pass 2: rows.
  const s = CONST_BITS + pass1 + 3;
  const clamp = (v: number) => {
    const o = v + center;
    return o < 0 ? 0 : Math.min(o, max);
  };
  for (let r = 0; r < 8; r++) {
    const w = r * 8;
    const o = (y0 + r) * stride + x0;
    let z1 = (ws[w + 2]! + ws[w + 6]!) * FIX_0_541196100;
    let tmp2 = z1 + ws[w + 6]! * -FIX_1_847759065;
    let tmp3 = z1 + ws[w + 2]! * FIX_0_765366865;
    let tmp0 = (ws[w]! + ws[w + 4]!) * 2 ** CONST_BITS;
    let tmp1 = (ws[w]! - ws[w + 4]!) * 2 ** CONST_BITS;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = ws[w + 7]!;
    tmp1 = ws[w + 5]!;
    tmp2 = ws[w + 3]!;
    tmp3 = ws[w + 1]!;
    z1 = tmp0 + tmp3;
    let z2 = tmp1 + tmp2;
    let z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    out[o] = clamp(descale(tmp10 + tmp3, s));
    out[o + 7] = clamp(descale(tmp10 - tmp3, s));
    out[o + 1] = clamp(descale(tmp11 + tmp2, s));
    out[o + 6] = clamp(descale(tmp11 - tmp2, s));
    out[o + 2] = clamp(descale(tmp12 + tmp1, s));
    out[o + 5] = clamp(descale(tmp12 - tmp1, s));
    out[o + 3] = clamp(descale(tmp13 + tmp0, s));
    out[o + 4] = clamp(descale(tmp13 - tmp0, s));
  }
}

const MAX_PIXELS = 1 << 28;

export function decodeJpegDct(d: Uint8Array, name: string): JpegDctResult {
  const fail = new Fail(name);
  if (d.length < 4 || d[0] !== 0xff || d[1] !== 0xd8) throw fail.error('no JPEG start-of-image marker');
  const qt: (Int32Array | undefined)[] = [];
  const dcTables: (Huffman | undefined)[] = [];
  const acTables: (Huffman | undefined)[] = [];
  let frame: { precision: number; width: number; height: number; progressive: boolean; comps: Component[] } | undefined;
  let restartInterval = 0;
  let adobeTransform: number | undefined;
  let jfif = false;
  let p = 2;
  const u16 = (at: number) => {
    if (at + 1 >= d.length) throw fail.error('a marker segment runs past the end of the data', true);
    return (d[at]! << 8) | d[at + 1]!;
  };
  let sawScan = false;
  for (;;) {
    // Find the next marker.
    while (p < d.length && d[p] !== 0xff) p++;
    while (p < d.length && d[p] === 0xff) p++;
    if (p >= d.length) {
      if (sawScan) break; // missing EOI: accept what was decoded
      throw fail.error('no image data (no start-of-scan marker)', true);
    }
    const m = d[p++]!;
    if (m === 0xd9) break; // EOI
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01) continue;
    const len = u16(p);
    const segEnd = p + len;
    if (len < 2 || segEnd > d.length) throw fail.error('a marker segment runs past the end of the data', true);
    const s = p + 2;
    switch (m) {
      case 0xdb: {
        let q = s;
        while (q < segEnd) {
          const pq = d[q]! >> 4;
          const tq = d[q]! & 15;
          q++;
          const table = new Int32Array(64);
          for (let k = 0; k < 64; k++) {
            if (q + (pq ? 2 : 1) > segEnd) throw fail.error('a quantisation table is cut short');
            table[ZIGZAG[k]!] = pq ? (d[q]! << 8) | d[q + 1]! : d[q]!;
            q += pq ? 2 : 1;
          }
          if (tq > 3) throw fail.error('quantisation table id > 3');
          qt[tq] = table;
        }
        break;
      }
      case 0xc4: {
        let q = s;
        while (q < segEnd) {
          const tc = d[q]! >> 4;
          const th = d[q]! & 15;
          q++;
          if (q + 16 > segEnd) throw fail.error('a Huffman table is cut short');
          const counts = d.slice(q, q + 16);
          q += 16;
          let n = 0;
          for (const c of counts) n += c;
          if (q + n > segEnd || n > 256) throw fail.error('a Huffman table is cut short');
          const values = d.slice(q, q + n);
          q += n;
          if (th > 3 || tc > 1) throw fail.error('bad Huffman table class or id');
          (tc === 0 ? dcTables : acTables)[th] = buildHuffman(counts, values);
        }
        break;
      }
      case 0xc0:
      case 0xc1:
      case 0xc2: {
        if (frame) throw fail.error('more than one frame header');
        const precision = d[s]!;
        const height = u16(s + 1);
        const width = u16(s + 3);
        const nc = d[s + 5]!;
        if (precision !== 8 && precision !== 12)
          throw fail.error(`sample precision ${precision} (only 8 and 12 are DCT precisions)`);
        if (width === 0 || height === 0) throw fail.error('the frame has no size (DNL markers are not supported)');
        if (nc !== 1 && nc !== 3) throw fail.error(`${nc} components (1 or 3 supported)`);
        if (width * height > MAX_PIXELS) throw fail.error('the frame is impossibly large');
        if (s + 6 + nc * 3 > segEnd) throw fail.error('the frame header is cut short');
        const comps: Component[] = [];
        for (let c = 0; c < nc; c++) {
          const at = s + 6 + c * 3;
          const h = d[at + 1]! >> 4;
          const v = d[at + 1]! & 15;
          if (h < 1 || h > 4 || v < 1 || v > 4) throw fail.error('bad sampling factors');
          comps.push({
            id: d[at]!,
            h,
            v,
            tq: d[at + 2]! & 3,
            width: 0,
            height: 0,
            blocksPerLine: 0,
            blocksPerColumn: 0,
            blocksPerLineMcu: 0,
            blocksPerColumnMcu: 0,
            coefs: new Int32Array(0),
            pred: 0,
          });
        }
        const hmax = Math.max(...comps.map((c) => c.h));
        const vmax = Math.max(...comps.map((c) => c.v));
        const mcusPerLine = Math.ceil(width / (8 * hmax));
        const mcusPerColumn = Math.ceil(height / (8 * vmax));
        for (const c of comps) {
          c.width = Math.ceil((width * c.h) / hmax);
          c.height = Math.ceil((height * c.v) / vmax);
          c.blocksPerLine = Math.ceil(c.width / 8);
          c.blocksPerColumn = Math.ceil(c.height / 8);
          c.blocksPerLineMcu = mcusPerLine * c.h;
          c.blocksPerColumnMcu = mcusPerColumn * c.v;
          c.coefs = new Int32Array(c.blocksPerLineMcu * c.blocksPerColumnMcu * 64);
        }
        frame = { precision, width, height, progressive: m === 0xc2, comps };
        break;
      }
      case 0xdd:
        restartInterval = u16(s);
        break;
      case 0xe0:
        if (len >= 7 && d[s] === 0x4a && d[s + 1] === 0x46 && d[s + 2] === 0x49 && d[s + 3] === 0x46) jfif = true;
        break;
      case 0xee:
        if (len >= 14 && d[s] === 0x41 && d[s + 1] === 0x64 && d[s + 2] === 0x6f && d[s + 3] === 0x62)
          adobeTransform = d[s + 11];
        break;
      case 0xda: {
        if (!frame) throw fail.error('a scan comes before the frame header');
        const ns = d[s]!;
        if (ns < 1 || ns > 4 || s + 1 + ns * 2 + 3 > segEnd) throw fail.error('bad scan header');
        const scomps: Component[] = [];
        for (let k = 0; k < ns; k++) {
          const id = d[s + 1 + k * 2]!;
          const t = d[s + 2 + k * 2]!;
          const c = frame.comps.find((x) => x.id === id);
          if (!c) throw fail.error('a scan names an unknown component');
          c.dcTable = dcTables[t >> 4];
          c.acTable = acTables[t & 15];
          scomps.push(c);
        }
        const at = s + 1 + ns * 2;
        const ss = d[at]!;
        const se = d[at + 1]!;
        const ah = d[at + 2]! >> 4;
        const al = d[at + 2]! & 15;
        if (se > 63 || ss > se) throw fail.error('bad spectral selection');
        p = decodeScan(d, segEnd, frame, scomps, restartInterval, ss, se, ah, al, fail);
        sawScan = true;
        continue;
      }
      default:
        if ((m >= 0xc3 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === 0xde) {
          throw fail.error(
            `JPEG process marker FF${m.toString(16).toUpperCase()} (lossless, hierarchical or arithmetic) is not a DCT Huffman process`,
          );
        }
    }
    p = segEnd;
  }
  if (!frame) throw fail.error('no frame header');
  return output(frame, qt, adobeTransform, jfif, fail);
}

function decodeScan(
  d: Uint8Array,
  start: number,
  frame: { precision: number; width: number; height: number; progressive: boolean; comps: Component[] },
  scomps: Component[],
  restartInterval: number,
  ss: number,
  se: number,
  ah: number,
  al: number,
  fail: Fail,
): number {
  const r = new BitReader(d, start, fail);
  let eobrun = 0;
  for (const c of scomps) c.pred = 0;
  const progressive = frame.progressive;
  const decodeBlock = (c: Component, at: number) => {
    const co = c.coefs;
    if (!progressive) {
      const t = r.huff(c.dcTable);
      if (t > 16) throw fail.error('bad DC difference category');
      c.pred += r.extend(t);
      co[at] = c.pred;
      for (let k = 1; k < 64; ) {
        const rs = r.huff(c.acTable);
        const run = rs >> 4;
        const sz = rs & 15;
        if (sz === 0) {
          if (run === 15) {
            k += 16;
            continue;
          }
          break;
        }
        k += run;
        if (k > 63) throw fail.error('AC coefficient index past 63');
        co[at + ZIGZAG[k]!] = r.extend(sz);
        k++;
      }
      return;
    }
    if (ss === 0) {
      // DC scan (progressive)
      if (ah === 0) {
        const t = r.huff(c.dcTable);
        if (t > 16) throw fail.error('bad DC difference category');
        c.pred += r.extend(t);
        co[at] = c.pred * 2 ** al;
      } else if (r.bit()) co[at]! |= 1 << al;
      return;
    }
    if (ah === 0) {
      // AC first scan
      if (eobrun > 0) {
        eobrun--;
        return;
      }
      for (let k = ss; k <= se; ) {
        const rs = r.huff(c.acTable);
        const run = rs >> 4;
        const sz = rs & 15;
        if (sz === 0) {
          if (run < 15) {
            eobrun = (1 << run) - 1;
            if (run) eobrun += r.bits(run);
            break;
          }
          k += 16;
          continue;
        }
        k += run;
        if (k > 63) throw fail.error('AC coefficient index past 63');
        co[at + ZIGZAG[k]!] = r.extend(sz) * 2 ** al;
        k++;
      }
      return;
    }
    // AC refinement scan (T.81 G.1.2.3; same control flow as IJG decode_mcu_AC_refine)
    const p1 = 1 << al;
    const m1 = -1 << al;
    let k = ss;
    if (eobrun === 0) {
      for (; k <= se; k++) {
        const rs = r.huff(c.acTable);
        let run = rs >> 4;
        let sz = rs & 15;
        if (sz) {
          if (sz !== 1) throw fail.error('bad refinement coefficient size');
          sz = r.bit() ? p1 : m1;
        } else if (run !== 15) {
          eobrun = 1 << run;
          if (run) eobrun += r.bits(run);
          break;
        }
        while (k <= se) {
          const z = at + ZIGZAG[k]!;
          const v = co[z]!;
          if (v !== 0) {
            if (r.bit() && (v & p1) === 0) co[z] = v >= 0 ? v + p1 : v + m1;
          } else {
            if (--run < 0) break;
          }
          k++;
        }
        if (sz && k <= 63) co[at + ZIGZAG[k]!] = sz;
      }
    }
    if (eobrun > 0) {
      for (; k <= se; k++) {
        const z = at + ZIGZAG[k]!;
        const v = co[z]!;
        if (v !== 0 && r.bit() && (v & p1) === 0) co[z] = v >= 0 ? v + p1 : v + m1;
      }
      eobrun--;
    }
  };

  let mcu = 0;
  const restart = () => {
    if (restartInterval > 0 && mcu > 0 && mcu % restartInterval === 0) {
      r.restart();
      for (const c of scomps) c.pred = 0;
      eobrun = 0;
    }
  };
  if (scomps.length === 1) {
    const c = scomps[0]!;
    for (let by = 0; by < c.blocksPerColumn; by++) {
      for (let bx = 0; bx < c.blocksPerLine; bx++) {
        restart();
        decodeBlock(c, (by * c.blocksPerLineMcu + bx) * 64);
        mcu++;
      }
    }
  } else {
    const hmax = Math.max(...frame.comps.map((c) => c.h));
    const vmax = Math.max(...frame.comps.map((c) => c.v));
    const mcusPerLine = Math.ceil(frame.width / (8 * hmax));
    const mcusPerColumn = Math.ceil(frame.height / (8 * vmax));
    for (let my = 0; my < mcusPerColumn; my++) {
      for (let mx = 0; mx < mcusPerLine; mx++) {
        restart();
        for (const c of scomps) {
          for (let v = 0; v < c.v; v++) {
            for (let h = 0; h < c.h; h++) {
              const by = my * c.v + v;
              const bx = mx * c.h + h;
              decodeBlock(c, (by * c.blocksPerLineMcu + bx) * 64);
            }
          }
        }
        mcu++;
      }
    }
  }
  return r.end();
}

function output(
  frame: { precision: number; width: number; height: number; comps: Component[] },
  qt: (Int32Array | undefined)[],
  adobeTransform: number | undefined,
  jfif: boolean,
  fail: Fail,
): JpegDctResult {
  const { width, height, precision, comps } = frame;
  const ws = new Float64Array(64);
  const planes: Uint16Array[] = [];
  for (const c of comps) {
    const q = qt[c.tq];
    if (!q) throw fail.error('a component uses a quantisation table that was never defined');
    const stride = c.blocksPerLineMcu * 8;
    const plane = new Uint16Array(stride * c.blocksPerColumnMcu * 8);
    for (let by = 0; by < c.blocksPerColumnMcu; by++) {
      for (let bx = 0; bx < c.blocksPerLineMcu; bx++) {
        idctBlock(c.coefs, (by * c.blocksPerLineMcu + bx) * 64, q, plane, stride, bx * 8, by * 8, precision, ws);
      }
    }
    planes.push(plane);
  }
  const nc = comps.length;
  const n = width * height;
  const out = precision === 8 ? new Uint8Array(n * nc) : new Uint16Array(n * nc);
  const hmax = Math.max(...comps.map((c) => c.h));
  const vmax = Math.max(...comps.map((c) => c.v));
  comps.forEach((c, ci) => {
    const plane = planes[ci]!;
    const stride = c.blocksPerLineMcu * 8;
    const fx = c.h / hmax;
    const fy = c.v / vmax;
    for (let y = 0; y < height; y++) {
      const row = Math.floor(y * fy) * stride;
      for (let x = 0; x < width; x++) out[(y * width + x) * nc + ci] = plane[row + Math.floor(x * fx)]!;
    }
  });
  if (nc === 3) {
    // YCbCr unless an Adobe marker says "no transform", or the component ids spell R, G, B.
    const rgbIds = comps[0]!.id === 0x52 && comps[1]!.id === 0x47 && comps[2]!.id === 0x42;
    const transform = adobeTransform !== undefined ? adobeTransform !== 0 : jfif || !rgbIds;
    if (transform) {
      const max = (1 << precision) - 1;
      const half = 1 << (precision - 1);
      const cl = (v: number) => (v < 0 ? 0 : v > max ? max : Math.round(v));
      for (let k = 0; k < out.length; k += 3) {
        const y = out[k]!;
        const cb = out[k + 1]! - half;
        const cr = out[k + 2]! - half;
        out[k] = cl(y + 1.402 * cr);
        out[k + 1] = cl(y - 0.344136 * cb - 0.714136 * cr);
        out[k + 2] = cl(y + 1.772 * cb);
      }
    }
  }
  return { width, height, components: nc, precision, data: out };
}
