import { readFileSync } from 'node:fs';
const { readNifti } = await import('@slice2solid/io');
const { segmentVolume, maskSurface, smoothWindowedSinc, maskOfLabel, removeCoincidentTriangles, splitNonManifold } = await import('@slice2solid/ops');
const { MeshoptSimplifier } = await import('meshoptimizer/simplifier');
const { buildEdgeTable } = await import('../packages/ops/src/mesh/topology.ts');
const vol = await readNifti(new Uint8Array(readFileSync('bench-data/ct.nii')));
const lab = segmentVolume(vol, { preset: 'bone', force: true });
const sm = smoothWindowedSinc(maskSurface(maskOfLabel(lab, 1), lab.grid), {});
await MeshoptSimplifier.ready;
const [out] = MeshoptSimplifier.simplify(sm.indices, sm.positions, 3, Math.floor(sm.indices.length / 30) * 3, 1e30, ['ErrorAbsolute', 'LockBorder']);
let m = removeCoincidentTriangles({ positions: sm.positions, indices: out }).mesh;
m = splitNonManifold(m).mesh;
const nv = m.positions.length / 3;
const E = buildEdgeTable(m.indices, nv);
const hist = {};
for (let e = 0; e < E.count; e++) { const f = E.first[e]; const n = E.first[e + 1] - f; const k = n === 2 ? (E.heFwd[f] === E.heFwd[f + 1] ? 'inc' : 'ok') : 'n' + n; hist[k] = (hist[k] ?? 0) + 1;
  if (k !== 'ok') { const tris = []; for (let h = f; h < f + n; h++) { const tt = E.heTri[h]; tris.push([m.indices[3*tt], m.indices[3*tt+1], m.indices[3*tt+2]].join(' ')); } console.log(k, E.a[e], E.b[e], tris.join(' | ')); } }
console.log(hist);
