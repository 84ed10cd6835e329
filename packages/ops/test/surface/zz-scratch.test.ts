import { test } from 'vitest';
import { makeLabelMap } from '@slice2solid/core';
import { surfaceNets } from '../../src/surface/surface-nets.js';
import { maskSurface } from '../../src/surface/antialias-mask.js';
import { meshMetrics } from '../../src/mesh/metrics.js';
import { smoothWindowedSinc } from '../../src/mesh/smooth-windowed-sinc.js';
import { maskShape, sphere, testGrids, CENTRE, maxSurfaceError, torus, shell } from './phantoms.js';
test('q', () => {
  for (const { name, grid } of testGrids(20, 1).slice(2,4)) {
    for (const sh of [sphere(CENTRE, 14), torus(CENTRE, 10, 4, [0.3, 0.5, 0.8]), shell(CENTRE, 8, 15)]) {
      const mask = maskShape(sh, grid);
      const sn = surfaceNets(makeLabelMap({ grid, data: mask }));
      const res: string[] = [];
      for (const [n, m] of [['nets', sn], ['nets+sinc', smoothWindowedSinc(sn)], ...[0, 0.5, 0.7, 1].map((s) => [`mask${s}+sinc`, smoothWindowedSinc(maskSurface(mask, grid, { sigmaVoxels: s }))])] as const) {
        const mm = meshMetrics(m);
        res.push(`${n} ${mm.closedManifold} ${((mm.volumeMm3 / sh.volume - 1) * 100).toFixed(2)} ${maxSurfaceError(m, sh).toFixed(3)}`);
      }
      console.log(name, sh.name, res.join(' | '));
    }
  }
});
