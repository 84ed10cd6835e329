/**
 * The contract between the DICOM file layer (parse.ts, decode/*) and the series layer
 * (series/*). The file layer turns bytes into a `DicomFile`; the series layer groups,
 * sorts and assembles `DicomFile`s into `Volume`s.
 */
import type { Vec3, VoxelArray } from '@slice2solid/core';

/** Geometry and pixel description of ONE frame (a classic file has one; enhanced multi-frame has many). */
export interface FrameInfo {
  /** Index of this frame inside its file (0-based). */
  readonly frameIndex: number;
  /** ImagePositionPatient (LPS mm, centre of the first transmitted pixel), if present. */
  readonly position?: Vec3;
  /** ImageOrientationPatient: [row direction (along columns index i), column direction (along rows index j)]. */
  readonly orientation?: readonly [Vec3, Vec3];
  /** PixelSpacing as [between columns (i), between rows (j)] in mm, i.e. DICOM's [1], [0] swapped to (i, j) order. */
  readonly pixelSpacing?: readonly [number, number];
  readonly sliceThickness?: number;
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
  /** Per-frame indices from the Frame Content / dimension index sequences (enhanced objects), if any. */
  readonly dimensionIndex?: readonly number[];
  readonly stackId?: string;
  readonly inStackPosition?: number;
  readonly temporalPosition?: number;
  readonly echoNumber?: number;
  readonly acquisitionNumber?: number;
  /** Free per-frame labels used to split stacks (e.g. 'MAGNITUDE', 'PHASE', 'B0_MAP'). */
  readonly imageType?: string;
  /** Philips private per-frame scale slope (2005,100E in the 2005,140F item), reported, not applied. */
  readonly philipsScaleSlope?: number;
  /** UCUM units of the values from a Real World Value Mapping (e.g. 'Hz'), if stated. */
  readonly units?: string;
}

/** Everything the series layer needs from one file. No patient identifiers are kept here. */
export interface DicomFile {
  /** A name to show in messages (file name or path as the caller gave it). */
  readonly name: string;
  readonly transferSyntaxUID: string;
  readonly sopClassUID?: string;
  readonly sopInstanceUID?: string;
  readonly studyInstanceUID?: string;
  readonly seriesInstanceUID?: string;
  readonly frameOfReferenceUID?: string;
  readonly seriesNumber?: number;
  readonly seriesDescription?: string;
  readonly instanceNumber?: number;
  readonly acquisitionNumber?: number;
  readonly echoNumber?: number;
  readonly modality?: string;
  readonly manufacturer?: string;
  readonly imageType?: string;
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly highBit: number;
  /** 0 unsigned, 1 two's complement. */
  readonly pixelRepresentation: number;
  readonly photometricInterpretation: string;
  readonly planarConfiguration: number;
  readonly numberOfFrames: number;
  /** Per-frame facts; length = numberOfFrames. */
  readonly frames: readonly FrameInfo[];
  /** Gantry/Detector Tilt (0018,1120) in degrees, if present. */
  readonly gantryTilt?: number;
  /** Philips private scale slope (2005,100E), reported, not applied (see docs). */
  readonly philipsScaleSlope?: number;
  /** Siemens mosaic: number of slices packed in the image (from CSA or 0019,100A). */
  readonly mosaicSlices?: number;
  /** Siemens mosaic slice normal from CSA (SliceNormalVector), if present. */
  readonly mosaicNormal?: Vec3;
  /** SpacingBetweenSlices (0018,0088) in mm, if present (classic multi-frame files: NM, some MR). */
  readonly spacingBetweenSlices?: number;
  readonly lossyCompression: boolean;
  readonly burnedInAnnotation?: string;
  /** Decodes frame `index` to stored values (before rescale): grey -> 1 sample, colour -> RGB interleaved. */
  decodeFrame(index: number): DecodedFrame;
  /**
   * Optional fast path (native grey frames): writes `stored * slope + intercept` of frame `index`
   * straight into `target` from `offset` (rows * columns values) and widens `range` ([min, max]) by
   * the values written. Only integer slope and intercept; the caller guarantees the values fit
   * `target`. Returns false, writing nothing, when the frame needs `decodeFrame` instead.
   */
  decodeFrameInto?(
    index: number,
    target: Int16Array | Float32Array,
    offset: number,
    slope: number,
    intercept: number,
    range: [number, number],
  ): boolean;
}

export interface DecodedFrame {
  /** Stored values, row-major (i fastest), samples interleaved; length rows * columns * samples. */
  readonly data: VoxelArray;
  /** 1 for grey, 3 for RGB (colour is always converted to RGB). */
  readonly samples: number;
}
