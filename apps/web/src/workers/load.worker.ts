/**
 * Loader worker: reads the picked/dropped files, opens zips, loads the scan with the same code as
 * the CLI (app/input.ts) and hashes the input for the run record. The volume's voxels are
 * transferred to the page (moved, not copied); the worker is thrown away afterwards.
 */
import type { Vec3 } from '@slice2solid/core';
import { hashInputFiles } from '@slice2solid/ops';
import { type InputFile, loadFiles } from '../app/input.js';
import { initBrowserCodecs } from './codecs.js';
import { serve } from './serve.js';

export interface LoadRequest {
  readonly files: readonly { readonly name: string; readonly blob: Blob }[];
  readonly series?: string | undefined;
  readonly rawGeometry?: boolean | undefined;
  /** PNG/TIFF stacks: voxel spacing in mm. */
  readonly spacing?: Vec3 | undefined;
}

serve({
  async load(req: LoadRequest, onProgress) {
    const files: InputFile[] = [];
    let n = 0;
    for (const f of req.files) {
      files.push({ name: f.name, bytes: new Uint8Array(await f.blob.arrayBuffer()) });
      onProgress({ stage: 'read', done: ++n, total: req.files.length });
    }
    try {
      await initBrowserCodecs();
    } catch {
      // uncompressed data loads without the codecs; a compressed file reports the codec error itself
    }
    const loaded = await loadFiles(files, {
      series: req.series,
      rawGeometry: req.rawGeometry,
      spacing: req.spacing,
      onProgress,
    });
    onProgress({ stage: 'hash', done: 0, total: 1 });
    const hashes = await hashInputFiles(files);
    const v = loaded.volume;
    return {
      result: {
        kind: loaded.kind,
        container: loaded.container,
        fileCount: loaded.fileCount,
        skipped: loaded.skipped.slice(0, 200),
        skippedCount: loaded.skipped.length,
        warnings: loaded.warnings,
        dicom: loaded.dicom,
        hashes: { ...hashes, files: files.length },
        volume: {
          grid: v.grid,
          data: v.data,
          components: v.components,
          frames: v.frames,
          units: v.units,
          meta: v.meta,
        },
      },
      transfer: [v.data.buffer as ArrayBuffer],
    };
  },
});
