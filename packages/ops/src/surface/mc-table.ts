/**
 * A topologically consistent marching-cubes case table, GENERATED at load time (not typed in),
 * so that its consistency follows from the construction rule rather than from a hand-made table.
 *
 * Rule: the surface in a cube is the union of closed loops built from one segment per
 * ambiguous-or-not FACE of the cube. On a face with two crossing edges the segment joins them;
 * on an ambiguous face (inside corners on one diagonal) every INSIDE corner is cut off on its own
 * ("separate the inside corners"). Because a face's segments depend only on its own four corners,
 * the two cubes that share a face see exactly the same segments there, so every surface edge on a
 * cube face is used by exactly two triangles (one in each cube) and a closed interior gives a
 * closed 2-manifold — the property the standard Lorensen table lacks (it resolves the same face
 * differently in complementary cases and leaves holes).
 *
 * Orientation: segments are directed so that (q - p) x faceOutwardNormal points to the inside
 * corners of the face; chained into loops this makes each fan triangle's normal point from the
 * inside (value >= iso) to the outside (value < iso) in a right-handed index frame.
 *
 * Corner numbering: corner c has offsets dx = (c >> 2) & 1, dy = c & 1, dz = (c >> 1) & 1, so a
 * cube's case index is q(i) | q(i+1) << 4 with q(i) the 4 bits (dy, dz) of the column at i.
 */

/** Offsets (dx, dy, dz) of corner c. */
export function cornerOffset(c: number): [number, number, number] {
  return [(c >> 2) & 1, c & 1, (c >> 1) & 1];
}

function cornerOf(dx: number, dy: number, dz: number): number {
  return (dx << 2) | dy | (dz << 1);
}

export interface McEdge {
  /** Lower corner (the one with the smaller coordinate along `axis`). */
  readonly c0: number;
  readonly c1: number;
  readonly axis: 0 | 1 | 2;
}

/** The 12 cube edges. */
export const MC_EDGES: readonly McEdge[] = (() => {
  const out: McEdge[] = [];
  for (let axis = 0 as 0 | 1 | 2; axis < 3; axis = (axis + 1) as 0 | 1 | 2) {
    for (let a = 0; a < 2; a++) {
      for (let b = 0; b < 2; b++) {
        const d = [0, 0, 0];
        const u = (axis + 1) % 3;
        const v = (axis + 2) % 3;
        d[u] = a;
        d[v] = b;
        const c0 = cornerOf(d[0]!, d[1]!, d[2]!);
        d[axis] = 1;
        const c1 = cornerOf(d[0]!, d[1]!, d[2]!);
        out.push({ c0, c1, axis });
      }
    }
  }
  return out;
})();

function edgeIndex(ca: number, cb: number): number {
  for (let e = 0; e < 12; e++) {
    const E = MC_EDGES[e]!;
    if ((E.c0 === ca && E.c1 === cb) || (E.c0 === cb && E.c1 === ca)) return e;
  }
  throw new Error(`no cube edge between corners ${ca} and ${cb}`);
}

export interface McTable {
  /** Triangles of case n are edges tri[start[n] .. start[n+1]) in groups of three. */
  readonly start: Uint16Array;
  readonly tri: Uint8Array;
}

function midpoint(e: number): [number, number, number] {
  const E = MC_EDGES[e]!;
  const a = cornerOffset(E.c0);
  const b = cornerOffset(E.c1);
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2];
}

