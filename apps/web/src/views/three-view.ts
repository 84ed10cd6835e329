/**
 * The 3D view (three.js): the scan's bounding box and the three slice planes at the crosshair,
 * then the model, one mesh per structure (shown / hidden per structure). The scene is in LPS
 * millimetres, like everything else; the camera starts in front of the patient (anterior, -y),
 * superior up, so the patient's left is on the right of the screen.
 */
import { type Grid, lpsFromIjk, type MeshGroup } from '@slice2solid/core';
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

export class ThreeView {
  private renderer: THREE.WebGLRenderer | undefined;
  private readonly scene = new THREE.Scene();
  private readonly camera = new THREE.PerspectiveCamera(35, 1, 1, 1e5);
  private controls: OrbitControls | undefined;
  private box: THREE.LineSegments | undefined;
  private planes: THREE.LineSegments | undefined;
  private readonly meshes = new Map<number, THREE.Mesh>();
  private grid: Grid | undefined;
  /** Why there is no 3D view (no WebGL), if so. */
  readonly failure: string | undefined;
  private frame = 0;

  constructor(readonly canvas: HTMLCanvasElement) {
    try {
      this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
      this.renderer.setClearColor(0x15181d);
      this.controls = new OrbitControls(this.camera, canvas);
      this.controls.addEventListener('change', () => this.requestDraw());
      this.controls.listenToKeyEvents(canvas); // arrow keys pan when the view has the focus
    } catch (e) {
      this.failure = `3D view unavailable: this browser has no WebGL (${e instanceof Error ? e.message : String(e)})`;
    }
    this.camera.up.set(0, 0, 1);
    this.scene.add(new THREE.AmbientLight(0xffffff, 0.45));
    const key = new THREE.DirectionalLight(0xffffff, 1.6);
    key.position.set(-0.4, -1, 0.6);
    this.camera.add(key);
    this.scene.add(this.camera);
    new ResizeObserver(() => this.requestDraw()).observe(canvas);
  }

  /** Bounding box of the scan (its exact corners in LPS) and the camera framing it. */
  setGrid(grid: Grid | undefined): void {
    this.grid = grid;
    this.clearModel();
    if (this.box) this.scene.remove(this.box);
    this.box = undefined;
    if (grid) {
      const [ni, nj, nk] = grid.size;
      const c = (i: number, j: number, k: number) => lpsFromIjk(grid, [i - 0.5, j - 0.5, k - 0.5]);
      const corners = [0, 1, 2, 3, 4, 5, 6, 7].map((b) => c(b & 1 ? ni : 0, b & 2 ? nj : 0, b & 4 ? nk : 0));
      const edges = [0, 1, 2, 3, 4, 5, 6, 7, 0, 2, 1, 3, 4, 6, 5, 7, 0, 4, 1, 5, 2, 6, 3, 7];
      const geo = new THREE.BufferGeometry();
      geo.setAttribute(
        'position',
        new THREE.Float32BufferAttribute(
          edges.flatMap((e) => [...corners[e]!]),
          3,
        ),
      );
      this.box = new THREE.LineSegments(geo, new THREE.LineBasicMaterial({ color: 0x777777 }));
      this.scene.add(this.box);
      const center = new THREE.Vector3();
      for (const p of corners) center.add(new THREE.Vector3(...p));
      center.multiplyScalar(1 / 8);
      const radius = Math.max(...corners.map((p) => center.distanceTo(new THREE.Vector3(...p))));
      this.frameSphere(center, radius);
    }
    this.requestDraw();
  }

  /** Camera in front of the patient (anterior), a little to the left and above, framing a sphere. */
  private frameSphere(center: THREE.Vector3, radius: number): void {
    const dist = (radius / Math.sin((this.camera.fov * Math.PI) / 360)) * 1.05;
    const dir = new THREE.Vector3(0.35, -1, 0.35).normalize();
    this.camera.position.copy(center).addScaledVector(dir, dist);
    this.camera.near = Math.max(0.1, dist / 100);
    this.camera.far = dist * 10;
    this.camera.updateProjectionMatrix();
    this.controls?.target.copy(center);
    this.controls?.update();
  }

