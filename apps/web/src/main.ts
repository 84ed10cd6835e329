/**
 * The page: wires the DOM to the state, the workers and the views.
 *
 * Memory: the page holds the scan's voxels once (transferred from the loader worker, not copied)
 * and the current label array; the segmentation worker holds one read-only copy of the scan (sent
 * once per load). Each whole-volume step sends the labels and gets a new array back (moved); the
 * previous array stays alive only as the undo step.
 */
import './styles.css';
import type { SegmentWithModelReport } from '@slice2solid/ai';
import {
  lpsFromIjk,
  orientationCode,
  type Progress,
  type Segment,
  type Vec3,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import type { LoadReport, SeriesSummary } from '@slice2solid/dicom';
import type { MeshFormat } from '@slice2solid/io';
import {
  BUILD_MODEL_DEFAULTS,
  type InputRecord,
  inputRecord,
  looksLikeHounsfield,
  type OutputRecord,
  RANDOM_FOREST_DEFAULTS,
  resolveFeatureSettings,
  SCRIBBLE_SEGMENT_DEFAULTS,
  type StepRecord,
  THRESHOLD_PRESET_NAMES,
  THRESHOLD_PRESETS,
  type ThresholdPresetName,
} from '@slice2solid/ops';
import pkg from '../package.json';
import { LabelHistory } from './app/history.js';
import { addStructure, hexOf, labelCounts, paintDisc, rgbOf } from './app/labels-edit.js';
import {
  type ModelPackage,
  modalityNote,
  modelStructures,
  planModelStructures,
  readModelPackage,
} from './app/model-package.js';
import { intensityStats, labelLut, presetWindow, WINDOW_PRESETS, type WindowLevel } from './app/render-slice.js';
import {
  paintScribble,
  SCRIBBLE_BACKGROUND,
  SCRIBBLE_COLORS,
  SCRIBBLE_STRUCTURE,
  type ScribbleInk,
  scribbleCounts,
  scribbleProblem,
} from './app/scribble.js';
import type { ViewName } from './app/view-geometry.js';
import { SliceView } from './views/slice-view.js';
import { ThreeView } from './views/three-view.js';
import type { BuiltModel } from './workers/build.worker.js';
import { TaskError, TaskWorker } from './workers/client.js';

// ---------- DOM ----------
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const statusEl = $('status');
const progressEl = $<HTMLProgressElement>('progress');
const cancelBtn = $<HTMLButtonElement>('cancel');
const errorEl = $('error');
const seriesBox = $('series-box');
const seriesList = $('series-list');
const geometryEl = $('geometry-report');
const windowSel = $<HTMLSelectElement>('window-preset');
const wlCenter = $<HTMLInputElement>('wl-center');
const wlWidth = $<HTMLInputElement>('wl-width');
const cursorEl = $('cursor');
const structuresEl = $<HTMLUListElement>('structures');
const thresholdSel = $<HTMLSelectElement>('threshold-preset');
const thLower = $<HTMLInputElement>('th-lower');
const thUpper = $<HTMLInputElement>('th-upper');
const thLive = $<HTMLInputElement>('th-live');
const undoBtn = $<HTMLButtonElement>('undo');
const redoBtn = $<HTMLButtonElement>('redo');
const modelReport = $('model-report');
const smoothIt = $<HTMLInputElement>('smooth-iterations');
const passBand = $<HTMLInputElement>('pass-band');
const decimate = $<HTMLInputElement>('decimate');
const watertight = $<HTMLInputElement>('watertight');
const scribbleCountsEl = $('scribble-counts');
const openModel = $<HTMLInputElement>('open-model');
const modelInfo = $('model-info');
const modelStructuresBox = $('model-structures-box');
const modelStructuresEl = $('model-structures');
const modelRunReport = $('model-run-report');
const roiFirst = $<HTMLInputElement>('model-roi-first');

// ---------- workers ----------
const newLoader = () => new Worker(new URL('./workers/load.worker.ts', import.meta.url), { type: 'module' });
const compute = new TaskWorker(
  () => new Worker(new URL('./workers/compute.worker.ts', import.meta.url), { type: 'module' }),
);
const builder = new TaskWorker(
  () => new Worker(new URL('./workers/build.worker.ts', import.meta.url), { type: 'module' }),
);
let loader: TaskWorker | undefined;

// ---------- state ----------
interface LoadResult {
  kind: string;
  container: string;
  fileCount: number;
  skipped: { name: string; reason: string }[];
  skippedCount: number;
  warnings: string[];
  dicom?: { report: LoadReport; series: SeriesSummary[] };
  hashes: { sha256: string; fileSha256?: string[]; bytes: number; files: number };
  volume: Volume;
}

interface Scan {
  readonly volume: Volume;
  readonly load: LoadResult;
  readonly stats: ReturnType<typeof intensityStats>;
  readonly hu: boolean;
  readonly files: { name: string; blob: Blob }[];
  readonly loadSeconds: number;
  readonly series: string | undefined;
}

let scan: Scan | undefined;
let labels: Uint8Array | undefined;
/** Scribble strokes, beside the label map: 0 = none, 1 = structure, 2 = background. */
let scribbles: Uint8Array | undefined;
/** The AI model opened from disk (card + ONNX bytes), and the worker generation holding its session. */
let aiModel: (ModelPackage & { provider?: string }) | undefined;
let aiModelGeneration = -1;
/** Structures of the open model the user unticked (kept while the panel is redrawn). */
const aiUnpicked = new Set<string>();
let segments: Segment[] = [];
let active = 0;
const hidden = new Set<number>();
let cursor: [number, number, number] = [0, 0, 0];
let wl: WindowLevel = { center: 40, width: 400 };
const history = new LabelHistory();
let computeGeneration = -1;
let editSteps: StepRecord[] = [];
let model: BuiltModel | undefined;
let modelOutputs: OutputRecord[] = [];
let exportSteps: StepRecord[] = [];
let runAt = new Date();
let busy = false;

// ---------- status, progress, errors ----------
function setStatus(text: string): void {
  statusEl.textContent = text;
}

function showError(e: unknown): void {
  const code = e instanceof TaskError ? e.code : '';
  if (code === 'ABORTED') {
    setStatus(scan ? 'Ready (the last step was cancelled)' : 'Cancelled: no scan loaded');
    return;
  }
  const msg = e instanceof Error ? e.message : String(e);
  errorEl.textContent = '';
  const p = document.createElement('p');
  p.textContent = `Error: ${msg}`;
  errorEl.append(p);
  // S2SError (page side) and TaskError (from a worker) both carry a hint
  const given = e && typeof e === 'object' && 'hint' in e ? (e as { hint: unknown }).hint : undefined;
  const hint = typeof given === 'string' ? given : undefined;
  if (hint && !msg.includes(hint)) {
    const h = document.createElement('p');
    h.textContent = `What to do: ${hint}`;
    errorEl.append(h);
  }
}

function clearError(): void {
  errorEl.textContent = '';
}

const STAGE_NAMES: Record<string, string> = {
  read: 'Reading files',
  parse: 'Reading DICOM',
  decode: 'Decoding images',
  hash: 'Fingerprinting the input',
};

function progress(label: string): (p: Progress) => void {
  return (p) => {
    const stage = STAGE_NAMES[p.stage] ?? p.stage;
    progressEl.hidden = false;
    progressEl.max = Math.max(1, p.total);
    progressEl.value = Math.min(p.done, p.total);
    setStatus(`${label}: ${stage} ${p.done}/${p.total}`);
  };
}

/** Runs a long step with progress and Cancel; one at a time. */
async function task<T>(label: string, worker: TaskWorker, fn: (onProgress: (p: Progress) => void) => Promise<T>) {
  if (busy) {
    showError(new Error('another step is still running: wait for it, or cancel it first'));
    return undefined;
  }
  busy = true;
  clearError();
  updateButtons();
  setStatus(`${label}…`);
  progressEl.hidden = false;
  progressEl.removeAttribute('value');
  cancelBtn.hidden = false;
  cancelBtn.onclick = () => worker.cancel();
  try {
    const r = await fn(progress(label));
    setStatus('Ready');
    return r;
  } catch (e) {
    showError(e);
    if (!(e instanceof TaskError && e.code === 'ABORTED')) setStatus(scan ? 'Ready' : 'No scan loaded');
    return undefined;
  } finally {
    busy = false;
    progressEl.hidden = true;
    cancelBtn.hidden = true;
    cancelBtn.onclick = null;
    updateButtons();
  }
}

// ---------- loading ----------
async function filesFromDrop(dt: DataTransfer): Promise<{ name: string; blob: Blob }[]> {
  const out: { name: string; blob: Blob }[] = [];
  const entries = [...dt.items]
    .map((i) => (i.kind === 'file' ? i.webkitGetAsEntry?.() : null))
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return [...dt.files].map((f) => ({ name: f.name, blob: f }));
  const walk = async (e: FileSystemEntry, prefix: string): Promise<void> => {
    if (e.isFile) {
      const f = await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej));
      out.push({ name: prefix + f.name, blob: f });
    } else if (e.isDirectory) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (batch.length === 0) break;
        for (const c of batch) await walk(c, `${prefix}${e.name}/`);
      }
    }
  };
  for (const e of entries) await walk(e, '');
  return out;
}

