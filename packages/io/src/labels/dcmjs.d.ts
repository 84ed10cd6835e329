// Minimal typing of the parts of dcmjs (which ships no TypeScript types) used by dicom-seg.ts.
declare module 'dcmjs' {
  // biome-ignore lint/suspicious/noExplicitAny: dcmjs datasets are untyped JSON-like objects
  type Dataset = Record<string, any>;
  interface DicomDictInstance {
    meta: Dataset;
    dict: Dataset;
    write(options?: Record<string, unknown>): ArrayBuffer;
  }
  const dcmjs: {
    data: {
      DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): DicomDictInstance };
      DicomDict: new (meta: Dataset) => DicomDictInstance;
      DicomMetaDictionary: {
        naturalizeDataset(dict: Dataset): Dataset;
        denaturalizeDataset(ds: Dataset): Dataset;
      };
      Colors: {
        dicomlab2RGB(lab: readonly number[]): number[];
        rgb2DICOMLAB(rgb: readonly number[]): number[];
      };
    };
  };
  export default dcmjs;
}
