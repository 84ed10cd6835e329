export * from './onnxruntime-web.js';
export * from './webgpu-compat.js';