function filesFromInput(list: FileList | null): { name: string; blob: Blob }[] {
  return [...(list ?? [])].map((f) => ({ name: f.webkitRelativePath || f.name, blob: f }));
}

/** The spacing typed for image stacks, or undefined (the loader then assumes 1 mm and warns). */
function stackSpacing(): Vec3 | undefined {
  const text = $<HTMLInputElement>('stack-spacing').value.trim();
  if (text === '') return undefined;
  const v = text.split(/[\s,;x×]+/).map(Number);
  if (v.length === 1) v.push(v[0]!, v[0]!);
  if (v.length !== 3 || !v.every((x) => x > 0 && Number.isFinite(x))) {
    throw new Error(`the image stack spacing "${text}" is not three positive numbers in mm, e.g. 0.5, 0.5, 1`);
  }
  return [v[0]!, v[1]!, v[2]!];
}

async function load(files: { name: string; blob: Blob }[], series?: string): Promise<void> {
  if (files.length === 0) return;
  loader?.dispose();
  const w = new TaskWorker(newLoader);
  loader = w;
  const t0 = performance.now();
  await task('Loading', w, async (onProgress) => {
    const spacing = stackSpacing();
    const result = await w.call<LoadResult>('load', { files, series, spacing }, [], onProgress);
    w.dispose();
    setScan(result, files, (performance.now() - t0) / 1000, series);
  });
  w.dispose();
}

function setScan(result: LoadResult, files: { name: string; blob: Blob }[], seconds: number, series?: string): void {
  let volume = result.volume;
  const n = voxelCount(volume.grid);
  if (volume.components > 1) {
    // colour images: the views and the steps use the first component (red, or grey for grey+alpha)
    const c = volume.components;
    const grey = new Float32Array(n);
    for (let p = 0; p < n; p++) grey[p] = volume.data[p * c]!;
    volume = { ...volume, data: grey, components: 1, frames: 1 };
    result.warnings.push(`the image has ${c} values per voxel; only the first is shown and segmented`);
  }
  const stats = intensityStats(volume.data.subarray(0, n));
  scan = { volume, load: result, stats, hu: looksLikeHounsfield(volume), files, loadSeconds: seconds, series };
  labels = new Uint8Array(n);
  scribbles = new Uint8Array(n);
  renderScribbleCounts();
  modelRunReport.textContent = '';
  segments = [];
  active = 0;
  hidden.clear();
  history.clear();
  editSteps = [];
  runAt = new Date();
  resetModel();
  computeGeneration = -1;
  compute.dispose();
  cursor = volume.grid.size.map((s) => Math.floor(s / 2)) as [number, number, number];
  windowSel.value = scan.hu ? 'soft-tissue' : 'auto';
  applyWindowPreset();
  thresholdSel.value = scan.hu ? 'bone' : 'custom';
  applyThresholdPreset();
  renderSeries();
  renderGeometry();
  renderStructures();
  renderModelInfo();
  three.setGrid(volume.grid);
  three.setCursor(cursor);
  redraw();
  // send the scan to the segmentation worker in the background
  ensureCompute().catch(() => {
    // reported by the step that needs it
  });
}

