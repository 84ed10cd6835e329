/**
 * `slice2solid convert` and `slice2solid mesh`, run in-process: the written model files are read
 * back with independent readers (three.js STLLoader / GLTFLoader / PLYLoader), welded, and their
 * triangles, volume and closedness compared with what the command reported; the run record is
 * checked for its fields and for the absence of identifiers.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Mesh, makeLabelMap, voxelCount, worldBounds } from '@slice2solid/core';
import { writeCtSeries } from '@slice2solid/dicom';
import { writeNiftiLabels } from '@slice2solid/io';
import { HEAD_SKIN_WARNING, makeCtHeadPhantom, meshMetrics, sha256Hex } from '@slice2solid/ops';
import { MeshoptDecoder } from 'meshoptimizer';
import type { Mesh as ThreeMesh } from 'three';
import { type GLTF, GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { PLYLoader } from 'three/examples/jsm/loaders/PLYLoader.js';
import { STLLoader } from 'three/examples/jsm/loaders/STLLoader.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPath, describeData } from '../../../test-utils/shared-data.js';
import { runCliIn } from './helpers/run-cli.js';

let work: string;
const PHANTOM = makeCtHeadPhantom({});
// identifiers written into the DICOM headers; none may reach any output
const FAKE_NAME = 'Zyxwuv^Qponml';
const FAKE_ID = 'PID-99887766';
let studyUid = '';

const cli = (argv: string[]) => runCliIn(work, argv);

const ab = (b: Uint8Array) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** A triangle soup (9 floats per triangle) welded by exact position into an indexed mesh. */
function weldSoup(soup: ArrayLike<number>): Mesh {
  const key = new Map<string, number>();
  const pos: number[] = [];
  const idx: number[] = [];
  for (let n = 0; n < soup.length; n += 3) {
    const k = `${soup[n]},${soup[n + 1]},${soup[n + 2]}`;
    let v = key.get(k);
    if (v === undefined) {
      v = pos.length / 3;
      key.set(k, v);
      pos.push(soup[n]!, soup[n + 1]!, soup[n + 2]!);
    }
    idx.push(v);
  }
  return { positions: Float32Array.from(pos), indices: Uint32Array.from(idx) };
}

function readStl(path: string): Mesh {
  const g = new STLLoader().parse(ab(new Uint8Array(readFileSync(path))));
  return weldSoup(g.getAttribute('position').array as Float32Array);
}

/** GLB meshes back in LPS mm (glTF: metres, L = X, P = -Z, S = Y) with their names and colours. */
async function readGlb(path: string): Promise<{ name: string; mesh: Mesh; color?: number[] }[]> {
  await MeshoptDecoder.ready;
  const loader = new GLTFLoader().setMeshoptDecoder(MeshoptDecoder);
  const gltf = await new Promise<GLTF>((res, rej) =>
    loader.parse(ab(new Uint8Array(readFileSync(path))), '', res, rej),
  );
  const out: { name: string; mesh: Mesh; color?: number[] }[] = [];
  gltf.scene.updateMatrixWorld(true);
  gltf.scene.traverse((o) => {
    const m = o as ThreeMesh;
    if (!m.isMesh) return;
    const g = m.geometry.clone().applyMatrix4(m.matrixWorld).toNonIndexed();
    const p = g.getAttribute('position').array as Float32Array;
    const lps = new Float64Array(p.length);
    for (let k = 0; k < p.length; k += 3) {
      lps[k] = p[k]! * 1000;
      lps[k + 1] = -p[k + 2]! * 1000;
      lps[k + 2] = p[k + 1]! * 1000;
    }
    const mat = m.material as { color?: { r: number; g: number; b: number } };
    out.push({
      name: m.name,
      mesh: weldSoup(Float32Array.from(lps)),
      ...(mat.color ? { color: [mat.color.r, mat.color.g, mat.color.b] } : {}),
    });
  });
  return out;
}

