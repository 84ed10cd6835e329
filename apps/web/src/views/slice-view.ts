/**
 * Axial / coronal / sagittal slice views on plain 2D canvases.
 *
 * Why our own views and not NiiVue (or Cornerstone3D): NiiVue is a fine viewer, but here it would
 * cost more than it gives.
 * - Geometry: NiiVue reorients every image to its RAS frame and resamples for display; our views
 *   show stored voxels of our own `Grid` (DICOM LPS) one to one, and the crosshair position is
 *   `lpsFromIjk` of the voxel under it, the same code the CLI and the mesher use. Nothing to
 *   convert, so nothing to get wrong between what is shown and what is meshed.
 * - Editing: brush, eraser, region growing and the undo history work directly on our LabelMap's
 *   Uint8Array (no copy into a viewer's drawing layer and back after every stroke).
 * - Memory: NiiVue keeps its own copy of the volume (and a GPU texture of it); a 512x512x600 CT is
 *   315 MB per copy. Here the page holds the scan once, and a view renders only its slice.
 * - Size and dependencies: a few hundred lines instead of a large WebGL2 library; works without
 *   WebGL (headless browsers without a GPU, remote desktops).
 * What we give up: NiiVue's oblique reslicing, volume rendering and many overlay options; the 3D
 * view (three.js) shows the model instead.
 */
import type { Grid, VoxelArray } from '@slice2solid/core';
import { renderSlice, type SliceOverlay, type WindowLevel } from '../app/render-slice.js';
import { sliceIndices, type ViewGeometry, type ViewName, viewGeometry } from '../app/view-geometry.js';

export interface SliceViewState {
  readonly grid: Grid;
  readonly data: VoxelArray;
  readonly cursor: readonly [number, number, number];
  readonly window: WindowLevel;
  readonly overlay: SliceOverlay;
}

export interface SliceViewEvents {
  /** Pointer pressed / dragged / released on voxel ijk (phase 'down' | 'move' | 'up'). */
  pointer(view: SliceView, phase: 'down' | 'move' | 'up', x: number, y: number, ijk: [number, number, number]): void;
  /** The slice was changed by wheel or keyboard. */
  slice(view: SliceView, slice: number): void;
  /** Right-button drag: window/level change by (dx, dy) CSS pixels since the last call. */
  windowDrag(dx: number, dy: number): void;
}

const LETTERS: Record<ViewName, [string, string, string, string]> = {
  // left, right, top, bottom of the screen (patient directions)
  axial: ['R', 'L', 'A', 'P'],
  coronal: ['R', 'L', 'S', 'I'],
  sagittal: ['A', 'P', 'S', 'I'],
};

export class SliceView {
  geometry: ViewGeometry | undefined;
  private state: SliceViewState | undefined;
  private readonly image = document.createElement('canvas');
  private imageData: ImageData | undefined;
  private indices: { slice: number; idx: Uint32Array } | undefined;
  /** Screen mapping of the last draw: image pixel (x, y) -> canvas (ox + x * sx, oy + y * sy). */
  private map = { ox: 0, oy: 0, sx: 1, sy: 1 };
  private dragging = false;
  private wlDrag: { x: number; y: number } | undefined;

  constructor(
    readonly canvas: HTMLCanvasElement,
    readonly name: ViewName,
    private readonly events: SliceViewEvents,
  ) {
    canvas.tabIndex = 0;
    canvas.setAttribute('aria-label', `${name} view (no scan loaded)`);
    canvas.addEventListener('pointerdown', (e) => this.onPointer(e, 'down'));
    canvas.addEventListener('pointermove', (e) => this.onPointer(e, 'move'));
    canvas.addEventListener('pointerup', (e) => this.onPointer(e, 'up'));
    canvas.addEventListener('pointercancel', () => {
      this.dragging = false;
      this.wlDrag = undefined;
    });
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());
    canvas.addEventListener(
      'wheel',
      (e) => {
        if (!this.geometry || !this.state) return;
        e.preventDefault();
        this.step(e.deltaY > 0 ? -1 : 1);
      },
      { passive: false },
    );
    canvas.addEventListener('keydown', (e) => {
      const d = { ArrowUp: 1, ArrowRight: 1, PageUp: 10, ArrowDown: -1, ArrowLeft: -1, PageDown: -10 }[e.key];
      if (d === undefined || !this.geometry) return;
      e.preventDefault();
      this.step(d);
    });
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  get slice(): number {
    return this.state && this.geometry ? this.state.cursor[this.geometry.sliceAxis] : 0;
  }

  private step(d: number): void {
    if (!this.geometry) return;
    const s = Math.max(0, Math.min(this.geometry.slices - 1, this.slice + d));
    if (s !== this.slice) this.events.slice(this, s);
  }

