import { SEGMENT_DEFAULTS } from '@slice2solid/ops';
import { describe, expect, it } from 'vitest';
import { parseSegmentArgs } from '../src/commands/segment-options.js';
import type { ParsedArgs } from '../src/commands/types.js';

const args = (values: ParsedArgs['values']): ParsedArgs => ({ values, positionals: [] });

describe('segment options shared by segment and convert', () => {
  it('maps the options onto SEGMENT_DEFAULTS', () => {
    const o = parseSegmentArgs(args({ preset: 'bone', lower: '-5.5', 'fill-holes-slice': true, 'otsu-keep': '2' }));
    expect(o).toMatchObject({
      preset: 'bone',
      lower: -5.5,
      upper: undefined,
      otsuClasses: SEGMENT_DEFAULTS.otsuClasses,
      otsuKeep: 2,
      fillHoles: 'slice',
      connectivity: SEGMENT_DEFAULTS.connectivity,
      frame: SEGMENT_DEFAULTS.frame,
    });
    expect(parseSegmentArgs(args({ 'fill-holes': true, connectivity: '6' }))).toMatchObject({
      fillHoles: true,
      connectivity: 6,
    });
  });

  // regression: "segment" used a looser parser than "convert": an empty --lower was read as 0 and
  // fractional --frame / --otsu-classes / --otsu-keep were passed on
  it.each([
    [{ lower: '' }, /--lower must be a number/],
    [{ upper: ' ' }, /--upper must be a number/],
    [{ frame: '0.5' }, /--frame must be a whole number/],
    [{ 'otsu-classes': '2.5' }, /--otsu-classes must be a whole number/],
    [{ 'otsu-keep': '1.5' }, /--otsu-keep must be a whole number/],
    [{ 'otsu-classes': '1' }, /--otsu-classes must be a number >= 2/],
    [{ close: '-1' }, /--close must be a number >= 0/],
    [{ connectivity: '8' }, /--connectivity must be 6, 18 or 26/],
    [{ preset: 'bones' }, /unknown preset "bones"/],
  ] as const)('refuses %o', (values, msg) => {
    expect(() => parseSegmentArgs(args(values))).toThrow(msg);
  });
});
