const { makeLabelMap, voxelCount } = await import('@slice2solid/core');
const { makeCtHeadPhantom } = await import('../packages/ops/src/phantom/ct-head-phantom.ts'); const { buildModel } = await import('../packages/ops/src/pipeline/build-model.ts');
const P = makeCtHeadPhantom({});
const data = new Uint8Array(voxelCount(P.grid));
for (let n = 0; n < data.length; n++) { const hu = P.data[n]; data[n] = hu >= 226 ? 1 : hu >= 0 && hu <= 80 ? 2 : 0; }
const lm = makeLabelMap({ grid: P.grid, data, segments: [] });
let last = performance.now(), stage = '';
const r = await buildModel(lm, { decimate: Number(process.env.DEC ?? 1), watertight: process.env.WT === '1', accuracySamples: Number(process.env.NS ?? 50000), accuracy: process.env.ACC === '1', onProgress: (p) => { if (p.stage !== stage) { const n = performance.now(); console.log(`[${((n-last)/1000).toFixed(2)}] -> ${p.stage}`); last = n; stage = p.stage; } } });
for (const s of r.steps) console.log(s.step, s.seconds.toFixed(2), JSON.stringify(s.result ?? {}));
console.log(r.warnings);
