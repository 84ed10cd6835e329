import { describe, expect, it } from 'vitest';
import { OverfitDetector, progressLine } from '../../src/train/overfit.js';
import {
  crc32c,
  decodeEvent,
  maskedCrc32c,
  readTfRecords,
  scalarEvent,
  TfEventsEncoder,
  tfEventsFileName,
  tfRecord,
} from '../../src/train/tfevents.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('CRC-32C', () => {
  it('matches the known check values (RFC 3720 B.4 and the "123456789" check)', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, n) => n))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, n) => 31 - n))).toBe(0x113fdb5c);
  });
  it('masks as TFRecord does', () => {
    const c = crc32c(ascii('abc'));
    expect(maskedCrc32c(ascii('abc'))).toBe(((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0);
  });
});

describe('event files', () => {
  it('round-trips a file of scalar events through the framing and the protobuf decoder', () => {
    const enc = new TfEventsEncoder();
    const t0 = 1_700_000_000.25;
    const parts = [
      enc.start(t0),
      enc.scalars(t0 + 1, 1, [
        { tag: 'loss/train', value: 0.75 },
        { tag: 'dice/val/liver', value: 0.5 },
      ]),
      enc.scalars(t0 + 2, 300, [{ tag: 'lr', value: 1e-3 }]),
    ];
    const file = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      file.set(p, at);
      at += p.length;
    }
    const events = readTfRecords(file).map(decodeEvent);
    expect(events[0]).toEqual({ wallTime: t0, step: 0, fileVersion: 'brain.Event:2', values: [] });
    expect(events[1]).toEqual({
      wallTime: t0 + 1,
      step: 1,
      values: [
        { tag: 'loss/train', value: 0.75 },
        { tag: 'dice/val/liver', value: 0.5 },
      ],
    });
    expect(events[2]!.step).toBe(300);
    expect(events[2]!.values[0]!.value).toBeCloseTo(1e-3, 9);
    // a flipped byte is caught by the CRC
    const bad = file.slice();
    bad[bad.length - 6]! ^= 1;
    expect(() => readTfRecords(bad)).toThrow(/CRC/);
    expect(() => readTfRecords(file.subarray(0, file.length - 3))).toThrow(/cut short/);
  });

  it('encodes the protobuf bytes exactly (hand-checked wire format)', () => {
    const ev = scalarEvent(0, 2, [{ tag: 'a', value: 1 }]);
    // Event: 09 <double 0> 10 02 2a 0a <Summary: 0a 08 <Value: 0a 01 61 15 <float 1.0 = 00 00 80 3f>>>
    expect(Array.from(ev)).toEqual([
      0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x02, 0x2a, 0x0a, 0x0a, 0x08, 0x0a, 0x01, 0x61, 0x15, 0, 0, 0x80, 0x3f,
    ]);
    const rec = tfRecord(ev);
    expect(rec.length).toBe(ev.length + 16);
    expect(new DataView(rec.buffer).getUint32(8, true)).toBe(maskedCrc32c(rec.subarray(0, 8)));
  });

  it('names files as TensorBoard does', () => {
    expect(tfEventsFileName(1700000000.9, 'my host')).toBe('events.out.tfevents.1700000000.my_host');
  });
});

describe('OverfitDetector', () => {
  it('warns once when training loss falls while validation Dice falls for N epochs', () => {
    const d = new OverfitDetector({ patience: 3 });
    const dice = [0.5, 0.7, 0.8, 0.78, 0.75, 0.7, 0.65];
    const warnings = dice.flatMap((v, e) => d.add({ epoch: e + 1, trainLoss: 1 - e * 0.1, meanValDice: v }));
    expect(warnings.map((w) => [w.epoch, w.kind])).toEqual([[6, 'diverging']]);
    expect(warnings[0]!.message).toMatch(/validation Dice fell \(0\.800 -> 0\.700\)/);
  });

  it('does not warn while validation Dice improves or holds', () => {
    const d = new OverfitDetector({ patience: 2 });
    const out = [0.5, 0.6, 0.6, 0.65, 0.64, 0.66].flatMap((v, e) =>
      d.add({ epoch: e + 1, trainLoss: 1 - e * 0.1, valLoss: 1 - e * 0.09, meanValDice: v }),
    );
    expect(out).toEqual([]);
  });

  it('warns about a large, growing train/validation gap', () => {
    const d = new OverfitDetector({ gapRatio: 2 });
    const out = [
      [0.8, 0.85],
      [0.5, 0.7],
      [0.3, 0.65],
      [0.2, 0.7],
    ].flatMap(([t, v], e) => d.add({ epoch: e + 1, trainLoss: t!, valLoss: v! }));
    expect(out.map((w) => [w.epoch, w.kind])).toEqual([[4, 'gap']]);
  });

  it('progressLine shows the fraction and an ETA', () => {
    expect(progressLine(5, 10, 50, 'epoch 5/10', 10)).toBe('[#####-----]  50% epoch 5/10 ETA 50s');
    expect(progressLine(1, 4, 100, 'x', 4)).toBe('[#---]  25% x ETA 5m00s');
  });
});
