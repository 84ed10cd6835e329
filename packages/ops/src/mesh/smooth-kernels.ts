/**
 * The passes of the windowed-sinc recurrence (smooth-windowed-sinc.ts) over a range of vertices
 * [start, end): pure functions of their arguments that write only the range's own entries of x0,
 * x1 and x3, so they can run on any thread (registered in parallel/kernels.ts) and the result is
 * the same whatever the split.
 */

export interface SmoothListsArgs {
  /** Raw neighbour lists: adj[off[v] .. off[v + 1]), each neighbour once per triangle on the edge. */
  readonly off: Int32Array;
  readonly adj: Int32Array;
  /** Out: how many neighbours v keeps (they are left, as 3 * index, at the start of its list). */
  readonly cnt: Int32Array;
  /** 1: boundary 'smooth', 0: 'fixed'. */
  readonly smoothCurves: number;
}

/**
 * Per vertex: sorts its raw list (short: insertion sort), counts the distinct neighbours
 * (degree) and those whose edge is not used by exactly two triangles (special), and keeps, in
 * ascending order, all of them (interior vertex), the two special ones (curve vertex with
 * boundary 'smooth') or none (fixed vertex). See smooth-common.ts for the vertex classes.
 */
export function smoothListsPass(a: SmoothListsArgs, start: number, end: number): void {
  const { off, adj, cnt } = a;
  const smoothCurves = a.smoothCurves === 1;
  for (let v = start; v < end; v++) {
    const s = off[v]!;
    const e = off[v + 1]!;
    for (let i = s + 1; i < e; i++) {
      const x = adj[i]!;
      let j = i - 1;
      while (j >= s && adj[j]! > x) {
        adj[j + 1] = adj[j]!;
        j--;
      }
      adj[j + 1] = x;
    }
    let special = 0;
    for (let i = s; i < e; ) {
      const u = adj[i]!;
      let k = i + 1;
      while (k < e && adj[k] === u) k++;
      if (k - i !== 2) special++;
      i = k;
    }
    // compacted in place: the write position never passes the read position
    let w = s;
    if (special === 0) {
      for (let i = s; i < e; ) {
        const u = adj[i]!;
        adj[w++] = 3 * u;
        i++;
        while (i < e && adj[i] === u) i++;
      }
    } else if (smoothCurves && special === 2) {
      for (let i = s; i < e; ) {
        const u = adj[i]!;
        let k = i + 1;
        while (k < e && adj[k] === u) k++;
        if (k - i !== 2) adj[w++] = 3 * u;
        i = k;
      }
    }
    cnt[v] = w - s;
  }
}

export interface SincArrays {
  /** Neighbours of v: nbr3[off[v] .. off[v + 1]), each as 3 * vertex index; empty = fixed vertex. */
  readonly off: Int32Array;
  readonly nbr3: Int32Array;
  /** Interleaved xyz signals of the recurrence (see sincStepPass) and the filtered sum. */
  readonly x0: Float64Array;
  readonly x1: Float64Array;
  readonly x3: Float64Array;
}

export interface SincFirstArgs extends SincArrays {
  readonly c0: number;
  readonly c1: number;
}

export interface SincStepArgs extends SincArrays {
  readonly cj: number;
}

/**
 * x1 = (x0 + avg(x0)) / 2 and x3 = c0 x0 + c1 x1 in one pass (the average of a fixed vertex is
 * itself). Same arithmetic, operation for operation, as averageNeighbours followed by the update.
 */
export function sincFirstPass(a: SincFirstArgs, start: number, end: number): void {
  const { off, nbr3, x0, x1, x3, c0, c1 } = a;
  for (let v = start; v < end; v++) {
    const s = off[v]!;
    const e = off[v + 1]!;
    const m = 3 * v;
    const p0 = x0[m]!;
    const p1 = x0[m + 1]!;
    const p2 = x0[m + 2]!;
    let ax = p0;
    let ay = p1;
    let az = p2;
    if (s !== e) {
      let x = 0;
      let y = 0;
      let z = 0;
      for (let k = s; k < e; k++) {
        const u = nbr3[k]!;
        x += x0[u]!;
        y += x0[u + 1]!;
        z += x0[u + 2]!;
      }
      const w = 1 / (e - s);
      ax = x * w;
      ay = y * w;
      az = z * w;
    }
    const q0 = 0.5 * (p0 + ax);
    const q1 = 0.5 * (p1 + ay);
    const q2 = 0.5 * (p2 + az);
    x1[m] = q0;
    x1[m + 1] = q1;
    x1[m + 2] = q2;
    x3[m] = c0 * p0 + c1 * q0;
    x3[m + 1] = c0 * p1 + c1 * q1;
    x3[m + 2] = c0 * p2 + c1 * q2;
  }
}

