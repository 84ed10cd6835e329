#!/usr/bin/env -S npx tsx --conditions source
/**
 * Builds the training dataset of the shipped model `models/ct-torso-small` from the public
 * labelled CTs in ../shared/data (never copied into the repository): three different patients,
 * written as aligned NIfTI pairs + `dataset.csv` into `.cache/ct-torso-small/dataset/`.
 *
 *   npx tsx --conditions source scripts/make-ct-torso-dataset.ts [--data ../shared/data] [--out .cache/ct-torso-small/dataset]
 *
 * Cases (patients are different people; the split is fixed by the `split` column):
 *   torso-a  totalsegmentator example_ct.nii.gz (3 mm torso) + example_seg_fast_force_split   -> train
 *   torso-c  dcmqi 3-slice CT (DICOM, loaded by us) + liver_spine_seg.nrrd                      -> val
 *   torso-b  totalsegmentator example_ct_dicom (20 JPEG 2000 slices, loaded by us)
 *            + example_seg_dicom.nii.gz                                                         -> test
 * The reference labels are TotalSegmentator model outputs (a, b) and dcmqi's example
 * segmentations (c), not manual ground truth. Every label map is put onto its image's own grid by
 * nearest-neighbour resampling in world (LPS) coordinates, then mapped to the model's classes:
 *   1 liver, 2 spleen, 3 kidney_left, 4 kidney_right, 5 spine (vertebrae, sacrum).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LabelMap, Volume } from '@slice2solid/core';
import { segmentsSidecarName, volumeFromLabelMap, writeNiftiLabels, writeVolume } from '@slice2solid/io';
import { resampleOnto } from '@slice2solid/ops';
import { readLabelFile } from '../packages/cli/src/commands/segment.js';
import { loadInput } from '../packages/cli/src/input.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
};

export const CLASSES = [
  { value: 1, name: 'liver', color: [221, 130, 101] },
  { value: 2, name: 'spleen', color: [157, 108, 162] },
  { value: 3, name: 'kidney_left', color: [185, 102, 83] },
  { value: 4, name: 'kidney_right', color: [185, 102, 83] },
  { value: 5, name: 'spine', color: [241, 214, 145] },
] as const;

function totalsegClass(name: string): number {
  if (name === 'liver') return 1;
  if (name === 'spleen') return 2;
  if (name === 'kidney_left') return 3;
  if (name === 'kidney_right') return 4;
  if (name.startsWith('vertebrae_') || name === 'sacrum') return 5;
  return 0;
}
function totalsegMap(data: string): Map<number, number> {
  const ts = JSON.parse(
    readFileSync(join(data, 'totalsegmentator-ct-mr', 'label_ids_total_total_mr_body.json'), 'utf8'),
  ).total as Record<string, string>;
  return new Map<number, number>(Object.entries(ts).map(([v, n]) => [Number(v), totalsegClass(n)]));
}

/** Puts `labels` on `image`'s grid (nearest, world coordinates) and maps values through `map`. */
function onImageGrid(image: Volume, labels: LabelMap, map: (v: number) => number): LabelMap {
  const r = resampleOnto(volumeFromLabelMap(labels), image.grid, { interpolation: 'nearest' });
  const out = new Uint8Array(r.data.length);
  for (let i = 0; i < out.length; i++) out[i] = map(Math.round(r.data[i] as number));
  const present = new Set(out);
  return {
    grid: image.grid,
    data: out,
    segments: CLASSES.filter((c) => present.has(c.value)).map((c) => ({
      value: c.value,
      name: c.name,
      color: [...c.color] as [number, number, number],
    })),
  } as unknown as LabelMap;
}

/** Writes the dataset (NIfTI pairs + dataset.csv) from the shared data folder `data` into `out`. */
export async function buildCtTorsoDataset(
  data: string,
  out: string,
  log: (line: string) => void = console.log,
): Promise<string> {
  const DATA = data;
  const OUT = out;
  const TOTALSEG_MAP = totalsegMap(DATA);
  mkdirSync(OUT, { recursive: true });
  const rows: string[] = ['id,patient,split,image,labels'];
  const write = (id: string, patient: string, split: string, image: Volume, labels: LabelMap) => {
    writeFileSync(join(OUT, `${id}_image.nii.gz`), writeVolume(image, `${id}_image.nii.gz`));
    const lab = writeNiftiLabels(labels);
    writeFileSync(join(OUT, `${id}_labels.nii.gz`), lab.image);
    writeFileSync(join(OUT, segmentsSidecarName(`${id}_labels.nii.gz`)), lab.segmentsJson);
    rows.push(`${id},${patient},${split},${id}_image.nii.gz,${id}_labels.nii.gz`);
    const counts = CLASSES.map((c) => `${c.name}=${labels.data.filter((v) => v === c.value).length}`).join(' ');
    log(
      `${id} (${split}): ${image.grid.size.join('x')} @ ${image.grid.spacing.map((s) => s.toFixed(2)).join('x')} mm; ${counts}`,
    );
  };

  const ts = join(DATA, 'totalsegmentator-ct-mr');
  const a = (await loadInput(join(ts, 'example_ct.nii.gz'))).volume;
  const aLab = await readLabelFile(join(ts, 'example_seg_fast_force_split.nii.gz'));
  write(
    'torso-a',
    'patient-a',
    'train',
    a,
    onImageGrid(a, aLab, (v) => TOTALSEG_MAP.get(v) ?? 0),
  );

  const dq = join(DATA, 'dcmqi-ct-3slice-seg');
  const c = (await loadInput(join(dq, 'ct-3slice'))).volume;
  const cLab = await readLabelFile(join(dq, 'liver_spine_seg.nrrd'));
  // the NRRD has no segment names; dcmqi's metadata/seg-example_liver_spine.json says
  // labelID 1 = "Liver", labelID 2 = "Thoracic spine"
  write(
    'torso-c',
    'patient-c',
    'val',
    c,
    onImageGrid(c, cLab, (v) => (v === 1 ? 1 : v === 2 ? 5 : 0)),
  );

  const b = (await loadInput(join(ts, 'example_ct_dicom'))).volume;
  const bLab = await readLabelFile(join(ts, 'example_seg_dicom.nii.gz'));
  write(
    'torso-b',
    'patient-b',
    'test',
    b,
    onImageGrid(b, bLab, (v) => TOTALSEG_MAP.get(v) ?? 0),
  );

  writeFileSync(join(OUT, 'dataset.csv'), `${rows.join('\n')}\n`);
  log(`wrote ${OUT}/dataset.csv`);
  return join(OUT, 'dataset.csv');
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  await buildCtTorsoDataset(
    resolve(arg('data', process.env.S2S_SHARED_DATA ?? join(import.meta.dirname, '..', '..', 'shared', 'data'))),
    resolve(arg('out', join(import.meta.dirname, '..', '.cache', 'ct-torso-small', 'dataset'))),
  );
}
