/**
 * The Retain Safe Private Option's safe-list: private attributes slice2solid keeps when the user
 * asks for `retainSafePrivate`. Every other private attribute is always removed.
 *
 * Each entry names the private creator, the (odd) group and the element byte within the creator's
 * block (the "xx" in (gggg,xxee)). All entries are acquisition parameters that slice2solid or common
 * converters need to rebuild geometry or values; none holds names, IDs, dates or free text.
 * See docs/deidentification.md.
 */
export interface SafePrivateEntry {
  readonly creator: string;
  readonly group: number;
  readonly element: number;
  readonly name: string;
  readonly why: string;
}

export const SAFE_PRIVATE_ATTRIBUTES: readonly SafePrivateEntry[] = [
  {
    creator: 'SIEMENS MR HEADER',
    group: 0x0019,
    element: 0x0a,
    name: 'NumberOfImagesInMosaic',
    why: 'unpacks Siemens mosaics',
  },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0b, name: 'SliceMeasurementDuration', why: 'slice timing' },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0c, name: 'B_value', why: 'diffusion' },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0d, name: 'DiffusionDirectionality', why: 'diffusion' },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0e, name: 'DiffusionGradientDirection', why: 'diffusion' },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x27, name: 'B_matrix', why: 'diffusion' },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x29, name: 'MosaicRefAcqTimes', why: 'slice timing' },
  {
    creator: 'SIEMENS CSA HEADER',
    group: 0x0029,
    element: 0x10,
    name: 'CSA Image Header Info',
    why: 'mosaic slice normal and count (binary acquisition parameters; the CSA Series header is NOT kept)',
  },
  {
    creator: 'Philips MR Imaging DD 001',
    group: 0x2005,
    element: 0x0d,
    name: 'ScaleIntercept',
    why: 'Philips floating-point values',
  },
  {
    creator: 'Philips MR Imaging DD 001',
    group: 0x2005,
    element: 0x0e,
    name: 'ScaleSlope',
    why: 'Philips floating-point values',
  },
];

const SAFE = new Map<string, SafePrivateEntry>();
for (const e of SAFE_PRIVATE_ATTRIBUTES) SAFE.set(`${e.creator.toUpperCase()}|${e.group}|${e.element}`, e);

/** The safe-list entry for a private element, given its block's creator, or undefined. */
export function safePrivateEntry(
  creator: string | undefined,
  group: number,
  element: number,
): SafePrivateEntry | undefined {
  if (creator === undefined) return undefined;
  return SAFE.get(`${creator.trim().toUpperCase()}|${group}|${element & 0xff}`);
}