  /** Screen pixel (image coordinates, fractional) under a pointer event. */
  imagePoint(e: { clientX: number; clientY: number }): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    const dpr = this.canvas.width / Math.max(1, r.width);
    const cx = (e.clientX - r.left) * dpr;
    const cy = (e.clientY - r.top) * dpr;
    return [(cx - this.map.ox) / this.map.sx - 0.5, (cy - this.map.oy) / this.map.sy - 0.5];
  }

  private onPointer(e: PointerEvent, phase: 'down' | 'move' | 'up'): void {
    const g = this.geometry;
    if (!g || !this.state) return;
    // right button: window (horizontal) and level (vertical)
    if (phase === 'down' && e.button === 2) {
      this.wlDrag = { x: e.clientX, y: e.clientY };
      this.canvas.setPointerCapture(e.pointerId);
      return;
    }
    if (this.wlDrag) {
      this.events.windowDrag(e.clientX - this.wlDrag.x, e.clientY - this.wlDrag.y);
      this.wlDrag = phase === 'up' ? undefined : { x: e.clientX, y: e.clientY };
      return;
    }
    if (phase === 'down') {
      if (e.button !== 0) return;
      this.dragging = true;
      this.canvas.setPointerCapture(e.pointerId);
      this.canvas.focus();
    } else if (!this.dragging) return;
    if (phase === 'up') this.dragging = false;
    const [x, y] = this.imagePoint(e);
    const xi = Math.max(0, Math.min(g.u.n - 1, Math.round(x)));
    const yi = Math.max(0, Math.min(g.v.n - 1, Math.round(y)));
    if (phase === 'down' && (Math.round(x) !== xi || Math.round(y) !== yi)) {
      this.dragging = false; // pressed outside the image
      return;
    }
    const ijk: [number, number, number] = [0, 0, 0];
    ijk[g.sliceAxis] = this.slice;
    ijk[g.u.axis] = g.u.flip ? g.u.n - 1 - xi : xi;
    ijk[g.v.axis] = g.v.flip ? g.v.n - 1 - yi : yi;
    this.events.pointer(this, phase, x, y, ijk);
  }

  setState(state: SliceViewState | undefined): void {
    if (state && (!this.state || this.state.grid !== state.grid)) {
      this.geometry = viewGeometry(state.grid, this.name);
      this.indices = undefined;
      this.image.width = this.geometry.u.n;
      this.image.height = this.geometry.v.n;
      this.imageData = new ImageData(this.geometry.u.n, this.geometry.v.n);
    }
    if (!state) this.geometry = undefined;
    this.state = state;
    if (this.geometry) {
      const n = this.geometry.slices;
      this.canvas.setAttribute(
        'aria-label',
        `${this.name} view, slice ${this.slice + 1} of ${n}; arrow keys or Page Up/Down change the slice`,
      );
    }
    this.draw();
  }

  draw(): void {
    const c = this.canvas;
    const r = c.getBoundingClientRect();
    const dpr = globalThis.devicePixelRatio || 1;
    const W = Math.max(1, Math.round(r.width * dpr));
    const H = Math.max(1, Math.round(r.height * dpr));
    if (c.width !== W || c.height !== H) {
      c.width = W;
      c.height = H;
    }
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, W, H);
    const g = this.geometry;
    const s = this.state;
    if (!g || !s || !this.imageData) return;
    const slice = this.slice;
    if (!this.indices || this.indices.slice !== slice) this.indices = { slice, idx: sliceIndices(s.grid, g, slice) };
    renderSlice(s.data, this.indices.idx, s.window, s.overlay, this.imageData.data);
    this.image.getContext('2d')!.putImageData(this.imageData, 0, 0);
    // fit the slice with its true aspect (mm), centred
    const wMm = g.u.n * g.u.spacing;
    const hMm = g.v.n * g.v.spacing;
    const scale = Math.min(W / wMm, H / hMm);
    const dw = wMm * scale;
    const dh = hMm * scale;
    const ox = (W - dw) / 2;
    const oy = (H - dh) / 2;
    this.map = { ox, oy, sx: dw / g.u.n, sy: dh / g.v.n };
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.image, ox, oy, dw, dh);
    // crosshair through the centre of the cursor voxel
    const a = s.cursor[g.u.axis];
    const b = s.cursor[g.v.axis];
    const x = ox + ((g.u.flip ? g.u.n - 1 - a : a) + 0.5) * this.map.sx;
    const y = oy + ((g.v.flip ? g.v.n - 1 - b : b) + 0.5) * this.map.sy;
    ctx.strokeStyle = 'rgba(80, 200, 255, 0.8)';
    ctx.lineWidth = Math.max(1, dpr);
    ctx.beginPath();
    ctx.moveTo(ox, y);
    ctx.lineTo(ox + dw, y);
    ctx.moveTo(x, oy);
    ctx.lineTo(x, oy + dh);
    ctx.stroke();
    // orientation letters and slice number
    const [L, R, T, B] = LETTERS[this.name];
    ctx.fillStyle = '#ffd479';
    ctx.font = `${Math.round(13 * dpr)}px system-ui, sans-serif`;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    ctx.fillText(L, 4 * dpr, H / 2);
    ctx.textAlign = 'right';
    ctx.fillText(R, W - 4 * dpr, H / 2);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillText(T, W / 2, 4 * dpr);
    ctx.textBaseline = 'bottom';
    ctx.fillText(B, W / 2, H - 4 * dpr);
    ctx.textAlign = 'left';
    ctx.fillStyle = '#ddd';
    ctx.fillText(`${slice + 1}/${g.slices}`, 4 * dpr, H - 4 * dpr);
  }
}
