/**
 * Independent watertightness check with manifold-3d (WASM): the mesh is handed to Manifold's own
 * constructor, which accepts only a closed, oriented 2-manifold. It shares no code with our
 * metrics, so it catches mistakes in both. Loaded lazily: the module is only fetched/compiled
 * when this check runs.
 */
import type { Mesh } from '@slice2solid/core';
import { checkMesh } from './topology.js';

export interface WatertightResult {
  /** Manifold accepted the mesh as a closed 2-manifold. */
  readonly watertight: boolean;
  /** Manifold's status ('NoError', 'NotManifold', ...). */
  readonly status: string;
  /** Genus and volume (mm³) as Manifold computes them (when watertight). */
  readonly genus?: number;
  readonly volumeMm3?: number;
}

type ManifoldModule = Awaited<ReturnType<typeof import('manifold-3d')['default']>>;
let modulePromise: Promise<ManifoldModule> | undefined;

async function loadManifold(): Promise<ManifoldModule> {
  if (!modulePromise) {
    modulePromise = (async () => {
      const { default: Module } = await import('manifold-3d');
      const wasm = await Module();
      wasm.setup();
      return wasm;
    })();
  }
  return modulePromise;
}

export async function checkWatertight(mesh: Mesh): Promise<WatertightResult> {
  checkMesh(mesh);
  if (mesh.indices.length === 0) return { watertight: false, status: 'Empty' };
  const wasm = await loadManifold();
  const m = new wasm.Mesh({
    numProp: 3,
    vertProperties: Float32Array.from(mesh.positions),
    triVerts: Uint32Array.from(mesh.indices),
  });
  let manifold: InstanceType<ManifoldModule['Manifold']> | undefined;
  try {
    manifold = new wasm.Manifold(m);
    const status = manifold.status();
    if (status !== 'NoError') return { watertight: false, status };
    return { watertight: true, status, genus: manifold.genus(), volumeMm3: manifold.volume() };
  } catch (e) {
    // Manifold throws for non-manifold input; the message carries its status
    const status = e instanceof Error ? e.message : String(e);
    return { watertight: false, status: status || 'NotManifold' };
  } finally {
    manifold?.delete();
  }
}