/** x0 <- avg(x1) + x1 - x0 (the next Chebyshev term, in place) and x3 += cj * x0, in one pass. */
export function sincStepPass(a: SincStepArgs, start: number, end: number): void {
  const { off, nbr3, x0, x1, x3, cj } = a;
  for (let v = start; v < end; v++) {
    const s = off[v]!;
    const e = off[v + 1]!;
    const m = 3 * v;
    const p0 = x1[m]!;
    const p1 = x1[m + 1]!;
    const p2 = x1[m + 2]!;
    let ax = p0;
    let ay = p1;
    let az = p2;
    if (s !== e) {
      let x = 0;
      let y = 0;
      let z = 0;
      for (let k = s; k < e; k++) {
        const u = nbr3[k]!;
        x += x1[u]!;
        y += x1[u + 1]!;
        z += x1[u + 2]!;
      }
      const w = 1 / (e - s);
      ax = x * w;
      ay = y * w;
      az = z * w;
    }
    const r0 = ax + p0 - x0[m]!;
    const r1 = ay + p1 - x0[m + 1]!;
    const r2 = az + p2 - x0[m + 2]!;
    x0[m] = r0;
    x0[m + 1] = r1;
    x0[m + 2] = r2;
    x3[m]! += cj * r0;
    x3[m + 1]! += cj * r1;
    x3[m + 2]! += cj * r2;
  }
}

/** Arguments of the 'smooth.count' and 'smooth.fill' kernels (raw neighbour lists, by vertex range). */
export interface SmoothRawListsArgs {
  readonly I: Uint32Array;
  /** count: off[v + 1] += raw list length of v; fill: unused. */
  readonly off: Int32Array;
  /** fill: next free slot of each vertex's list (starts at off[v]); count: unused. */
  readonly fill: Int32Array;
  readonly adj: Int32Array;
}

/**
 * For the vertices v in [start, end): off[v + 1] = the number of half-edges u -> w (u !== w) with
 * v at either end, over all triangles (each range scans every triangle and counts only its own
 * vertices, so ranges write disjoint entries).
 */
export function smoothCountPass(a: SmoothRawListsArgs, start: number, end: number): void {
  const { I, off } = a;
  const n3 = I.length;
  const len = end - start;
  for (let t = 0; t < n3; t += 3) {
    const p = I[t]!;
    const q = I[t + 1]!;
    const r = I[t + 2]!;
    const pIn = (p - start) >>> 0 < len;
    const qIn = (q - start) >>> 0 < len;
    const rIn = (r - start) >>> 0 < len;
    if (!(pIn || qIn || rIn)) continue;
    if (p !== q) {
      if (pIn) off[p + 1]!++;
      if (qIn) off[q + 1]!++;
    }
    if (q !== r) {
      if (qIn) off[q + 1]!++;
      if (rIn) off[r + 1]!++;
    }
    if (r !== p) {
      if (rIn) off[r + 1]!++;
      if (pIn) off[p + 1]!++;
    }
  }
}

/** For the vertices in [start, end): appends their raw neighbours in triangle order (as the one-thread fill). */
export function smoothFillPass(a: SmoothRawListsArgs, start: number, end: number): void {
  const { I, fill, adj } = a;
  const n3 = I.length;
  const len = end - start;
  for (let t = 0; t < n3; t += 3) {
    const p = I[t]!;
    const q = I[t + 1]!;
    const r = I[t + 2]!;
    const pIn = (p - start) >>> 0 < len;
    const qIn = (q - start) >>> 0 < len;
    const rIn = (r - start) >>> 0 < len;
    if (!(pIn || qIn || rIn)) continue;
    if (p !== q) {
      if (pIn) adj[fill[p]!++] = q;
      if (qIn) adj[fill[q]!++] = p;
    }
    if (q !== r) {
      if (qIn) adj[fill[q]!++] = r;
      if (rIn) adj[fill[r]!++] = q;
    }
    if (r !== p) {
      if (rIn) adj[fill[r]!++] = p;
      if (pIn) adj[fill[p]!++] = r;
    }
  }
}

/** Arguments of the 'smooth.pack' kernel. */
export interface SmoothPackArgs {
  readonly off: Int32Array;
  readonly adj: Int32Array;
  readonly cnt: Int32Array;
  /** Packed offsets (prefix sums of cnt). */
  readonly out: Int32Array;
  readonly nbr3: Int32Array;
}

/** Copies the kept neighbours of the vertices in [start, end) to their packed place. */
export function smoothPackPass(a: SmoothPackArgs, start: number, end: number): void {
  const { off, adj, cnt, out, nbr3 } = a;
  for (let v = start; v < end; v++) {
    const s = off[v]!;
    const d = out[v]!;
    const k = cnt[v]!;
    for (let i = 0; i < k; i++) nbr3[d + i] = adj[s + i]!;
  }
}