/** The segmentation worker with the current scan in it (sent again after a cancel). */
async function ensureCompute(): Promise<void> {
  if (!scan) throw new Error('no scan loaded');
  if (compute.alive && computeGeneration === compute.generation) return;
  const v = scan.volume;
  const n = voxelCount(v.grid);
  // structured clone copies a view's WHOLE buffer: pass the data itself when it is the whole buffer
  const whole = v.frames === 1 && v.data.byteOffset === 0 && v.data.byteLength === v.data.buffer.byteLength;
  const p = compute.call('init', { volume: { ...v, data: whole ? v.data : v.data.slice(0, n), frames: 1 } });
  computeGeneration = compute.generation; // the call started the worker if it was not running
  await p;
}

// ---------- reports ----------
function renderSeries(): void {
  const list = scan?.load.dicom?.series ?? [];
  seriesList.textContent = '';
  seriesBox.hidden = list.length === 0;
  const chosen = scan?.load.dicom?.report.series.id;
  for (const s of list) {
    const b = document.createElement('button');
    b.type = 'button';
    const desc = [s.modality, s.number !== undefined ? `#${s.number}` : '', s.description].filter(Boolean).join(' ');
    b.textContent = `${desc || `series ${s.index + 1}`}: ${s.size.join(' × ')}${s.frames > 1 ? ` × ${s.frames} frames` : ''}, ${s.orientation}`;
    b.setAttribute('aria-pressed', String(s.id === chosen));
    b.onclick = () => {
      if (scan && s.id !== chosen) void load(scan.files, String(s.index));
    };
    seriesList.append(b);
  }
}

const fmt = (x: number, d = 3) => (Math.abs(x) < 1e-9 ? '0' : Number(x.toFixed(d)).toString());

function tableOf(rows: [string, string][]): HTMLTableElement {
  const t = document.createElement('table');
  for (const [k, v] of rows) {
    const tr = t.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = k;
    tr.append(th);
    tr.insertCell().textContent = v;
  }
  return t;
}

function renderGeometry(): void {
  geometryEl.textContent = '';
  if (!scan) return;
  const v = scan.volume;
  const g = v.grid;
  const h = document.createElement('h3');
  h.textContent = 'Geometry';
  const rows: [string, string][] = [
    ['Input', `${scan.load.kind}${scan.load.container === 'zip' ? ' (zip)' : ''}, ${scan.load.fileCount} file(s)`],
    ['Size', `${g.size.join(' × ')} voxels${v.frames > 1 ? `, ${v.frames} frames (showing the first)` : ''}`],
    ['Spacing', `${g.spacing.map((s) => fmt(s, 4)).join(' × ')} mm`],
    ['Orientation', `${orientationCode(g)} (index axes point towards these patient directions; world frame LPS)`],
    ['Origin', `${g.origin.map((x) => fmt(x, 2)).join(', ')} mm (LPS, centre of the first voxel)`],
    ['Values', `${fmt(scan.stats.min, 1)} … ${fmt(scan.stats.max, 1)} ${v.units === 'HU' ? 'HU' : `(${v.units})`}`],
    ['Loaded in', `${scan.loadSeconds.toFixed(1)} s`],
  ];
  const rep = scan.load.dicom?.report;
  if (rep)
    rows.splice(4, 0, [
      'Geometry',
      rep.geometry + (rep.tiltDegrees > 0.01 ? `, tilt ${fmt(rep.tiltDegrees, 2)}°` : ''),
    ]);
  geometryEl.append(h, tableOf(rows));
  for (const w of scan.load.warnings) {
    const p = document.createElement('p');
    p.className = 'warn';
    p.textContent = `Warning: ${w}`;
    geometryEl.append(p);
  }
  if (scan.load.skippedCount > 0) {
    const p = document.createElement('p');
    p.className = 'warn';
    const s = scan.load.skipped[0]!;
    p.textContent = `${scan.load.skippedCount} file(s) skipped (e.g. ${s.name}: ${s.reason})`;
    geometryEl.append(p);
  }
}

// ---------- views ----------
const views = new Map<ViewName, SliceView>();
const three = new ThreeView($<HTMLCanvasElement>('view-3d'));
if (three.failure) $('caption-3d').textContent = three.failure;

function overlayState() {
  const th = thLive.checked && scan ? thresholdRange() : undefined;
  const seg = segments.find((s) => s.value === active);
  return {
    labels,
    lut: labelLut(segments),
    hidden,
    preview: th ? { ...th, color: seg?.color ?? [255, 80, 80] } : undefined,
    scribbles,
    scribbleColors: SCRIBBLE_COLORS,
  };
}

function redraw(): void {
  const v = scan?.volume;
  const overlay = overlayState();
  for (const view of views.values()) {
    view.setState(v ? { grid: v.grid, data: v.data, cursor, window: wl, overlay } : undefined);
  }
  if (v) {
    const lps = lpsFromIjk(v.grid, cursor);
    const q = cursor[0] + v.grid.size[0] * (cursor[1] + v.grid.size[1] * cursor[2]);
    const val = v.data[q * v.components]!;
    const lab = labels?.[q] ?? 0;
    const seg = segments.find((s) => s.value === lab);
    cursorEl.textContent = `Crosshair: ${lps.map((x) => x.toFixed(1)).join(', ')} mm (LPS: x→left, y→posterior, z→superior); voxel ${cursor.join(', ')}; value ${fmt(val, 1)}${seg ? `; ${seg.name}` : ''}`;
  } else cursorEl.textContent = 'Crosshair: —';
}

function setCursor(ijk: [number, number, number]): void {
  cursor = ijk;
  three.setCursor(cursor);
  redraw();
}

let stroke: { index: number[]; before: number[]; after: number[] } | undefined;

