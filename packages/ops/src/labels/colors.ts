/**
 * Default segment colours: the table lives in core (packages/core/src/segment-colors.ts), shared with
 * io; re-exported here under the names ops has always exported.
 */
export { DEFAULT_SEGMENT_COLORS, defaultSegmentColor } from '@slice2solid/core';
