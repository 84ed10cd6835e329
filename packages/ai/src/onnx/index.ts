export * from './read-onnx.js';
export * from './replace-initializers.js';
