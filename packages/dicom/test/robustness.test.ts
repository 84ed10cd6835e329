// Malformed, truncated and edge-case files: every outcome is a correct parse or an S2SError with a
// message and a hint, never a TypeError/RangeError, hang or silent garbage. Plus a seeded fuzz test.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { S2SError } from '@slice2solid/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataPath, describeData, itData } from '../../../test-utils/shared-data.js';
import { codecReady, initCodecs, parseDicom } from '../src/index.js';

beforeAll(async () => {
  await initCodecs();
});

type Outcome =
  | { ok: true; frames: number; rows: number; columns: number }
  | { ok: false; code: string; message: string; hint?: string };

/** Parses and decodes every frame; returns the outcome or rethrows anything that is not an S2SError. */
function attempt(bytes: Uint8Array, name: string): Outcome {
  try {
    const f = parseDicom(bytes, { name });
    for (let k = 0; k < f.numberOfFrames; k++) {
      const d = f.decodeFrame(k);
      if (d.data.length !== f.rows * f.columns * d.samples) throw new Error(`frame ${k} has the wrong length`);
    }
    return { ok: true, frames: f.numberOfFrames, rows: f.rows, columns: f.columns };
  } catch (e) {
    if (e instanceof S2SError) return { ok: false, code: e.code, message: e.message, hint: e.hint };
    throw e;
  }
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (!/\.(txt|csv|md)$/i.test(n) && !/^(LICENSE|README|COPYRIGHT)/.test(n)) out.push(p);
  }
  return out;
}

// What we expect where the answer is not simply "decodes": the code, and why.
const EXPECTED: Record<string, string> = {
  'cornerstone3D/no-pixel-data.dcm': 'NO_PIXEL_DATA', // SR document
  'dcmjs/no-meta-length-test.dcm': 'NO_PIXEL_DATA',
  'nibabel-debian/csa_slice_norm.dcm': 'NO_PIXEL_DATA', // pixel data stripped upstream
  'pydicom/ExplVR_BigEndNoMeta.dcm': 'NO_PIXEL_DATA', // RTPLAN, read without meta
  'pydicom/ExplVR_LitEndNoMeta.dcm': 'NO_PIXEL_DATA',
  'pydicom/UN_sequence.dcm': 'NO_PIXEL_DATA',
  'pydicom/empty_charset_LEI.dcm': 'NO_PIXEL_DATA',
  'pydicom/no_meta_group_length.dcm': 'NO_PIXEL_DATA',
  'pydicom/priv_SQ.dcm': 'NO_PIXEL_DATA',
  'pydicom/meta_missing_tsyntax.dcm': 'MALFORMED_FILE', // 2-byte Pixel Data, no Rows/Columns
  'pydicom/nested_priv_SQ.dcm': 'MALFORMED_FILE', // pixel data but no Rows/Columns
  'pydicom/badVR.dcm': 'MALFORMED_FILE', // NumberOfFrames '1A'
  'pydicom/MR_truncated.dcm': 'TRUNCATED_FILE',
  'pydicom/rtplan_truncated.dcm': 'TRUNCATED_FILE',
  'pydicom/JPEG2000-embedded-sequence-delimiter.dcm': 'DECODE_FAILED', // codestream does not match the header (pydicom also fails)
  // A stray byte before the first element; neither dcmdump nor strict pydicom reads it.
  'pydicom/no_meta.dcm': 'UNSUPPORTED_FORMAT',
};

describeData('dicom-robustness: every file parses correctly or fails with a clear S2SError', () => {
  const root = dataPath('dicom-robustness');
  const csv = new Map<string, string[]>();
  let head: string[] = [];

  beforeAll(() => {
    const lines = readFileSync(join(root, 'behaviour_summary_pydicom2.3.1_dcmtk3.6.7.csv'), 'utf8')
      .trim()
      .split(/\r?\n/);
    const split = (l: string) => [...l.matchAll(/("([^"]*)"|[^,]*)(,|$)/g)].map((m) => m[2] ?? m[1] ?? '');
    head = split(lines[0]!);
    for (const l of lines.slice(1)) {
      const cells = split(l);
      csv.set(cells[0]!, cells);
    }
  });

  for (const path of HAVE_FILES(root)) {
    const rel = relative(root, path);
    itData(rel, () => {
      const out = attempt(new Uint8Array(readFileSync(path)), rel);
      const want = EXPECTED[rel];
      if (want) {
        expect(out).toMatchObject({ ok: false, code: want });
      } else {
        expect(out).toMatchObject({ ok: true });
        // Where pydicom decoded the pixels, our size agrees with its shape.
        const row = csv.get(rel);
        const pix = row?.[head.indexOf('pydicom_pixel_array')] ?? '';
        const shape = /shape=\(([^)]*)\)/
          .exec(pix)?.[1]
          ?.split(',')
          .map((s) => Number(s.trim()));
        if (shape && out.ok) {
          const frames = shape.length === 4 || (shape.length === 3 && shape[2] !== 3) ? shape[0]! : 1;
          const [rows, cols] = frames > 1 ? [shape[1]!, shape[2]!] : [shape[0]!, shape[1]!];
          expect({ rows: out.rows, columns: out.columns, frames: out.frames }).toEqual({ rows, columns: cols, frames });
        }
      }
      if (!out.ok) {
        expect(out.message.length).toBeGreaterThan(20);
        expect(out.hint?.length ?? 0).toBeGreaterThan(10);
      }
    });
  }

  itData(
    'emri_small_jpeg_2k_lossless_too_short.dcm: only the sequence delimiter is missing, so every frame is exact',
    () => {
      // The file is the 40324-byte emri_small_jpeg_2k_lossless.dcm minus its last 8 bytes (the
      // sequence delimitation item): all 10 fragments are complete, so the honest result is the image.
      const E = ['dicom-enhanced-multiframe', 'pydicom-data'] as const;
      const f = parseDicom(new Uint8Array(readFileSync(dataPath(...E, 'emri_small_jpeg_2k_lossless_too_short.dcm'))));
      const ref = parseDicom(new Uint8Array(readFileSync(dataPath(...E, 'emri_small.dcm'))));
      for (let k = 0; k < 10; k++)
        expect(Array.from(f.decodeFrame(k).data)).toEqual(Array.from(ref.decodeFrame(k).data));
    },
  );

  itData('the same file cut inside or at the start of its last fragment fails with an S2SError', () => {
    const b = new Uint8Array(
      readFileSync(dataPath('dicom-enhanced-multiframe', 'pydicom-data', 'emri_small_jpeg_2k_lossless_too_short.dcm')),
    );
    const f = parseDicom(b);
    expect(f.numberOfFrames).toBe(10);
    for (const cut of [1, 100, 1000, 3000]) {
      const out = attempt(b.slice(0, b.length - cut), `cut ${cut}`);
      expect(out.ok, `cut ${cut} bytes`).toBe(false);
      if (!out.ok) expect(out.code).toMatch(/TRUNCATED_FILE|MALFORMED_FILE|DECODE_FAILED/);
    }
  });
});

