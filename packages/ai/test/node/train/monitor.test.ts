import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startMonitorServer, TensorBoardWriter } from '../../../src/node/train/monitor.js';
import { decodeEvent, readTfRecords } from '../../../src/train/tfevents.js';

const root = mkdtempSync(join(tmpdir(), 's2s-monitor-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('TensorBoardWriter', () => {
  it('appends scalar events that decode back, skipping non-finite values', () => {
    const w = new TensorBoardWriter(root, 1_700_000_000);
    w.scalars(1, { 'loss/train': 0.5, 'dice/val/mean': Number.NaN }, 1_700_000_001);
    w.scalars(2, { 'loss/train': 0.25 }, 1_700_000_002);
    expect(readdirSync(join(root, 'tb'))[0]).toMatch(/^events\.out\.tfevents\.1700000000\./);
    const ev = readTfRecords(new Uint8Array(readFileSync(w.path))).map(decodeEvent);
    expect(ev.map((e) => [e.step, e.values])).toEqual([
      [0, []],
      [1, [{ tag: 'loss/train', value: 0.5 }]],
      [2, [{ tag: 'loss/train', value: 0.25 }]],
    ]);
  });
});

describe('startMonitorServer', () => {
  it('serves the page on 127.0.0.1 and streams epochs as Server-Sent Events', async () => {
    const m = await startMonitorServer('test <run>');
    try {
      expect(m.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await (await fetch(m.url)).text();
      expect(page).toContain('test &#60;run&#62;');
      expect(page).toContain("new EventSource('/events')");
      expect(page).not.toMatch(/(src|href)=["']?https?:/);
      m.epoch({ epoch: 1, trainLoss: 0.9, meanValDice: 0.4 });
      // an SSE client gets the points so far, then new ones
      const got = await new Promise<string>((done, fail) => {
        let text = '';
        const req = request(`${m.url}events`, (res) => {
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            text += d;
            if (text.includes('event: init') && !text.includes('event: epoch')) m.epoch({ epoch: 2, trainLoss: 0.5 });
            if (text.includes('event: epoch')) {
              req.destroy();
              done(text);
            }
          });
        });
        req.on('error', fail);
        req.end();
      });
      expect(got).toContain('"epoch":1');
      expect(got).toMatch(/event: epoch\ndata: \{"epoch":2,"trainLoss":0\.5\}/);
      const data = await (await fetch(`${m.url}data`)).json();
      expect(data.points).toHaveLength(2);
    } finally {
      await m.close();
    }
  });
});
