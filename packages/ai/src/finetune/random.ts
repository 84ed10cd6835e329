/** A seeded pseudo-random generator (mulberry32 over a mixed seed): uniform in [0, 1). */
export function seededUniform(seed: number): () => number {
  let a = (Math.imul((seed | 0) ^ 0x5bd1e995, 0x27d4eb2d) ^ 0x165667b1) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shuffles `a` in place (Fisher-Yates) with `rnd`. */
export function shuffleInPlace<T>(a: { length: number; [i: number]: T }, rnd: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}