for (const name of ['axial', 'coronal', 'sagittal'] as ViewName[]) {
  views.set(
    name,
    new SliceView($<HTMLCanvasElement>(`view-${name}`), name, {
      windowDrag(dx, dy) {
        if (!scan) return;
        // one CSS pixel = 1/256 of the current width (as in most viewers)
        const step = Math.max(wl.width, 1e-6) / 256;
        wl = { center: wl.center + dy * step, width: Math.max(step / 8, wl.width + dx * step) };
        wlCenter.value = fmt(wl.center, 1);
        wlWidth.value = fmt(wl.width, 1);
        windowSel.value = 'custom';
        redraw();
      },
      slice(view, s) {
        const c: [number, number, number] = [...cursor];
        c[view.geometry!.sliceAxis] = s;
        setCursor(c);
      },
      pointer(view, phase, x, y, ijk) {
        const tool = currentTool();
        if (tool === 'navigate') {
          setCursor(ijk);
          return;
        }
        if (tool === 'grow') {
          if (phase === 'down') void regionGrow(ijk);
          return;
        }
        if (tool.startsWith('scribble-')) {
          if (!scribbles || !scan) return;
          const ink: ScribbleInk =
            tool === 'scribble-structure'
              ? SCRIBBLE_STRUCTURE
              : tool === 'scribble-background'
                ? SCRIBBLE_BACKGROUND
                : 'erase';
          const radius = Number($<HTMLInputElement>('brush-radius').value) || 1;
          paintScribble(scribbles, scan.volume.grid.size, view.geometry!, view.slice, x, y, ink, radius);
          if (phase === 'up') renderScribbleCounts();
          redraw();
          return;
        }
        if (!labels || !scan || busy) return;
        if (phase === 'down') {
          if (!ensureActive()) return;
          stroke = { index: [], before: [], after: [] };
          $<HTMLSelectElement>('fill-axis').value = view.name;
        }
        if (!stroke) return;
        const radius = Number($<HTMLInputElement>('brush-radius').value) || 1;
        const patch = paintDisc(labels, scan.volume.grid.size, view.geometry!, view.slice, x, y, {
          value: active,
          erase: tool === 'eraser',
          radiusMm: radius,
        });
        for (let n = 0; n < patch.index.length; n++) {
          stroke.index.push(patch.index[n]!);
          stroke.before.push(patch.before[n]!);
          stroke.after.push(patch.after[n]!);
        }
        if (phase === 'up') {
          if (stroke.index.length > 0) {
            history.push({
              kind: 'patch',
              label: tool === 'eraser' ? 'eraser' : 'brush',
              index: Uint32Array.from(stroke.index),
              before: Uint8Array.from(stroke.before),
              after: Uint8Array.from(stroke.after),
            });
            editSteps.push({
              step: tool,
              structure: segments.find((s) => s.value === active)?.name ?? String(active),
              options: { radiusMm: radius, view: view.name, slice: view.slice },
              seconds: 0,
              result: { voxelsChanged: stroke.index.length },
            });
            modelStale();
          }
          stroke = undefined;
          updateButtons();
          renderStructures();
        }
        redraw();
      },
    }),
  );
}

function currentTool(): string {
  return (document.querySelector('input[name="tool"]:checked') as HTMLInputElement | null)?.value ?? 'navigate';
}

// ---------- window ----------
for (const p of WINDOW_PRESETS) windowSel.add(new Option(p.label, p.id));
windowSel.add(new Option('Custom', 'custom'));

function applyWindowPreset(): void {
  if (!scan || windowSel.value === 'custom') return;
  wl = presetWindow(windowSel.value, scan.stats);
  wlCenter.value = fmt(wl.center, 1);
  wlWidth.value = fmt(wl.width, 1);
  redraw();
}
windowSel.onchange = applyWindowPreset;
const onWl = () => {
  const c = Number(wlCenter.value);
  const w = Number(wlWidth.value);
  if (!Number.isFinite(c) || !(w > 0)) return;
  wl = { center: c, width: w };
  windowSel.value = 'custom';
  redraw();
};
wlCenter.onchange = onWl;
wlWidth.onchange = onWl;

// ---------- structures ----------
function ensureActive(preset?: ThresholdPresetName): boolean {
  if (segments.some((s) => s.value === active)) return true;
  const p = preset ? THRESHOLD_PRESETS[preset] : undefined;
  const r = addStructure(segments, p ? { name: p.segment.name, color: p.segment.color, code: p.segment.code } : {});
  segments = r.segments;
  active = r.segment.value;
  renderStructures();
  return true;
}

function renderStructures(): void {
  structuresEl.textContent = '';
  const counts = labels ? labelCounts(labels) : undefined;
  const g = scan?.volume.grid;
  const voxMl = g ? Math.abs(g.spacing[0] * g.spacing[1] * g.spacing[2]) / 1000 : 0;
  for (const s of segments) {
    const li = document.createElement('li');
    li.dataset.name = s.name;
    li.dataset.value = String(s.value);
    li.dataset.voxels = String(counts?.[s.value] ?? 0);
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'active-structure';
    radio.checked = s.value === active;
    radio.setAttribute('aria-label', `Edit ${s.name}`);
    radio.onchange = () => {
      active = s.value;
      redraw();
    };
    const name = document.createElement('input');
    name.type = 'text';
    name.value = s.name;
    name.setAttribute('aria-label', `Name of structure ${s.value}`);
    name.onchange = () => {
      segments = segments.map((x) => (x.value === s.value ? { ...x, name: name.value.trim() || x.name } : x));
      renderStructures();
    };
    const color = document.createElement('input');
    color.type = 'color';
    color.value = hexOf(s.color);
    color.setAttribute('aria-label', `Colour of ${s.name}`);
    color.oninput = () => {
      segments = segments.map((x) => (x.value === s.value ? { ...x, color: rgbOf(color.value) } : x));
      redraw();
    };
    const show = document.createElement('input');
    show.type = 'checkbox';
    show.checked = !hidden.has(s.value);
    show.setAttribute('aria-label', `Show ${s.name} on the slices`);
    show.onchange = () => {
      if (show.checked) hidden.delete(s.value);
      else hidden.add(s.value);
      redraw();
    };
    const info = document.createElement('span');
    info.className = 'mono';
    const c = counts?.[s.value] ?? 0;
    info.textContent = `${(c * voxMl).toFixed(1)} mL`;
    li.append(radio, color, name, show, info);
    structuresEl.append(li);
  }
}

$('add-structure').onclick = () => {
  if (!scan) return;
  const r = addStructure(segments);
  segments = r.segments;
  active = r.segment.value;
  renderStructures();
  redraw();
};

// ---------- threshold ----------
for (const n of THRESHOLD_PRESET_NAMES) {
  const p = THRESHOLD_PRESETS[n];
  const hi = Number.isFinite(p.upper) ? String(p.upper) : '∞';
  thresholdSel.add(new Option(`${p.segment.name} (${p.lower} … ${hi} HU)`, n));
}
thresholdSel.add(new Option('Automatic (Otsu: the bright class)', 'otsu'));
thresholdSel.add(new Option('Custom range', 'custom'));

