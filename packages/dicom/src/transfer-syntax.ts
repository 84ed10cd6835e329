/**
 * Transfer syntaxes slice2solid knows, and how their pixel data is stored.
 * PS3.5 §10 and Annex A; PS3.6 Annex A for the UIDs.
 */

/** How the pixel data of a transfer syntax is decoded. */
export type PixelCodec =
  | 'native'
  | 'rle'
  | 'jpeg-baseline'
  | 'jpeg-extended'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg2000'
  | 'htj2k';

export interface TransferSyntaxInfo {
  readonly uid: string;
  readonly name: string;
  /** Data set encoding. */
  readonly explicitVR: boolean;
  readonly bigEndian: boolean;
  readonly deflated: boolean;
  /** Pixel data is encapsulated (fragments). */
  readonly encapsulated: boolean;
  readonly codec: PixelCodec;
  /** The syntax is lossy (or may be lossy and, in practice, is used lossily). */
  readonly lossy: boolean;
}

export const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
export const EXPLICIT_VR_BE = '1.2.840.10008.1.2.2';
export const DEFLATED_EXPLICIT_VR_LE = '1.2.840.10008.1.2.1.99';

function ts(
  uid: string,
  name: string,
  codec: PixelCodec,
  lossy: boolean,
  extra: Partial<Pick<TransferSyntaxInfo, 'explicitVR' | 'bigEndian' | 'deflated'>> = {},
): TransferSyntaxInfo {
  return {
    uid,
    name,
    explicitVR: extra.explicitVR ?? true,
    bigEndian: extra.bigEndian ?? false,
    deflated: extra.deflated ?? false,
    encapsulated: codec !== 'native',
    codec,
    lossy,
  };
}

const TABLE: readonly TransferSyntaxInfo[] = [
  ts(IMPLICIT_VR_LE, 'Implicit VR Little Endian', 'native', false, { explicitVR: false }),
  ts(EXPLICIT_VR_LE, 'Explicit VR Little Endian', 'native', false),
  ts(EXPLICIT_VR_BE, 'Explicit VR Big Endian', 'native', false, { bigEndian: true }),
  ts(DEFLATED_EXPLICIT_VR_LE, 'Deflated Explicit VR Little Endian', 'native', false, { deflated: true }),
  ts('1.2.840.10008.1.2.5', 'RLE Lossless', 'rle', false),
  ts('1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)', 'jpeg-baseline', true),
  ts('1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 and 4)', 'jpeg-extended', true),
  // Retired syntaxes; in practice their bitstreams are sequential DCT (our DCT decoder also reads progressive).
  ts('1.2.840.10008.1.2.4.53', 'JPEG Spectral Selection, Non-Hierarchical (Process 6 and 8)', 'jpeg-extended', true),
  ts('1.2.840.10008.1.2.4.55', 'JPEG Full Progression, Non-Hierarchical (Process 10 and 12)', 'jpeg-extended', true),
  ts('1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)', 'jpeg-lossless', false),
  ts('1.2.840.10008.1.2.4.70', 'JPEG Lossless, First-Order Prediction (Process 14, SV1)', 'jpeg-lossless', false),
  ts('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless', 'jpeg-ls', false),
  ts('1.2.840.10008.1.2.4.81', 'JPEG-LS Lossy (Near-Lossless)', 'jpeg-ls', true),
  ts('1.2.840.10008.1.2.4.90', 'JPEG 2000 (Lossless Only)', 'jpeg2000', false),
  ts('1.2.840.10008.1.2.4.91', 'JPEG 2000', 'jpeg2000', true),
  ts('1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 (Lossless Only)', 'htj2k', false),
  ts('1.2.840.10008.1.2.4.202', 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)', 'htj2k', false),
  ts('1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000', 'htj2k', true),
];

const BY_UID = new Map(TABLE.map((t) => [t.uid, t]));

/** Facts about a transfer syntax, or undefined if slice2solid does not know it. */
export function transferSyntaxInfo(uid: string): TransferSyntaxInfo | undefined {
  return BY_UID.get(uid);
}

/** Every transfer syntax slice2solid can decode. */
export function supportedTransferSyntaxes(): readonly TransferSyntaxInfo[] {
  return TABLE;
}