// biome-ignore lint/suspicious/noExplicitAny: run records are plain JSON
function readRecord(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function expectNoIdentifiers(text: string): void {
  for (const bad of [FAKE_NAME, 'Zyxwuv', FAKE_ID, studyUid, work, 'ct_dicom_series']) {
    if (bad) expect(text.includes(bad), `found "${bad}"`).toBe(false);
  }
  // no DICOM UIDs (1.2.840... or 2.25...) and no dates other than the run time
  expect(text).not.toMatch(/"(1\.2\.840\.|2\.25\.)\d/);
  expect(text).not.toMatch(/StudyDate|PatientName|PatientID|SeriesInstanceUID/);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 's2s-convert-'));
  const files = writeCtSeries(PHANTOM, { seed: 'convert-test', patientName: FAKE_NAME, patientId: FAKE_ID });
  const dir = join(work, 'ct_dicom_series');
  mkdirSync(dir);
  for (const f of files) writeFileSync(join(dir, f.name), f.bytes);
  // the study UID the writer put in (it must not reach the outputs)
  const text = new TextDecoder('latin1').decode(files[0]!.bytes);
  studyUid = /2\.25\.\d{20,}/.exec(text)?.[0] ?? '';
  expect(studyUid).not.toBe('');
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('slice2solid convert: the built-in phantom as a DICOM series', () => {
  it('bone -> STL: watertight, triangles and volume as reported, in the scan, run record without identifiers', async () => {
    const r = await cli([
      'convert',
      'ct_dicom_series',
      'out/skull.stl',
      '--preset',
      'bone',
      '--decimate',
      '0.3',
      '--watertight',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Model: skull\.stl: 1 structure\(s\), [\d,]+ triangles, [\d.]+ mL/);
    expect(r.out).toMatch(/bone .*watertight yes \(manifold-3d\)/);
    expect(r.out).toMatch(/Dice 0\.9\d+ +surface distance mean [\d.]+ mm, 95% [\d.]+ mm +volume change [-+][\d.]+%/);
    expect(r.out).toMatch(/Time: [\d.]+ s \(load/);
    expect(r.out).toContain('Run record: skull.run.json');
    expect(readdirSync(join(work, 'out')).sort()).toEqual(['skull.run.json', 'skull.stl']);

    const rec = readRecord(join(work, 'out', 'skull.run.json'));
    const mesh = readStl(join(work, 'out', 'skull.stl'));
    const m = meshMetrics(mesh);
    expect(m.triangles).toBe(rec.metrics.triangles);
    expect(m.closedManifold).toBe(true);
    expect(m.volumeMm3).toBeGreaterThan(0);
    expect(Math.abs(m.volumeMm3 - rec.metrics.volumeMm3) / rec.metrics.volumeMm3).toBeLessThan(1e-4);
    // the skull's voxel volume (threshold 226..3071 HU) is within 3% of the model's
    let bone = 0;
    for (let n = 0; n < PHANTOM.data.length; n++) if (PHANTOM.data[n]! >= 226 && PHANTOM.data[n]! <= 3071) bone++;
    const voxelMm3 = bone * PHANTOM.grid.spacing[0] * PHANTOM.grid.spacing[1] * PHANTOM.grid.spacing[2];
    expect(Math.abs(m.volumeMm3 - voxelMm3) / voxelMm3).toBeLessThan(0.03);
    // the model lies inside the scan (LPS mm): not mirrored out or shifted
    const [lo, hi] = worldBounds(PHANTOM.grid);
    for (let a = 0; a < 3; a++) {
      expect(m.bbox.min[a]).toBeGreaterThan(lo[a]! - 1);
      expect(m.bbox.max[a]).toBeLessThan(hi[a]! + 1);
    }

    // the run record
    expect(rec).toMatchObject({
      schema: 'slice2solid/run-record',
      schemaVersion: 1,
      tool: { name: 'slice2solid' },
      command: 'convert',
      input: { kind: 'dicom', files: 112, modality: 'CT', geometry: { size: [128, 136, 112], orientation: 'LPS' } },
      outputs: [{ file: 'skull.stl', format: 'stl' }],
      metrics: { structures: 1, watertight: true, closedManifold: true },
    });
    expect(rec.runAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(rec.steps.map((s: { step: string }) => s.step)).toEqual([
      'load',
      'segment',
      'surface',
      'smooth',
      'decimate',
      'clean',
      'watertight-check',
      'accuracy',
      'export',
    ]);
    expect(rec.steps[1].options).toMatchObject({ preset: 'bone', lower: 226, upper: 3071 });
    expect(rec.steps[4].options).toMatchObject({ targetRatio: 0.3 });
    expect(rec.accuracy[0].dice).toBeGreaterThan(0.95);
    // hashes: of the output file, and of the input files
    expect(rec.outputs[0].sha256).toBe(await sha256Hex(new Uint8Array(readFileSync(join(work, 'out', 'skull.stl')))));
    const first = readdirSync(join(work, 'ct_dicom_series')).sort()[0]!;
    expect(rec.input.fileSha256[0]).toBe(
      await sha256Hex(new Uint8Array(readFileSync(join(work, 'ct_dicom_series', first)))),
    );
    const text = readFileSync(join(work, 'out', 'skull.run.json'), 'utf8');
    expectNoIdentifiers(text);
    expectNoIdentifiers(r.out);
    // (the binary STL header is ours, not the patient's)
    expect(
      new TextDecoder('latin1').decode(readFileSync(join(work, 'out', 'skull.stl')).subarray(0, 80)),
    ).not.toContain('Zyxwuv');
  });

  it('skin -> GLB: the structure keeps its name, the volume matches, and the head-skin warning is given', async () => {
    const r = await cli([
      'convert',
      'ct_dicom_series',
      'head.glb',
      '--preset',
      'skin',
      '--keep-largest',
      '--decimate',
      '0.2',
      '--no-accuracy',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.warnings).toContain(HEAD_SKIN_WARNING);
    expect(summary.accuracy).toEqual([]);
    const rec = readRecord(join(work, 'head.run.json'));
    expect(rec.warnings).toContain(HEAD_SKIN_WARNING);
    const parts = await readGlb(join(work, 'head.glb'));
    expect(parts.length).toBe(1);
    expect(parts[0]!.name).toMatch(/skin/);
    const m = meshMetrics(parts[0]!.mesh);
    expect(m.triangles).toBe(rec.metrics.triangles);
    expect(m.closedManifold).toBe(true);
    expect(Math.abs(m.volumeMm3 - rec.metrics.volumeMm3) / rec.metrics.volumeMm3).toBeLessThan(1e-3);
    expectNoIdentifiers(readFileSync(join(work, 'head.run.json'), 'utf8'));
  });

  it('--color intensity writes grey vertex colours (PLY)', async () => {
    const r = await cli([
      'convert',
      'ct_dicom_series',
      'bone.ply',
      '--preset',
      'bone',
      '--decimate',
      '0.2',
      '--color',
      'intensity',
      '--no-accuracy',
    ]);
    expect(r.code).toBe(0);
    const g = new PLYLoader().parse(ab(new Uint8Array(readFileSync(join(work, 'bone.ply')))));
    const c = g.getAttribute('color');
    expect(c).toBeDefined();
    const rec = readRecord(join(work, 'bone.run.json'));
    expect(rec.steps.find((s: { step: string }) => s.step === 'color').options.mode).toBe('intensity');
    // grey and not all the same
    let lo = 1;
    let hi = 0;
    for (let v = 0; v < c!.count; v++) {
      expect(c!.getX(v)).toBeCloseTo(c!.getY(v), 6);
      lo = Math.min(lo, c!.getX(v));
      hi = Math.max(hi, c!.getX(v));
    }
    expect(hi - lo).toBeGreaterThan(0.3);
  });

  it('wrong usage is refused before loading, with a hint (exit code 2)', async () => {
    const bad = await cli(['convert', 'ct_dicom_series', 'model.xyz', '--preset', 'bone']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/cannot tell the model format.*\nhint: .*\.stl/);
    const none = await cli(['convert', 'ct_dicom_series', 'model.stl']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/nothing to segment with/);
    const dec = await cli(['convert', 'ct_dicom_series', 'model.stl', '--preset', 'bone', '--decimate', '0']);
    expect(dec.code).toBe(2);
    expect(dec.err).toMatch(/--decimate/);
    const ascii = await cli(['convert', 'ct_dicom_series', 'model.glb', '--preset', 'bone', '--ascii']);
    expect(ascii.code).toBe(2);
    expect(existsSync(join(work, 'model.stl'))).toBe(false);
    const empty = await cli(['convert', 'ct_dicom_series', 'model.stl', '--lower', '5000']);
    expect(empty.code).toBe(2);
    expect(empty.err).toMatch(/segmentation is empty/);
  });
});

describe('slice2solid mesh: from a label map', () => {
  it('two labels -> GLB with two named, coloured, closed structures; run record of kind labels', async () => {
    const grid = PHANTOM.grid;
    const data = new Uint8Array(voxelCount(grid));
    for (let n = 0; n < data.length; n++) {
      const hu = PHANTOM.data[n]!;
      data[n] = hu >= 226 ? 1 : hu >= 0 && hu <= 80 ? 2 : 0;
    }
    const labels = makeLabelMap({
      grid,
      data,
      segments: [
        { value: 1, name: 'skull', color: [241, 214, 145] },
        { value: 2, name: 'brain', color: [250, 160, 160] },
      ],
    });
    const out = writeNiftiLabels(labels, { gzip: true });
    writeFileSync(join(work, 'labels.nii.gz'), out.image);
    writeFileSync(join(work, 'labels.segments.json'), out.segmentsJson);
    const r = await cli(['mesh', 'labels.nii.gz', 'parts.glb', '--decimate', '0.3', '--watertight']);
    expect(r.err).toBe('');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/2 structure\(s\)/);
    const rec = readRecord(join(work, 'parts.run.json'));
    expect(rec.input.kind).toBe('labels');
    expect(rec.metrics.watertight).toBe(true);
    // mesh/decimate.ts opens some multi-structure nets today: then the model stays undecimated, and says so
    const dec = rec.steps.find((s: { step: string }) => s.step === 'decimate');
    if (dec.result.undecimated) expect(rec.warnings.join(' ')).toMatch(/left undecimated/);
    expect(rec.input.files).toBe(2); // the image and its segment table
    expect(rec.metrics.perStructure.map((s: { name: string }) => s.name)).toEqual(['skull', 'brain']);
    expect(rec.steps.find((s: { step: string }) => s.step === 'surface').options.method).toBe('surface-nets');
    for (const a of rec.accuracy) expect(a.dice).toBeGreaterThan(0.9);
    const parts = await readGlb(join(work, 'parts.glb'));
    expect(parts.map((p) => p.name)).toEqual(['skull', 'brain']);
    for (const p of parts) {
      const m = meshMetrics(p.mesh);
      expect(m.boundaryEdges).toBe(0);
      expect(m.volumeMm3).toBeGreaterThan(0);
    }
    expectNoIdentifiers(readFileSync(join(work, 'parts.run.json'), 'utf8'));
  });

  it('--labels picks structures; --color intensity needs --scan', async () => {
    const r = await cli(['mesh', 'labels.nii.gz', 'brain.stl', '--labels', '2', '--smooth', '5', '--no-accuracy']);
    expect(r.code).toBe(0);
    const rec = readRecord(join(work, 'brain.run.json'));
    expect(rec.metrics.perStructure.map((s: { name: string }) => s.name)).toEqual(['brain']);
    const bad = await cli(['mesh', 'labels.nii.gz', 'brain.stl', '--color', 'intensity']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--scan/);
    const missing = await cli(['mesh', 'labels.nii.gz', 'x.stl', '--labels', '7']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/label 7 is not in the label map/);
  });
});

describe('slice2solid demo ends with a model', () => {
  it('writes head-bone.stl and its run record next to the DICOM folder and prints the summary', async () => {
    const r = await cli(['demo', 'demo']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Round trip: OK/);
    expect(r.out).toMatch(/Model: head-bone\.stl: 1 structure\(s\), [\d,]+ triangles/);
    expect(r.out).toMatch(/bone .*watertight yes \(manifold-3d\)/);
    expect(r.out).toMatch(/Dice 0\.9\d+/);
    expect(readdirSync(join(work, 'demo')).sort()).toEqual(['dicom', 'head-bone.run.json', 'head-bone.stl']);
    const rec = readRecord(join(work, 'demo', 'head-bone.run.json'));
    expect(rec).toMatchObject({ command: 'demo', input: { kind: 'dicom', files: 112 }, metrics: { watertight: true } });
    const m = meshMetrics(readStl(join(work, 'demo', 'head-bone.stl')));
    expect(m.triangles).toBe(rec.metrics.triangles);
    expect(m.closedManifold).toBe(true);
    const j = JSON.parse((await cli(['demo', 'demo', '--json'])).out);
    expect(j.model.metrics.watertight).toBe(true);
    expect(j.model.accuracy[0].dice).toBeGreaterThan(0.95);
  });
});

describeData('slice2solid convert: VTK headsq (multi-file NRRD, not HU)', () => {
  it('bone at 1150 -> STL: closed, accurate, inside the scan', async () => {
    const nhdr = dataPath('ct-head-volumes', 'vtk-headsq', 'quarter.nhdr');
    // a HU preset is refused on this non-HU scan; an explicit threshold works
    const refused = await cli(['convert', nhdr, 'hq.stl', '--preset', 'bone']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/not HU/);
    const r = await cli(['convert', nhdr, 'hq.stl', '--lower', '1150', '--decimate', '0.5', '--watertight']);
    expect(r.code).toBe(0);
    const rec = readRecord(join(work, 'hq.run.json'));
    expect(rec.input).toMatchObject({ kind: 'nrrd', files: 94, geometry: { size: [64, 64, 93] } });
    const m = meshMetrics(readStl(join(work, 'hq.stl')));
    expect(m.triangles).toBe(rec.metrics.triangles);
    expect(m.triangles).toBeGreaterThan(10_000);
    expect(m.closedManifold).toBe(true);
    expect(Math.abs(m.volumeMm3 - rec.metrics.volumeMm3) / rec.metrics.volumeMm3).toBeLessThan(1e-4);
    expect(rec.accuracy[0].dice).toBeGreaterThan(0.95);
    expect(rec.accuracy[0].p95DistanceMm).toBeLessThan(2); // voxels are 3.2 x 3.2 x 1.5 mm
    const g = rec.input.geometry;
    // bounding box of the model within the scan's extent (plus half a voxel)
    for (let a = 0; a < 3; a++) {
      const extent = g.spacingMm[a] * (g.size[a] - 1);
      const lo = Math.min(g.originMm[a], g.originMm[a] + extent * Math.sign(g.direction[a][a]));
      const hi = Math.max(g.originMm[a], g.originMm[a] + extent * Math.sign(g.direction[a][a]));
      expect(m.bbox.min[a]).toBeGreaterThan(lo - g.spacingMm[a]);
      expect(m.bbox.max[a]).toBeLessThan(hi + g.spacingMm[a]);
    }
  });
});