function applyThresholdPreset(): void {
  const name = thresholdSel.value;
  if (name === 'otsu') {
    void otsu();
    return;
  }
  if (name !== 'custom') {
    const p = THRESHOLD_PRESETS[name as ThresholdPresetName];
    thLower.value = String(p.lower);
    thUpper.value = Number.isFinite(p.upper) ? String(p.upper) : '';
    if (scan && !scan.hu) {
      showError(
        new Error(
          `the "${name}" preset is in Hounsfield units, but this image's values are not HU; set the range yourself`,
        ),
      );
    }
  } else if (scan && thLower.value === '') {
    const s = scan.stats;
    thLower.value = fmt((s.p1 + s.p99) / 2, 1);
    thUpper.value = '';
  }
  redraw();
}
/** Fills the range with Otsu's threshold (two classes): everything brighter is inside. */
async function otsu(): Promise<void> {
  if (!scan) return;
  const t = await task('Otsu threshold', compute, async (onProgress) => {
    await ensureCompute();
    return compute.call<number[]>('otsu', { classes: 2 }, [], onProgress);
  });
  if (!t?.length) return;
  thLower.value = fmt(t[0]!, 2);
  thUpper.value = '';
  redraw();
}

thresholdSel.onchange = () => {
  clearError();
  applyThresholdPreset();
};
thLower.oninput = thUpper.oninput = () => {
  thresholdSel.value = 'custom';
  redraw();
};
thLive.onchange = () => redraw();

function isPreset(name: string): name is ThresholdPresetName {
  return (THRESHOLD_PRESET_NAMES as string[]).includes(name);
}

function thresholdRange(): { lower: number; upper: number } | undefined {
  const lower = thLower.value.trim() === '' ? Number.NEGATIVE_INFINITY : Number(thLower.value);
  const upper = thUpper.value.trim() === '' ? Number.POSITIVE_INFINITY : Number(thUpper.value);
  if (Number.isNaN(lower) || Number.isNaN(upper) || lower > upper) return undefined;
  return { lower, upper };
}

/** Runs a whole-volume step in the segmentation worker and makes its result the current labels. */
async function labelStep(
  label: string,
  op: string,
  params: Record<string, unknown>,
  record: Record<string, unknown>,
): Promise<void> {
  if (!scan || !labels) return;
  const before = labels;
  const value = active;
  const t0 = performance.now();
  const res = await task(label, compute, async (onProgress) => {
    await ensureCompute();
    // a copy goes to the worker; `before` stays here as the undo step
    return compute.call<{ labels: Uint8Array; voxels: number }>(
      op,
      { labels: before, value, ...params },
      [],
      onProgress,
    );
  });
  if (!res || labels !== before) return;
  labels = res.labels;
  history.push({ kind: 'full', label, before, after: res.labels });
  const seg = segments.find((s) => s.value === value);
  editSteps.push({
    step: op,
    structure: seg?.name ?? String(value),
    options: record,
    seconds: (performance.now() - t0) / 1000,
    result: { voxels: res.voxels },
  });
  modelStale();
  renderStructures();
  updateButtons();
  redraw();
}

$('apply-threshold').onclick = () => {
  if (!scan) return;
  const r = thresholdRange();
  if (!r) {
    showError(new Error('the threshold range is not valid: "from" must be a number not above "to"'));
    return;
  }
  const preset = isPreset(thresholdSel.value) ? thresholdSel.value : undefined;
  const target = segments.find((s) => s.value === active);
  if (preset && target && labels && labelCounts(labels)[active] === 0 && /^structure \d+$/.test(target.name)) {
    // an empty, unnamed structure takes the preset's name and colour
    const p = THRESHOLD_PRESETS[preset].segment;
    segments = segments.map((s) => (s.value === active ? { ...s, name: p.name, color: p.color, code: p.code } : s));
  }
  ensureActive(preset);
  const how = preset ?? (thresholdSel.value === 'otsu' ? 'otsu' : 'custom');
  void labelStep('Threshold', 'threshold', r, { preset: how, lower: r.lower, upper: r.upper });
};

async function regionGrow(seed: [number, number, number]): Promise<void> {
  if (!scan || busy) return;
  const r = thresholdRange();
  if (!r) {
    showError(new Error('region growing uses the threshold range, which is not valid'));
    return;
  }
  setCursor(seed);
  ensureActive(isPreset(thresholdSel.value) ? thresholdSel.value : undefined);
  await labelStep(
    'Region growing',
    'region-grow',
    { seed, ...r, connectivity: 6 },
    {
      seedLps: lpsFromIjk(scan.volume.grid, seed).map((x) => Number(x.toFixed(2))),
      lower: r.lower,
      upper: r.upper,
      connectivity: 6,
    },
  );
}

$('remove-islands').onclick = () => {
  if (!scan || !segments.some((s) => s.value === active)) return;
  const minVolumeMm3 = Math.max(0, Number($<HTMLInputElement>('min-island').value) || 0);
  const keepLargest = $<HTMLInputElement>('keep-largest').checked;
  void labelStep('Removing islands', 'islands', { minVolumeMm3, keepLargest }, { minVolumeMm3, keepLargest });
};

$('fill-between').onclick = () => {
  if (!scan || !segments.some((s) => s.value === active)) return;
  const view = views.get($<HTMLSelectElement>('fill-axis').value as ViewName)!;
  const axis = view.geometry!.sliceAxis;
  void labelStep('Filling between slices', 'fill-between', { axis }, { axis, view: view.name });
};

undoBtn.onclick = () => {
  if (!labels || !history.canUndo || busy) return;
  labels = history.undo(labels);
  editSteps.push({ step: 'undo', options: {}, seconds: 0 });
  modelStale();
  renderStructures();
  updateButtons();
  redraw();
};
redoBtn.onclick = () => {
  if (!labels || !history.canRedo || busy) return;
  labels = history.redo(labels);
  editSteps.push({ step: 'redo', options: {}, seconds: 0 });
  modelStale();
  renderStructures();
  updateButtons();
  redraw();
};
document.addEventListener('keydown', (e) => {
  if (!(e.ctrlKey || e.metaKey) || (e.target as HTMLElement).tagName === 'INPUT') return;
  if (e.key === 'z' && !e.shiftKey) undoBtn.click();
  else if (e.key === 'y' || (e.key === 'Z' && e.shiftKey)) redoBtn.click();
  else return;
  e.preventDefault();
});

