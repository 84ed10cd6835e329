export { gunzipAsync } from './common/binary.js';
export * from './common/meta.js';
export * from './format.js';
export * from './image-stack.js';
export * from './labels/dicom-seg.js';
export * from './labels/label-colors.js';
export * from './labels/label-volume.js';
export * from './labels/nifti-labels.js';
export * from './labels/nrrd-labels.js';
export * from './labels/segment-table.js';
export {
  DEFAULT_PART_COLOR,
  DEFAULT_PART_NAME,
  formatFloat32,
  type MeshPart,
  meshParts,
  validateMesh,
} from './mesh/common.js';
export * from './mesh/glb.js';
export * from './mesh/obj.js';
export * from './mesh/ply.js';
export * from './mesh/stl.js';
export * from './mesh/threemf.js';
export * from './mesh/write-mesh.js';
export * from './metaimage.js';
export * from './nifti.js';
export * from './nrrd.js';
