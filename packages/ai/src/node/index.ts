export * from './onnxruntime-node.js';
