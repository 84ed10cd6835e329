const { makeLabelMap, voxelCount } = await import('@slice2solid/core');
const { makeCtHeadPhantom, surfaceNets, submesh, meshMetrics, splitNonManifold, removeCoincidentTriangles } = await import('@slice2solid/ops');
const P = makeCtHeadPhantom({});
const data = new Uint8Array(voxelCount(P.grid));
for (let n = 0; n < data.length; n++) { const hu = P.data[n]; data[n] = hu >= 226 ? 1 : hu >= 0 && hu <= 80 ? 2 : 0; }
const lm = makeLabelMap({ grid: P.grid, data, segments: [] });
const m = surfaceNets(lm, {});
for (const g of m.groups) {
  const s = submesh(m, g.start, g.count);
  const a = meshMetrics(s);
  const sp = splitNonManifold(removeCoincidentTriangles(s).mesh);
  const b = meshMetrics(sp.mesh);
  console.log(g.name, 'raw', a.boundaryEdges, a.nonManifoldEdges, a.inconsistentEdges, 'split', sp.added, b.boundaryEdges, b.nonManifoldEdges, b.inconsistentEdges);
}
