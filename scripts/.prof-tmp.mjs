import { readFileSync } from 'node:fs';
const { readNifti } = await import('@slice2solid/io');
const { buildModel } = await import('@slice2solid/ops');
const t0 = performance.now();
const vol = await readNifti(new Uint8Array(readFileSync(process.argv[2] ?? 'bench-data/ct.nii')));
console.log('load', ((performance.now() - t0) / 1000).toFixed(2), vol.grid.size, vol.units);
let last = performance.now(); let stage = '';
const r = await buildModel(vol, { segment: { preset: 'bone', force: true }, decimate: 0.1, watertight: process.env.WT === '1', accuracy: process.env.ACC !== '0',
  onProgress: (p) => { if (p.stage !== stage) { const n = performance.now(); console.log(`  [${((n - last)/1000).toFixed(2)}s] -> ${p.stage}`); last = n; stage = p.stage; } } });
for (const s of r.steps) console.log(s.step, s.seconds.toFixed(2), JSON.stringify(s.result ?? {}));
console.log(JSON.stringify(r.metrics).slice(0, 400)); console.log(JSON.stringify(r.accuracy)); console.log(r.warnings);
console.log('total', ((performance.now() - t0) / 1000).toFixed(2), 'rss', (process.memoryUsage().rss / 1e9).toFixed(2), 'GB');