// ---------- scribble assistant ----------
function renderScribbleCounts(): void {
  const c = scribbles ? scribbleCounts(scribbles) : { structure: 0, background: 0 };
  scribbleCountsEl.dataset.structure = String(c.structure);
  scribbleCountsEl.dataset.background = String(c.background);
  scribbleCountsEl.textContent =
    c.structure + c.background === 0
      ? 'Strokes: none'
      : `Strokes: ${c.structure.toLocaleString('en-US')} structure, ${c.background.toLocaleString('en-US')} background voxels`;
}

$('scribble-learn').onclick = () => {
  if (!scan || !scribbles) return;
  const c = scribbleCounts(scribbles);
  const problem = scribbleProblem(c);
  if (problem) {
    showError(new Error(`cannot learn yet: ${problem}`));
    return;
  }
  ensureActive();
  const keepLargest = $<HTMLInputElement>('scribble-largest').checked;
  // a copy of the strokes goes to the worker; the page keeps painting on its own
  void labelStep(
    'Learning from strokes',
    'scribble',
    { scribbles, keepLargest },
    {
      structureStrokeVoxels: c.structure,
      backgroundStrokeVoxels: c.background,
      keepLargest,
      // the library's defaults, which the worker uses (recorded filled in)
      features: resolveFeatureSettings(),
      forest: RANDOM_FOREST_DEFAULTS,
      maxSamplesPerClass: SCRIBBLE_SEGMENT_DEFAULTS.maxSamplesPerClass,
    },
  );
};

$('scribble-clear').onclick = () => {
  if (!scribbles) return;
  scribbles.fill(0);
  renderScribbleCounts();
  redraw();
};

// ---------- AI model ----------
function renderModelInfo(): void {
  modelInfo.textContent = '';
  modelStructuresEl.textContent = '';
  modelStructuresBox.hidden = !aiModel;
  if (!aiModel) {
    modelInfo.removeAttribute('data-model');
    return;
  }
  const { card } = aiModel;
  modelInfo.dataset.model = card.name;
  const h = document.createElement('h3');
  h.textContent = `Model: ${card.name} ${card.version}`;
  const structures = modelStructures(card);
  modelInfo.append(
    h,
    tableOf([
      ['About', card.description],
      [
        'Input',
        `${card.input.channels.map((c) => c.modality).join(', ')}; ${card.input.orientation}, ${card.input.spacing.join(' × ')} mm, patches of ${card.input.patchSize.join(' × ')}`,
      ],
      ['Structures', structures.map((st) => st.name).join(', ')],
      ['Files', `${aiModel.cardFile}, ${aiModel.onnxFile}${aiModel.verified ? ' (SHA-256 checked)' : ''}`],
      ['Runs on', aiModel.provider ?? 'opened when it first runs'],
      ['Licence', card.license.spdx],
      ['Intended use', card.intendedUse],
      ['Limitations', card.limitations],
    ]),
  );
  const note = scan ? modalityNote(card, scan.hu) : undefined;
  if (note) {
    const p = document.createElement('p');
    p.className = 'warn';
    p.textContent = `Warning: ${note}`;
    modelInfo.append(p);
  }
  for (const st of structures) {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = !aiUnpicked.has(st.name);
    box.value = st.name;
    box.onchange = () => {
      if (box.checked) aiUnpicked.delete(st.name);
      else aiUnpicked.add(st.name);
    };
    box.setAttribute('aria-label', `Segment ${st.name} with the model`);
    label.append(box, ` ${st.name}`);
    modelStructuresEl.append(label);
  }
}

/** The worker has a session for the open model (made again after a cancel or a new scan). */
async function ensureModelSession(): Promise<void> {
  if (!aiModel) throw new Error('no model is open: use "Open model…" first');
  if (compute.alive && aiModelGeneration === compute.generation) return;
  const m = aiModel;
  const p = compute.call<{ executionProvider: string }>('model-open', { card: m.card, onnx: m.onnx });
  aiModelGeneration = compute.generation;
  try {
    const r = await p;
    m.provider = r.executionProvider;
  } catch (e) {
    aiModelGeneration = -1;
    throw e;
  }
}

openModel.onchange = async () => {
  const chosen = [...(openModel.files ?? [])];
  openModel.value = '';
  if (chosen.length === 0) return;
  clearError();
  let pkgRead: ModelPackage;
  try {
    const files = await Promise.all(
      chosen.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
    );
    pkgRead = await readModelPackage(files);
  } catch (e) {
    showError(e);
    if (aiModel)
      setStatus(`${scan ? 'Ready' : 'No scan loaded'} (the model was not opened; ${aiModel.card.name} stays open)`);
    return;
  }
  const previous = aiModel;
  aiModel = pkgRead;
  aiModelGeneration = -1;
  const ok = await task('Opening the model', compute, async () => {
    await ensureModelSession();
    return true;
  });
  if (!ok) {
    // the .onnx was refused: keep the model that was open before (it is opened again when it runs)
    aiModel = previous;
    aiModelGeneration = -1;
  } else if (previous?.card.name !== pkgRead.card.name) aiUnpicked.clear();
  modelRunReport.textContent = '';
  renderModelInfo();
  updateButtons();
};

