globalThis.lim = 0;
import { readFileSync } from 'node:fs';
const { readNifti } = await import('@slice2solid/io');
const { segmentVolume, maskSurface, smoothWindowedSinc, decimate, maskOfLabel, meshMetrics } = await import('@slice2solid/ops');
const { MeshoptSimplifier } = await import('meshoptimizer/simplifier');
const { buildEdgeTable } = await import('../packages/ops/src/mesh/topology.ts');
const vol = await readNifti(new Uint8Array(readFileSync('bench-data/ct.nii')));
const lab = segmentVolume(vol, { preset: 'bone', force: true });
const raw = maskSurface(maskOfLabel(lab, 1), lab.grid);
let t = performance.now();
const sm = smoothWindowedSinc(raw, {});
console.log('smooth', (performance.now() - t) / 1000);
await MeshoptSimplifier.ready;
t = performance.now();
const [out, err] = MeshoptSimplifier.simplify(sm.indices, sm.positions, 3, Math.floor(sm.indices.length / 30) * 3, 1e30, ['ErrorAbsolute', 'LockBorder']);
console.log('simplify', (performance.now() - t) / 1000, out.length / 3);
t = performance.now();
const r2 = await decimate(sm, { targetRatio: 0.1 });
console.log('decimate()', (performance.now() - t) / 1000);
t = performance.now();
meshMetrics(r2.mesh);
console.log('metrics', (performance.now() - t) / 1000);
const nv = sm.positions.length / 3;
const E = buildEdgeTable(out, nv);
const hist = {};
for (let e = 0; e < E.count; e++) { const f = E.first[e]; const n = E.first[e + 1] - f; const k = n === 2 ? (E.heFwd[f] === E.heFwd[f + 1] ? 'inc' : 'ok') : 'n' + n; hist[k] = (hist[k] ?? 0) + 1; }
console.log(hist);
// duplicate triangles
const seen = new Map(); let dup = 0, opp = 0;
for (let i = 0; i < out.length; i += 3) { const s = [out[i], out[i+1], out[i+2]].sort((a,b)=>a-b).join(','); if (seen.has(s)) dup++; else seen.set(s, i); }
console.log('dup tris', dup);
for (let e = 0; e < E.count; e++) { const f = E.first[e]; const n = E.first[e + 1] - f; if (n !== 2) { const tris = []; for (let h = f; h < f + n; h++) { const tt = E.heTri[h]; tris.push([out[3*tt], out[3*tt+1], out[3*tt+2]].join(' ')); } console.log('edge', E.a[e], E.b[e], n, tris.join(' | ')); if (--globalThis.lim < 0) break; } }
// remove opposite pairs & dups
const key = (a,b,c)=>[a,b,c].sort((x,y)=>x-y).join(',');
const groups = new Map();
for (let i = 0; i < out.length; i += 3) { const k = key(out[i],out[i+1],out[i+2]); if (!groups.has(k)) groups.set(k, []); groups.get(k).push(i); }
const drop = new Uint8Array(out.length/3);
for (const [k, list] of groups) if (list.length > 1) { for (const i of list) drop[i/3] = 1; }
const kept = []; for (let i = 0; i < out.length; i += 3) if (!drop[i/3]) kept.push(out[i], out[i+1], out[i+2]);
const o2 = Uint32Array.from(kept);
const E2 = buildEdgeTable(o2, nv); const h2 = {};
for (let e = 0; e < E2.count; e++) { const f = E2.first[e]; const n = E2.first[e + 1] - f; const k = n === 2 ? (E2.heFwd[f] === E2.heFwd[f + 1] ? 'inc' : 'ok') : 'n' + n; h2[k] = (h2[k] ?? 0) + 1; }
console.log('after pair removal', h2, 'dropped', drop.reduce((a,b)=>a+b,0));