/** Builds the table. Throws if the construction ever failed to make closed loops (it cannot). */
export function buildMcTable(): McTable {
  // the 6 faces: (axis, side) with their 4 corners in cyclic order
  const faces: { axis: number; side: number; cyc: number[] }[] = [];
  for (let axis = 0; axis < 3; axis++) {
    const u = (axis + 1) % 3;
    const v = (axis + 2) % 3;
    for (let side = 0; side < 2; side++) {
      const cyc: number[] = [];
      for (const [a, b] of [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 1],
      ] as const) {
        const d = [0, 0, 0];
        d[axis] = side;
        d[u] = a;
        d[v] = b;
        cyc.push(cornerOf(d[0]!, d[1]!, d[2]!));
      }
      faces.push({ axis, side, cyc });
    }
  }
  const start = new Uint16Array(257);
  const tri: number[] = [];
  for (let n = 0; n < 256; n++) {
    start[n] = tri.length;
    const inside = (c: number) => (n >> c) & 1;
    const next = new Int8Array(12).fill(-1);
    const prev = new Int8Array(12).fill(-1);
    for (const f of faces) {
      const segs: [number, number, number[]][] = []; // edgeA, edgeB, inside corners
      const cross: number[] = [];
      for (let m = 0; m < 4; m++) {
        if (inside(f.cyc[m]!) !== inside(f.cyc[(m + 1) % 4]!)) cross.push(m);
      }
      const faceEdge = (m: number) => edgeIndex(f.cyc[m]!, f.cyc[(m + 1) % 4]!);
      if (cross.length === 2) {
        const ins = f.cyc.filter((c) => inside(c));
        segs.push([faceEdge(cross[0]!), faceEdge(cross[1]!), ins]);
      } else if (cross.length === 4) {
        for (let m = 0; m < 4; m++) {
          if (inside(f.cyc[m]!)) segs.push([faceEdge((m + 3) % 4), faceEdge(m), [f.cyc[m]!]]);
        }
      }
      const F = [0, 0, 0];
      F[f.axis] = f.side ? 1 : -1;
      for (const [ea, eb, ins] of segs) {
        const p = midpoint(ea);
        const q = midpoint(eb);
        const d = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
        const dxF = [d[1]! * F[2]! - d[2]! * F[1]!, d[2]! * F[0]! - d[0]! * F[2]!, d[0]! * F[1]! - d[1]! * F[0]!];
        const cen = [0, 0, 0];
        for (const c of ins) {
          const o = cornerOffset(c);
          for (let r = 0; r < 3; r++) cen[r]! += o[r]! / ins.length;
        }
        const towards = dxF.reduce((s, x, r) => s + x * (cen[r]! - (p[r]! + q[r]!) / 2), 0);
        const [from, to] = towards > 0 ? [ea, eb] : [eb, ea];
        if (next[from] !== -1 || prev[to] !== -1) throw new Error(`inconsistent marching-cubes case ${n}`);
        next[from] = to;
        prev[to] = from;
      }
    }
    const seen = new Uint8Array(12);
    for (let e = 0; e < 12; e++) {
      if (next[e] === -1 || seen[e]) continue;
      const loop: number[] = [];
      let x = e;
      while (!seen[x]) {
        seen[x] = 1;
        loop.push(x);
        x = next[x]!;
        if (x < 0) throw new Error(`open loop in marching-cubes case ${n}`);
      }
      for (const t of triangulateLoop(loop)) tri.push(...t);
    }
  }
  start[256] = tri.length;
  return { start, tri: Uint8Array.from(tri) };
}

/** The faces (0..5, as axis * 2 + side) an edge lies on. */
function edgeFaces(e: number): number[] {
  const E = MC_EDGES[e]!;
  const o = cornerOffset(E.c0);
  const out: number[] = [];
  for (let a = 0; a < 3; a++) if (a !== E.axis) out.push(a * 2 + o[a]!);
  return out;
}

/**
 * Triangulates a loop (cube edge ids, in order) so that no diagonal joins two vertices on the
 * same cube face: such a diagonal would also be a diagonal or segment of the neighbouring cube's
 * surface and make a non-manifold edge. Minimum-weight polygon triangulation (O(n^3), n <= 12),
 * weight 1 per diagonal whose end vertices share a face; ties keep the earliest (fan-like) choice.
 */
export function triangulateLoop(loop: readonly number[]): [number, number, number][] {
  const n = loop.length;
  if (n < 3) throw new Error('degenerate loop');
  const bad = (i: number, j: number): number => {
    if ((j - i + n) % n === 1 || (i - j + n) % n === 1) return 0; // loop segment, not a diagonal
    const fa = edgeFaces(loop[i]!);
    return edgeFaces(loop[j]!).some((f) => fa.includes(f)) ? 1 : 0;
  };
  const cost: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const pick: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(-1));
  for (let len = 2; len < n; len++) {
    for (let i = 0; i + len < n; i++) {
      const j = i + len;
      let best = Infinity;
      for (let k = i + 1; k < j; k++) {
        const c = cost[i]![k]! + cost[k]![j]! + (k - i > 1 ? bad(i, k) : 0) + (j - k > 1 ? bad(k, j) : 0);
        if (c < best) {
          best = c;
          pick[i]![j] = k;
        }
      }
      cost[i]![j] = best;
    }
  }
  const out: [number, number, number][] = [];
  const emit = (i: number, j: number) => {
    if (j - i < 2) return;
    const k = pick[i]![j]!;
    out.push([loop[i]!, loop[k]!, loop[j]!]);
    emit(i, k);
    emit(k, j);
  };
  emit(0, n - 1);
  return out;
}

export const MC_TABLE: McTable = buildMcTable();
