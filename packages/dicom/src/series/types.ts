/**
 * Public types of the DICOM series layer: series summaries, load warnings and the load report.
 * None of these carry patient identifiers (names, IDs, dates); the series UID is kept so that a
 * caller can pick a series, but it is never put into messages.
 */
import type { Units, Vec3 } from '@slice2solid/core';
import type { DicomFile, FrameInfo } from '../types.js';

/** One series (or one part of a series that had to be split) as shown to a user. */
export interface SeriesSummary {
  /** Position in the list (0-based); `series: '2'` picks the third. */
  readonly index: number;
  /** Unique id: the SeriesInstanceUID, plus a `#suffix` when one UID had to be split. */
  readonly id: string;
  readonly uid: string;
  readonly number?: number;
  readonly description?: string;
  readonly modality?: string;
  readonly imageType?: string;
  /** Columns, rows, distinct slice positions. */
  readonly size: Vec3;
  /** Repeated volumes (time points, diffusion directions...). 1 for a plain 3D image. */
  readonly frames: number;
  /** Number of files that contributed images. */
  readonly files: number;
  /** Number of 2D images (frames of multi-frame files, tiles of mosaics). */
  readonly images: number;
  /** Orientation code of the assembled stack (e.g. 'LPS' for axial, 'LIP' for coronal). */
  readonly orientation: string;
  /** Why this group was split from its SeriesInstanceUID, if it was (e.g. 'echo 2', 'image type FIELD_MAP'). */
  readonly split?: string;
  readonly lossy: boolean;
}

export type LoadWarningCode =
  | 'GANTRY_TILT'
  | 'UNEVEN_SPACING'
  | 'MISSING_SLICES'
  | 'MIXED_SIZES'
  | 'LOSSY_COMPRESSION'
  | 'MULTIPLE_SERIES'
  | 'PHILIPS_SCALING'
  | 'SKIPPED_FILES'
  | 'SPACING_ASSUMED'
  | 'RESAMPLED'
  | 'INCOMPLETE_VOLUMES'
  | 'SINGLE_SLICE'
  | 'BURNED_IN_ANNOTATION'
  | 'DUPLICATE_IMAGES';

export interface LoadWarning {
  readonly code: LoadWarningCode;
  readonly message: string;
}

/** What `loadDicomSeries` did, in terms a user can check. */
export interface LoadReport {
  readonly series: SeriesSummary;
  /** Why this series was chosen (option given, only one, or ranking). */
  readonly reason: string;
  readonly size: Vec3;
  readonly frames: number;
  readonly spacing: Vec3;
  readonly origin: Vec3;
  /** Direction matrix columns (direction[a] = LPS unit vector of index axis a). */
  readonly direction: readonly [Vec3, Vec3, Vec3];
  readonly orientation: string;
  readonly leftHanded: boolean;
  /** 'exact': the voxels are the stored pixels; 'regularized': resampled onto an orthogonal equidistant grid; 'raw': stored pixels on a sheared / mean-spaced grid. */
  readonly geometry: 'exact' | 'regularized' | 'raw';
  /** Angle (degrees) between the slice normal and the actual slice step; 0 for an orthogonal stack. */
  readonly tiltDegrees: number;
  /** Gantry/Detector Tilt tag value, if present. */
  readonly gantryTiltTag?: number;
  /** Distinct slice gaps (mm, along the slice normal) seen in the stack, rounded to 0.001 mm. */
  readonly sliceGaps: readonly number[];
  readonly intensityRange: readonly [number, number];
  readonly units: Units;
  readonly dataType: string;
  /** Rescale applied: one slope/intercept or 'per-frame'. */
  readonly rescale: { readonly slope: number; readonly intercept: number } | 'per-frame';
  /** Philips private scale slope (2005,100E) if present: reported, not applied (as dcm2niix's default). */
  readonly philipsScaleSlope?: number;
  readonly warnings: readonly LoadWarning[];
  readonly skippedFiles: readonly { readonly name: string; readonly reason: string }[];
}

/**
 * One 2D image inside the series layer: a frame of a file, or one tile of a Siemens mosaic frame.
 * Geometry is already resolved (mosaic tile positions corrected).
 */
export interface SliceImage {
  readonly file: DicomFile;
  /** Order of the file in the input list (stable tie-breaker). */
  readonly fileOrder: number;
  readonly frame: FrameInfo;
  readonly frameIndex: number;
  /** Mosaic tile index, or -1 for ordinary images. */
  readonly tile: number;
  /** Size of this image (tile size for mosaics). */
  readonly columns: number;
  readonly rows: number;
  readonly samples: number;
  /** LPS centre of the first pixel. */
  readonly position: Vec3;
  /** Unit vector along increasing column index i. */
  readonly rowDir: Vec3;
  /** Unit vector along increasing row index j. */
  readonly colDir: Vec3;
  /** [between columns (i), between rows (j)] in mm. */
  readonly pixelSpacing: readonly [number, number];
  readonly slope: number;
  readonly intercept: number;
  readonly echo?: number;
  readonly acquisition?: number;
  readonly temporal?: number;
  readonly instance?: number;
  readonly imageType?: string;
  /** Slice normal to sort along (row x column, or the CSA normal for mosaics). */
  readonly normal: Vec3;
  /** Whether the geometry was present (false: defaults were used for a 2D image without geometry). */
  readonly hasGeometry: boolean;
  readonly units?: string;
}
