// Reads the VTK "headsq" CT (93 raw 64x64 int16 LE slices, masked with 0x7fff as VTK's reader
// does) and binary STL reference surfaces, for the VTK comparison tests and the benchmark.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { type Mesh, makeGrid, makeVolume, type Volume } from '@slice2solid/core';
import { dataPath } from '../../../../test-utils/shared-data.js';

/**
 * The headsq volume on a grid with identity direction, spacing 3.2 x 3.2 x 1.5 and origin 0
 * (quarter.1 at z = 0). The data has no patient orientation; with an identity direction our
 * "LPS" coordinates are numerically x = i*3.2, y = j*3.2, z = k*1.5 — VTK's image frame — so the
 * meshes can be compared with VTK's output as they are (no LPS/RAS conversion involved).
 */
export function readHeadsq(): Volume {
  const nx = 64;
  const ny = 64;
  const nz = 93;
  const data = new Int16Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    const buf = readFileSync(dataPath('ct-head-volumes', 'vtk-headsq', `quarter.${k + 1}`));
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let n = 0; n < nx * ny; n++) data[k * nx * ny + n] = dv.getInt16(2 * n, true) & 0x7fff;
  }
  return makeVolume({ grid: makeGrid({ size: [nx, ny, nz], spacing: [3.2, 3.2, 1.5] }), data, units: 'arbitrary' });
}

/** A binary STL (optionally gzipped) as an unwelded triangle soup. */
export function readStl(path: string): Mesh {
  let buf: Uint8Array = readFileSync(path);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = dv.getUint32(80, true);
  const positions = new Float32Array(9 * n);
  for (let t = 0; t < n; t++) {
    const o = 84 + 50 * t + 12;
    for (let m = 0; m < 9; m++) positions[9 * t + m] = dv.getFloat32(o + 4 * m, true);
  }
  const indices = Uint32Array.from({ length: 3 * n }, (_, i) => i);
  return { positions, indices };
}

export function headsqReference(which: 'skin' | 'bone'): { mesh: Mesh; stats: Record<string, number> } {
  const dir = dataPath('ct-head-volumes', 'vtk-headsq-reference-isosurfaces');
  const file =
    which === 'skin' ? 'headsq_skin_iso500_vtkFlyingEdges3D.stl.gz' : 'headsq_bone_iso1150_vtkFlyingEdges3D.stl.gz';
  const json = JSON.parse(readFileSync(`${dir}/headsq_isosurface_stats_vtk.json`, 'utf8'));
  return { mesh: readStl(`${dir}/${file}`), stats: json.results[`${which}_vtkFlyingEdges3D`] };
}
