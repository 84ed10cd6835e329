const { makeCtHeadPhantom, segmentVolume, maskOfLabel, maskSurface, voxelizeMesh, MeshDistanceIndex, modelAccuracy } = await import('@slice2solid/ops');
const v = makeCtHeadPhantom({});
const lab = segmentVolume(v, { preset: 'bone' });
const mask = maskOfLabel(lab, 1);
const mesh = maskSurface(mask, lab.grid);
for (let rep = 0; rep < 2; rep++) {
let t = performance.now();
voxelizeMesh(mesh, lab.grid); console.log('voxelize', (performance.now() - t) / 1000); t = performance.now();
new MeshDistanceIndex(mesh); console.log('index', (performance.now() - t) / 1000); t = performance.now();
modelAccuracy(mesh, mask, lab.grid); console.log('all', (performance.now() - t) / 1000);
}
