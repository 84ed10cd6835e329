// A valid model card for tests; tests change one field at a time.
export function testCard(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema: 'slice2solid-model-card/1',
    name: 'test-ct-threshold',
    version: '0.1.0',
    description: 'A 1x1x1 convolution that thresholds normalised CT; for tests only.',
    file: 'model.onnx',
    input: {
      channels: [{ name: 'CT', modality: 'CT', normalization: { type: 'ct', clip: [-1000, 1000], mean: 0, std: 100 } }],
      orientation: 'RAS',
      spacing: [1.5, 1.5, 1.5],
      patchSize: [16, 16, 16],
      interpolation: 'linear',
    },
    output: {
      activation: 'softmax',
      channels: 3,
      labels: [
        { channel: 0, value: 0, name: 'background' },
        {
          channel: 1,
          value: 1,
          name: 'ball',
          color: [200, 40, 40],
          code: { scheme: 'SCT', value: '123037004', meaning: 'Anatomical structure' },
        },
        { channel: 2, value: 2, name: 'box', color: [40, 40, 200] },
      ],
    },
    inference: { overlap: 0.5, mirrorAxes: [0], gaussianSigmaScale: 0.125 },
    license: { spdx: 'Apache-2.0' },
    training: { summary: 'Not trained: fixed weights.', datasets: [{ name: 'none', cases: 0 }] },
    validation: {
      summary: 'Checked on analytic phantoms.',
      cases: 0,
      metrics: [{ label: 'ball', dice: 0.99, hd95: 1.2 }],
    },
    intendedUse: 'Unit tests.',
    limitations: 'Not a medical device; thresholds synthetic phantoms only.',
    ...overrides,
  };
}
