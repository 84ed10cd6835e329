import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LabelMap, makeGrid, makeLabelMap, makeVolume, type Volume } from '@slice2solid/core';
import { segmentsSidecarName, writeNifti, writeNiftiLabels, writeNrrdLabels } from '@slice2solid/io';
import { afterAll, describe, expect, it } from 'vitest';
import { discoverDataset, loadDatasetCase, parseCsv } from '../../../src/node/train/dataset.js';

const root = mkdtempSync(join(tmpdir(), 's2s-dataset-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tinyCase(seed: number): { image: Volume; labels: LabelMap } {
  const grid = makeGrid({ size: [6, 5, 4], spacing: [1, 1.5, 2], origin: [seed, 0, 0] });
  const img = new Float32Array(120);
  const lbl = new Uint8Array(120);
  for (let p = 0; p < 120; p++) {
    img[p] = (p * (seed + 1)) % 17;
    lbl[p] = p % 7 === 0 ? 1 : p % 11 === 0 ? 2 : 0;
  }
  return {
    image: makeVolume({ grid, data: img }),
    labels: makeLabelMap({
      grid,
      data: lbl,
      segments: [
        { value: 1, name: 'liver', color: [200, 100, 50] },
        { value: 2, name: 'spleen', color: [50, 100, 200] },
      ],
    }),
  };
}

function writeCase(imagePath: string, labelPath: string, seed: number): void {
  const c = tinyCase(seed);
  writeFileSync(imagePath, writeNifti(c.image, { gzip: true }));
  if (labelPath.endsWith('.nrrd')) {
    writeFileSync(labelPath, writeNrrdLabels(c.labels).image);
  } else {
    const out = writeNiftiLabels(c.labels);
    writeFileSync(labelPath, out.image);
    writeFileSync(join(labelPath, '..', segmentsSidecarName(labelPath.split('/').pop()!)), out.segmentsJson);
  }
}

function dir(name: string): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  return d;
}

