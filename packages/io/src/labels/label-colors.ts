/**
 * Default segment colours, for label files that carry no colour: the table lives in core
 * (packages/core/src/segment-colors.ts), shared with ops; re-exported here under io's names.
 */
export {
  DEFAULT_SEGMENT_COLORS as DEFAULT_LABEL_COLORS,
  defaultSegmentColor as defaultLabelColor,
} from '@slice2solid/core';