function HAVE_FILES(root: string): string[] {
  try {
    return files(root);
  } catch {
    return [];
  }
}

describe('not DICOM', () => {
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['one byte', new Uint8Array([0x44])],
    [
      'PNG signature',
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]),
    ],
    ['text', new TextEncoder().encode('hello world, this is certainly not a DICOM file at all.\n'.repeat(5))],
    [
      'preamble and DICM only',
      (() => {
        const b = new Uint8Array(132);
        b.set([0x44, 0x49, 0x43, 0x4d], 128);
        return b;
      })(),
    ],
    ['gzip of garbage', new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])],
    ['zeros', new Uint8Array(4096)],
  ];
  for (const [name, b] of cases) {
    it(`${name}: S2SError, not a crash`, () => {
      const out = attempt(b, name);
      expect(out.ok).toBe(false);
    });
  }
});

// ------------------------------------------------------------------------------------------
// Seeded fuzz: truncations at many offsets and random byte flips of a few real files.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FUZZ_FILES = [
  ['dicom-robustness', 'pydicom', 'MR_small.dcm'],
  ['dicom-robustness', 'pydicom', 'MR_small_bigendian.dcm'],
  ['dicom-robustness', 'pydicom', 'MR_small_RLE.dcm'],
  ['dicom-robustness', 'pydicom', 'MR_small_jp2klossless.dcm'],
  ['dicom-robustness', 'pydicom', 'MR_small_jpeg_ls_lossless.dcm'],
  ['dicom-robustness', 'pydicom', 'image_dfl.dcm'],
  ['dicom-robustness', 'pydicom', 'zipMR.gz'],
  ['dicom-enhanced-multiframe', 'pydicom-data', 'emri_small_RLE.dcm'],
  ['dicom-mr-siemens-mosaic-orientation', 'dicom', 'AxAsc36mb2a', 'jpg1.dcm'],
  ['dicom-ct-transfer-syntaxes', 'dicom', 'CT0012.fragmented_no_bot_jpeg_baseline.51.dcm'],
  ['dicom-ct-transfer-syntaxes', 'dicom', 'CTImage.dcm_JPEGProcess6_8TransferSyntax_1.2.840.10008.1.2.4.53.dcm'],
  ['dicom-ct-transfer-syntaxes', 'color-testpatterns', 'TestPattern_JPEG-Baseline_YBR422.dcm'],
] as const;

describeData('fuzz (seeded): only S2SError or success ever comes out', () => {
  for (const parts of FUZZ_FILES) {
    const name = parts[parts.length - 1]!;
    itData(`${name}: 24 truncations and 24 byte-flip mutants`, async () => {
      const original = new Uint8Array(readFileSync(dataPath(...parts)));
      const rand = mulberry32(0x5eed ^ original.length);
      const mutants: [string, Uint8Array][] = [];
      for (let k = 0; k < 24; k++) {
        const at = k < 4 ? [0, 1, 131, 140][k]! : Math.floor(rand() * original.length);
        mutants.push([`truncated at ${at}`, original.slice(0, at)]);
      }
      for (let k = 0; k < 24; k++) {
        const m = original.slice();
        const flips = 1 + Math.floor(rand() * 8);
        // Half the mutants hit the header region, half anywhere (pixel data, fragments, codestreams).
        const span = k % 2 === 0 ? Math.min(m.length, 2048) : m.length;
        for (let f = 0; f < flips; f++) m[Math.floor(rand() * span)] = Math.floor(rand() * 256);
        mutants.push([`${flips} random bytes`, m]);
      }
      for (const [what, bytes] of mutants) {
        const t0 = performance.now();
        let out: Outcome;
        try {
          out = attempt(bytes, name);
        } catch (e) {
          throw new Error(`${name} ${what}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
        }
        expect(performance.now() - t0, `${name} ${what} took too long`).toBeLessThan(5000);
        if (!out.ok) expect(out.message.length).toBeGreaterThan(0);
        // A WASM codec that aborted is dropped; load a fresh one for the next mutant.
        if (!codecReady('openjpeg') || !codecReady('charls') || !codecReady('libjpeg-turbo')) await initCodecs();
      }
    });
  }
});