describe('discoverDataset', () => {
  it('reads nnU-Net imagesTr/labelsTr', async () => {
    const d = dir('nnunet');
    mkdirSync(join(d, 'imagesTr'));
    mkdirSync(join(d, 'labelsTr'));
    for (const [n, id] of ['b', 'a', 'c'].entries()) {
      writeCase(join(d, 'imagesTr', `case_${id}_0000.nii.gz`), join(d, 'labelsTr', `case_${id}.nii.gz`), n);
    }
    writeFileSync(join(d, 'dataset.json'), '{}');
    const refs = await discoverDataset(d);
    expect(refs.map((r) => r.id)).toEqual(['case_a', 'case_b', 'case_c']);
    expect(refs[0]!.patient).toBe('case_a');
    expect(refs[0]!.image).toBe(join(d, 'imagesTr', 'case_a_0000.nii.gz'));
    expect(refs[0]!.labels).toBe(join(d, 'labelsTr', 'case_a.nii.gz'));
    const c = await loadDatasetCase(refs[1]!);
    expect(c.image.grid.size).toEqual([6, 5, 4]);
    expect(c.image.grid.origin[0]).toBeCloseTo(0, 5); // 'b' was written with seed 0
    expect(c.labels.segments.map((s) => s.name)).toEqual(['liver', 'spleen']);
    expect(Array.from(c.labels.data.slice(0, 8))).toEqual([1, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('reads <id>_image / <id>_seg pairs and names an unpaired file', async () => {
    const d = dir('pairs');
    writeCase(join(d, 'p1_image.nii.gz'), join(d, 'p1_seg.nii.gz'), 1);
    writeCase(join(d, 'p2_img.nii.gz'), join(d, 'p2_labels.nrrd'), 2);
    const refs = await discoverDataset(d);
    expect(refs.map((r) => r.id)).toEqual(['p1', 'p2']);
    const c = await loadDatasetCase(refs[1]!);
    expect(c.labels.grid.size).toEqual([6, 5, 4]);
    writeFileSync(join(d, 'p3_image.nii.gz'), writeNifti(tinyCase(3).image));
    await expect(discoverDataset(d)).rejects.toThrow(/case "p3" has an image but no labels/);
  });

  it('reads <id>/image + <id>/labels subfolders and says what a folder lacks', async () => {
    const d = dir('folders');
    for (const id of ['x1', 'x2']) {
      mkdirSync(join(d, id));
      writeCase(join(d, id, 'image.nii.gz'), join(d, id, 'labels.nii.gz'), 4);
    }
    const refs = await discoverDataset(d);
    expect(refs.map((r) => r.id)).toEqual(['x1', 'x2']);
    mkdirSync(join(d, 'x3'));
    writeFileSync(join(d, 'x3', 'image.nii.gz'), writeNifti(tinyCase(3).image));
    await expect(discoverDataset(d)).rejects.toThrow(/case folder "x3" has no labels/);
  });

  it('reads a CSV with patients, relative paths and quoting', async () => {
    const d = dir('csv');
    mkdirSync(join(d, 'scans'));
    writeCase(join(d, 'scans', 'a.nii.gz'), join(d, 'scans', 'a_lbl.nii.gz'), 1);
    writeCase(join(d, 'scans', 'b c.nii.gz'), join(d, 'scans', 'b_lbl.nii.gz'), 2);
    writeFileSync(
      join(d, 'list.csv'),
      'id,image,labels,patient\r\nA,scans/a.nii.gz,scans/a_lbl.nii.gz,P1\r\nB,"scans/b c.nii.gz",scans/b_lbl.nii.gz,P1\r\n',
    );
    const refs = await discoverDataset(join(d, 'list.csv'));
    expect(refs.map((r) => [r.id, r.patient])).toEqual([
      ['A', 'P1'],
      ['B', 'P1'],
    ]);
    expect(refs[1]!.image).toBe(join(d, 'scans', 'b c.nii.gz'));
    expect(refs[0]!.split).toBeUndefined();
    writeFileSync(
      join(d, 'fixed.csv'),
      'id,image,labels,patient,split\nA,scans/a.nii.gz,scans/a_lbl.nii.gz,P1,train\nB,"scans/b c.nii.gz",scans/b_lbl.nii.gz,P2,Validation\n',
    );
    expect((await discoverDataset(join(d, 'fixed.csv'))).map((r) => r.split)).toEqual(['train', 'val']);
    writeFileSync(join(d, 'badsplit.csv'), 'image,labels,split\nscans/a.nii.gz,scans/a_lbl.nii.gz,holdout\n');
    await expect(discoverDataset(join(d, 'badsplit.csv'))).rejects.toThrow(/split "holdout" is not train, val or test/);
    writeFileSync(join(d, 'bad.csv'), 'image,labels\nscans/a.nii.gz,scans/missing.nii.gz\n');
    await expect(discoverDataset(join(d, 'bad.csv'))).rejects.toThrow(/labels "scans\/missing.nii.gz" does not exist/);
    writeFileSync(join(d, 'nocol.csv'), 'scan,mask\nscans/a.nii.gz,scans/a_lbl.nii.gz\n');
    await expect(discoverDataset(join(d, 'nocol.csv'))).rejects.toThrow(/needs the columns "image" and "labels"/);
  });

  it('refuses an empty dataset and reports an unreadable file with its case', async () => {
    const d = dir('empty');
    writeFileSync(join(d, 'readme.txt'), 'nothing');
    await expect(discoverDataset(d)).rejects.toThrow(/holds no \(image, labels\) pairs/);
    const e = dir('broken');
    writeFileSync(join(e, 'k1_image.nii.gz'), new Uint8Array([1, 2, 3, 4]));
    writeCase(join(e, 'k1_tmp.nii.gz'), join(e, 'k1_labels.nii.gz'), 1);
    const refs = await discoverDataset(e);
    await expect(loadDatasetCase(refs[0]!)).rejects.toThrow(/case "k1": the image k1_image.nii.gz cannot be read/);
  });
});

describe('parseCsv', () => {
  it('handles quotes, doubled quotes, semicolons and blank lines', () => {
    expect(parseCsv('a,b\n"x,1","y""2"\n\n')).toEqual([
      ['a', 'b'],
      ['x,1', 'y"2'],
    ]);
    expect(parseCsv('a;b\n1;2')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });
});