  /** Outlines of the three slice planes through voxel `cursor`. */
  setCursor(cursor: readonly number[]): void {
    const grid = this.grid;
    if (!grid) return;
    if (this.planes) this.scene.remove(this.planes);
    const [ni, nj, nk] = grid.size;
    const pts: number[] = [];
    const quad = (f: (u: number, v: number) => number[]) => {
      const q = [f(0, 0), f(1, 0), f(1, 1), f(0, 1)].map((ijk) => lpsFromIjk(grid, ijk));
      for (let n = 0; n < 4; n++) pts.push(...q[n]!, ...q[(n + 1) % 4]!);
    };
    const lo = -0.5;
    quad((u, v) => [cursor[0]!, lo + u * ni, lo + v * nk]);
    quad((u, v) => [lo + u * ni, cursor[1]!, lo + v * nk]);
    quad((u, v) => [lo + u * ni, lo + v * nj, cursor[2]!]);
    const geo = new THREE.BufferGeometry();
    geo.setAttribute('position', new THREE.Float32BufferAttribute(pts, 3));
    this.planes = new THREE.LineSegments(geo, new THREE.LineBasicMaterial({ color: 0x3aa0d8 }));
    this.scene.add(this.planes);
    this.requestDraw();
  }

  clearModel(): void {
    for (const m of this.meshes.values()) {
      this.scene.remove(m);
      m.geometry.dispose();
      (m.material as THREE.Material).dispose();
    }
    this.meshes.clear();
    this.requestDraw();
  }

  /** The model: one three.js mesh per group (structure), coloured by the group's colour. */
  setModel(positions: Float32Array, indices: Uint32Array, groups: readonly MeshGroup[]): void {
    this.clearModel();
    const all: readonly MeshGroup[] =
      groups.length > 0
        ? groups
        : [{ start: 0, count: indices.length / 3, label: 1, name: 'model', color: [230, 220, 200] }];
    const position = new THREE.BufferAttribute(positions, 3);
    for (const g of all) {
      const geo = new THREE.BufferGeometry();
      geo.setAttribute('position', position);
      geo.setIndex(new THREE.BufferAttribute(indices.subarray(3 * g.start, 3 * (g.start + g.count)), 1));
      geo.computeVertexNormals();
      const c = g.color;
      const mat = new THREE.MeshStandardMaterial({
        color: new THREE.Color(c[0]! / 255, c[1]! / 255, c[2]! / 255).convertSRGBToLinear(),
        roughness: 0.6,
        metalness: 0,
      });
      const mesh = new THREE.Mesh(geo, mat);
      this.meshes.set(g.label ?? 1, mesh);
      this.scene.add(mesh);
    }
    // frame the model
    const geo = new THREE.BufferGeometry();
    geo.setAttribute('position', position);
    geo.computeBoundingSphere();
    const s = geo.boundingSphere;
    if (s && s.radius > 0) this.frameSphere(s.center, s.radius);
    this.requestDraw();
  }

  setVisible(label: number, visible: boolean): void {
    const m = this.meshes.get(label);
    if (m) m.visible = visible;
    this.requestDraw();
  }

  requestDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** Draws now (also used before taking a screenshot). */
  draw(): void {
    const r = this.renderer;
    if (!r) return;
    const rect = this.canvas.getBoundingClientRect();
    const dpr = globalThis.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(rect.width));
    const h = Math.max(1, Math.round(rect.height));
    r.setPixelRatio(dpr);
    const size = r.getSize(new THREE.Vector2());
    if (size.x !== w || size.y !== h) r.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    r.render(this.scene, this.camera);
  }
}