$('run-model').onclick = async () => {
  if (!scan || !labels || !aiModel) return;
  const m = aiModel;
  const boxes = [...modelStructuresEl.querySelectorAll<HTMLInputElement>('input[type=checkbox]')];
  const picked = boxes.filter((b) => b.checked).map((b) => b.value);
  if (picked.length === 0) {
    showError(new Error('no structure is selected for the model: tick at least one under "Structures to segment"'));
    return;
  }
  const names = picked.length === boxes.length ? undefined : picked;
  let plan: ReturnType<typeof planModelStructures>;
  try {
    plan = planModelStructures(segments, modelStructures(m.card, names));
  } catch (e) {
    showError(e);
    return;
  }
  const before = labels;
  const look = roiFirst.checked;
  const t0 = performance.now();
  const res = await task(`Running ${m.card.name}`, compute, async (onProgress) => {
    await ensureCompute();
    await ensureModelSession();
    return compute.call<{
      labels: Uint8Array;
      voxels: [number, number][];
      report: SegmentWithModelReport;
    }>('model-run', { labels: before, plan, structures: names, roiFirst: look }, [], onProgress);
  });
  if (!res || labels !== before || aiModel !== m) return;
  labels = res.labels;
  history.push({ kind: 'full', label: `model ${m.card.name}`, before, after: res.labels });
  const voxels = new Map(res.voxels);
  for (const p of plan) {
    if (!p.existing && (voxels.get(p.pageValue) ?? 0) > 0) segments = [...segments, p.segment];
  }
  if (!segments.some((s) => s.value === active)) {
    const first = plan.find((p) => segments.some((s) => s.value === p.pageValue));
    if (first) active = first.pageValue;
  }
  editSteps.push({
    step: 'model',
    options: {
      model: m.card.name,
      version: m.card.version,
      structures: names ?? 'all',
      roiFirst: look,
      executionProvider: res.report.executionProvider,
    },
    seconds: (performance.now() - t0) / 1000,
    result: Object.fromEntries(plan.map((p) => [p.segment.name, voxels.get(p.pageValue) ?? 0])),
  });
  renderModelRun(res.report, plan, voxels);
  renderModelInfo();
  modelStale();
  renderStructures();
  updateButtons();
  redraw();
};

function renderModelRun(
  r: SegmentWithModelReport,
  plan: ReturnType<typeof planModelStructures>,
  voxels: Map<number, number>,
): void {
  modelRunReport.textContent = '';
  const g = scan?.volume.grid;
  const voxMl = g ? Math.abs(g.spacing[0] * g.spacing[1] * g.spacing[2]) / 1000 : 0;
  const h = document.createElement('h3');
  h.textContent = `${r.model.name} ran on ${r.executionProvider} in ${r.totalSeconds.toFixed(1)} s`;
  modelRunReport.dataset.provider = r.executionProvider;
  modelRunReport.append(
    h,
    tableOf([
      ...plan.map((p): [string, string] => [
        p.segment.name,
        `${(voxels.get(p.pageValue) ?? 0).toLocaleString('en-US')} voxels, ${((voxels.get(p.pageValue) ?? 0) * voxMl).toFixed(2)} mL`,
      ]),
      ['Model grid', `${r.modelGrid.size.join(' × ')} at ${r.modelGrid.spacing.map((x) => fmt(x, 3)).join(' × ')} mm`],
      ['Patches', `${r.patches} (${r.runs} model runs)${r.lookFirst ? ', look-first' : ''}`],
    ]),
  );
  for (const w of r.warnings) {
    const p = document.createElement('p');
    p.className = 'warn';
    p.textContent = `Warning: ${w}`;
    modelRunReport.append(p);
  }
  const note = document.createElement('p');
  note.className = 'note';
  note.textContent = 'Voxels of other structures were kept: the model only fills background and its own structures.';
  modelRunReport.append(note);
}

// ---------- model ----------
smoothIt.value = String(BUILD_MODEL_DEFAULTS.smoothIterations);
passBand.value = String(BUILD_MODEL_DEFAULTS.passBand);
decimate.value = String(BUILD_MODEL_DEFAULTS.decimate);

function resetModel(): void {
  model = undefined;
  modelOutputs = [];
  exportSteps = [];
  modelReport.textContent = '';
  for (const a of ['data-triangles', 'data-volume-ml', 'data-watertight']) modelReport.removeAttribute(a);
  three.clearModel();
}

function modelStale(): void {
  if (model && !modelReport.querySelector('.stale')) {
    const p = document.createElement('p');
    p.className = 'warn stale';
    p.textContent = 'The segmentation changed since this model was built: build it again to include the changes.';
    modelReport.prepend(p);
  }
}

$('build-model').onclick = async () => {
  if (!scan || !labels) return;
  const counts = labelCounts(labels);
  const present = segments.filter((s) => counts[s.value]! > 0);
  if (present.length === 0) {
    showError(new Error('nothing to model: the segmentation is empty (apply a threshold or paint a structure first)'));
    return;
  }
  const options = {
    smoothIterations: Math.round(Number(smoothIt.value)),
    passBand: Number(passBand.value),
    decimate: Number(decimate.value),
    watertight: watertight.checked,
  };
  const current = labels;
  const res = await task('Building the model', builder, (onProgress) =>
    builder.call<BuiltModel>(
      'build',
      { labels: current, grid: scan!.volume.grid, segments: present, options },
      [],
      onProgress,
    ),
  );
  if (!res) return;
  resetModel();
  model = res;
  three.setModel(res.positions, res.indices, res.groups ?? []);
  renderModelReport(res);
  updateButtons();
};

function renderModelReport(m: BuiltModel): void {
  const x = m.metrics;
  const tight = x.watertight ?? x.closedManifold;
  modelReport.dataset.triangles = String(x.triangles);
  modelReport.dataset.volumeMl = String(x.volumeMl);
  modelReport.dataset.watertight = String(tight);
  modelReport.textContent = '';
  const h = document.createElement('h3');
  h.textContent = 'Model';
  modelReport.append(
    h,
    tableOf([
      ['Triangles', x.triangles.toLocaleString('en-US')],
      ['Volume', `${x.volumeMl.toFixed(2)} mL`],
      ['Surface', `${(x.areaMm2 / 100).toFixed(1)} cm²`],
      [
        'Watertight',
        x.watertight === undefined
          ? `${x.closedManifold ? 'yes' : 'NO'} (edge check)`
          : `${x.watertight ? 'yes' : 'NO'} (manifold-3d)`,
      ],
      ['Built in', `${m.seconds.toFixed(1)} s`],
    ]),
  );
  const t = document.createElement('table');
  const head = t.createTHead().insertRow();
  for (const c of ['Show', 'Structure', 'Triangles', 'Volume', 'Dice', 'Mean dist.', 'Watertight']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = c;
    head.append(th);
  }
  const body = t.createTBody();
  for (const s of x.perStructure) {
    const a = m.accuracy.find((q) => q.value === s.value);
    const tr = body.insertRow();
    const show = document.createElement('input');
    show.type = 'checkbox';
    show.checked = true;
    show.setAttribute('aria-label', `Show ${s.name} in 3D`);
    show.onchange = () => three.setVisible(s.value, show.checked);
    tr.insertCell().append(show);
    tr.insertCell().textContent = s.name;
    tr.insertCell().textContent = s.triangles.toLocaleString('en-US');
    tr.insertCell().textContent = `${s.volumeMl.toFixed(2)} mL`;
    tr.insertCell().textContent = a ? a.dice.toFixed(4) : '—';
    tr.insertCell().textContent = a ? `${a.meanDistanceMm.toFixed(2)} mm` : '—';
    tr.insertCell().textContent = (s.watertight ?? s.closedManifold) ? 'yes' : 'NO';
  }
  modelReport.append(t);
  const note = document.createElement('p');
  note.textContent =
    'Dice: the final surface voxelized on the scan grid against the segmentation (1 = identical). Distances: surface to segmentation boundary.';
  modelReport.append(note);
  for (const w of m.warnings) {
    const p = document.createElement('p');
    p.className = 'warn';
    p.textContent = `Warning: ${w}`;
    modelReport.append(p);
  }
}

