import { readFileSync } from 'node:fs';
import { readNifti, readNrrd } from '@slice2solid/io';
import { it } from 'vitest';
import { dataPath } from '../../../../test-utils/shared-data.js';
import { keepLargest } from '../../src/components/keep-largest.js';
import { scribbleSegment } from '../../src/scribble/scribble-segment.js';
import { correctSlice, dice, strokesFromReference } from './strokes.js';

const cfg = JSON.parse(process.env.EXP ?? '{}');
it('headsq', async () => {
  const dir = dataPath('ct-head-volumes', 'vtk-headsq');
  const ct = await readNrrd(new Uint8Array(readFileSync(`${dir}/quarter.nhdr`)), {
    readFile: (f) => new Uint8Array(readFileSync(`${dir}/${f}`)),
  });
  for (let p = 0; p < ct.data.length; p++) ct.data[p] = ct.data[p]! & 0x7fff;
  console.log(ct.grid);
  const thr = new Uint8Array(ct.data.length);
  for (let p = 0; p < thr.length; p++) thr[p] = ct.data[p]! >= 1150 ? 1 : 0;
  const ref = keepLargest(thr, ct.grid);
  const [nx, ny, nz] = ct.grid.size;
  const slices = cfg.slices ?? [15, 35, 55, 75];
  const strokes = strokesFromReference(ref, [nx, ny, nz], slices, { inside: 150, near: 150, far: 100, gapPx: 0, nearPx: 2, seed: 7, ...cfg.strokes });
  const t = performance.now();
  const r = scribbleSegment(ct, strokes, { keepLargest: cfg.keep ?? [], features: cfg.features, forest: cfg.forest });
  console.log('time', performance.now() - t, r.timings, r.model.samples, r.model.forest.feature.length);
  const nxy = nx * ny;
  const used = new Set(slices);
  console.log('dice rest', dice(r.labels.map((v) => (v === 1 ? 1 : 0)), ref, (p) => !used.has(Math.floor(p / nxy))));
});
it('liver', () => {
  const d = (f: string) => new Uint8Array(readFileSync(dataPath('totalsegmentator-ct-mr', f)));
  const ct = readNifti(d(cfg.ct ?? 'example_ct_sm.nii.gz'));
  const seg = readNifti(d(cfg.seg ?? 'example_seg.nii.gz'));
  console.log(ct.grid, seg.grid, ct.data.constructor.name);
  const ref = new Uint8Array(seg.data.length);
  for (let p = 0; p < ref.length; p++) ref[p] = seg.data[p] === 5 ? 1 : 0;
  const [nx, ny, nz] = ct.grid.size;
  const slices = cfg.slices ?? [4, 12, 20, 27];
  const strokes = strokesFromReference(ref, [nx, ny, nz], slices, { inside: 300, near: 200, far: 200, gapPx: 1, nearPx: 3, seed: 7, farWhere: cfg.body ? (p: number) => ct.data[p]! > -300 : undefined, ...cfg.strokes });
  const r = scribbleSegment(ct, strokes, { keepLargest: cfg.keep ?? [], features: cfg.features, forest: cfg.forest });
  console.log(r.timings, r.model.samples, r.model.forest.feature.length);
  const nxy = nx * ny;
  const used = new Set(slices);
  const lab = r.labels.map((v) => (v === 1 ? 1 : 0));
  console.log('dice rest', dice(lab, ref, (p) => !used.has(Math.floor(p / nxy))));
  let fp = 0, fn = 0; const perK: string[] = [];
  for (let k = 0; k < nz; k++) { let a = 0, b = 0; for (let p = k * nxy; p < (k + 1) * nxy; p++) { if (lab[p] && !ref[p]) { fp++; a++; } if (!lab[p] && ref[p]) { fn++; b++; } } perK.push(`${k}:${a}/${b}`); }
  console.log('fp', fp, 'fn', fn, 'ref', ref.reduce((a, b) => a + b, 0), perK.join(' '));
});
it('iter', () => {
  const d = (f: string) => new Uint8Array(readFileSync(dataPath('totalsegmentator-ct-mr', f)));
  const ct = readNifti(d(cfg.ct ?? 'example_ct.nii.gz'));
  const seg = readNifti(d(cfg.seg ?? 'example_seg_fast_force_split.nii.gz'));
  const ref = new Uint8Array(seg.data.length);
  for (let p = 0; p < ref.length; p++) ref[p] = seg.data[p] === 5 ? 1 : 0;
  const [nx, ny, nz] = ct.grid.size;
  const nxy = nx * ny;
  const slices: number[] = cfg.slices ?? [74, 84, 94, 104];
  const strokes = strokesFromReference(ref, [nx, ny, nz], slices, { inside: 300, near: 200, far: 200, gapPx: 1, nearPx: 3, seed: 7, farWhere: cfg.body ? (p: number) => ct.data[p]! > -300 : undefined, ...cfg.strokes });
  const used = new Set(slices);
  const region = cfg.region ? Uint8Array.from(ct.data, (v) => (v > cfg.region ? 1 : 0)) : undefined;
  const opts = { keepLargest: cfg.keep ?? [1], features: cfg.features, forest: cfg.forest, region };
  const labs: Uint8Array[] = [];
  for (let round = 0; round < (cfg.rounds ?? 3); round++) {
    const r = scribbleSegment(ct, strokes, opts);
    const lab = r.labels.map((v) => (v === 1 ? 1 : 0));
    labs.push(lab);
    // errors per slice
    const err = new Float64Array(nz);
    for (let p = 0; p < lab.length; p++) if (lab[p] !== ref[p]) err[Math.floor(p / nxy)]!++;
    console.log('round', round, r.timings, 'dice rest', dice(lab, ref, (p) => !used.has(Math.floor(p / nxy))), 'painted', slices.join(','));
    const fpk: string[] = [];
    for (let k = 0; k < nz; k++) { let a = 0, b = 0, c = 0; for (let p = k * nxy; p < (k + 1) * nxy; p++) { if (lab[p] && !ref[p]) a++; if (!lab[p] && ref[p]) b++; if (ref[p]) c++; } if (a + b) fpk.push(`${k}:${a}/${b}/${c}`); }
    if (cfg.verbose) console.log('FP/FN/ref', fpk.join(' '));
    // user corrects the 2 worst unpainted slices: paints up to 150 wrong voxels of each kind there
    const worst = [...err.keys()].filter((k) => !used.has(k)).sort((a, b) => err[b]! - err[a]!).slice(0, cfg.fix ?? 2);
    for (const k of worst) {
      used.add(k); slices.push(k);
      correctSlice(strokes, lab, ref, [nx, ny, nz], k, cfg.count ?? 150, cfg.cgap ?? 1, k);
    }
  }
  console.log('final held-out dice per round', labs.map((l) => dice(l, ref, (p) => !used.has(Math.floor(p / nxy))).toFixed(4)).join(' '));
});