// ---------- downloads ----------
function download(name: string, bytes: Uint8Array | string, type = 'application/octet-stream'): void {
  const blob = new Blob([bytes as BlobPart], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The main file at once, its companions (OBJ's .mtl, a label map's segment table) just after it. */
function downloadAll(files: readonly { name: string; bytes: Uint8Array }[]): void {
  files.forEach((f, n) => {
    if (n === 0) download(f.name, f.bytes);
    else setTimeout(() => download(f.name, f.bytes), 400 * n);
  });
}

function modelName(): string {
  const names = model?.metrics.perStructure.map((s) => s.name) ?? [];
  const base = names.length === 1 ? names[0]! : 'model';
  return base.replace(/[^\w.-]+/g, '_') || 'model';
}

for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-format]')) {
  b.onclick = async () => {
    if (!model) return;
    const format = b.dataset.format as MeshFormat;
    const res = await task(`Writing ${format.toUpperCase()}`, builder, (onProgress) =>
      builder.call<{ files: { name: string; bytes: Uint8Array }[]; outputs: OutputRecord[]; seconds: number }>(
        'export',
        { format, name: modelName() },
        [],
        onProgress,
      ),
    );
    if (!res) return;
    downloadAll(res.files);
    modelOutputs = [...modelOutputs.filter((o) => !res.outputs.some((r) => r.file === o.file)), ...res.outputs];
    exportSteps.push({
      step: 'export',
      options: { format },
      seconds: res.seconds,
      result: { files: res.files.length },
    });
  };
}

for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-labels]')) {
  b.onclick = async () => {
    if (!scan || !labels) return;
    const current = labels;
    const counts = labelCounts(current);
    const res = await task('Writing the label map', compute, (onProgress) =>
      compute.call<{ files: { name: string; bytes: Uint8Array }[] }>(
        'export-labels',
        {
          labels: current,
          grid: scan!.volume.grid,
          segments: segments.filter((s) => counts[s.value]! > 0),
          format: b.dataset.labels,
        },
        [],
        onProgress,
      ),
    );
    if (!res) return;
    downloadAll(res.files);
  };
}

$('download-record').onclick = async () => {
  if (!scan || !model) return;
  const v = scan.volume;
  const input: InputRecord = inputRecord({
    kind: scan.load.kind,
    grid: v.grid,
    hashes: scan.load.hashes,
    files: scan.load.hashes.files,
    volume: v,
  });
  const loadStep: StepRecord = {
    step: 'load',
    options: { kind: scan.load.kind, container: scan.load.container, series: scan.series ? 'chosen' : 'automatic' },
    seconds: scan.loadSeconds,
    result: {
      size: [...v.grid.size],
      frames: v.frames,
      units: String(v.units),
      filesRead: scan.load.fileCount,
      filesSkipped: scan.load.skippedCount,
    },
  };
  const steps = [loadStep, ...editSteps, ...model.steps, ...exportSteps];
  const json = await task('Writing the run record', builder, () =>
    builder.call<string>('record', {
      version: pkg.version,
      input,
      steps,
      outputs: modelOutputs,
      runAt: runAt.toISOString(),
      seconds: (Date.now() - runAt.getTime()) / 1000,
    }),
  );
  if (json) download(`${modelName()}.run.json`, json, 'application/json');
};

function updateButtons(): void {
  const has = !!scan;
  undoBtn.disabled = busy || !history.canUndo;
  redoBtn.disabled = busy || !history.canRedo;
  undoBtn.title = history.undoLabel ? `Undo ${history.undoLabel}` : 'Nothing to undo';
  redoBtn.title = history.redoLabel ? `Redo ${history.redoLabel}` : 'Nothing to redo';
  for (const id of [
    'apply-threshold',
    'build-model',
    'remove-islands',
    'fill-between',
    'add-structure',
    'scribble-learn',
    'scribble-clear',
  ]) {
    $<HTMLButtonElement>(id).disabled = busy || !has;
  }
  $<HTMLButtonElement>('run-model').disabled = busy || !has || !aiModel;
  for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-format], #download-record')) {
    b.disabled = busy || !model;
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-labels]')) b.disabled = busy || !has;
}

// ---------- open: inputs and drop ----------
const openFiles = $<HTMLInputElement>('open-files');
const openFolder = $<HTMLInputElement>('open-folder');
openFiles.onchange = () => {
  void load(filesFromInput(openFiles.files));
  openFiles.value = '';
};
openFolder.onchange = () => {
  void load(filesFromInput(openFolder.files));
  openFolder.value = '';
};
const dz = $('dropzone');
for (const t of [dz, document.body]) {
  t.addEventListener('dragover', (e) => {
    e.preventDefault();
    dz.classList.add('over');
  });
  t.addEventListener('dragleave', () => dz.classList.remove('over'));
  t.addEventListener('drop', async (e) => {
    e.preventDefault();
    e.stopPropagation();
    dz.classList.remove('over');
    if (!e.dataTransfer) return;
    try {
      void load(await filesFromDrop(e.dataTransfer));
    } catch (err) {
      showError(err);
    }
  });
}

updateButtons();
redraw();
