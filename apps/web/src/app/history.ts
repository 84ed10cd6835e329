/**
 * Undo / redo for the label map (no DOM), within a memory budget.
 *
 * Two kinds of entries:
 * - 'full': a whole-volume step (threshold, region growing, island removal, fill between slices)
 *   made a NEW label array; the entry keeps the array before and after (references, no copies:
 *   the previous array simply stays alive while it can be undone to).
 * - 'patch': an in-place edit (brush, eraser): the touched voxel offsets with their old and new
 *   values.
 * When the entries hold more than `budgetBytes`, the oldest are dropped.
 */
export type LabelArray = Uint8Array;

export type HistoryEntry =
  | { readonly kind: 'full'; readonly label: string; readonly before: LabelArray; readonly after: LabelArray }
  | {
      readonly kind: 'patch';
      readonly label: string;
      readonly index: Uint32Array;
      readonly before: Uint8Array;
      readonly after: Uint8Array;
    };

export const HISTORY_DEFAULTS = {
  /** Bytes of undo data kept at most (the current label array is not counted). */
  budgetBytes: 768 * 1024 * 1024,
  /** Entries kept at most. */
  maxEntries: 50,
} as const;

function entryBytes(e: HistoryEntry): number {
  return e.kind === 'full' ? e.before.byteLength : e.index.byteLength + e.before.byteLength + e.after.byteLength;
}

export class LabelHistory {
  private entries: HistoryEntry[] = [];
  /** entries[0 .. at) are done; entries[at ..] can be redone. */
  private at = 0;

  constructor(
    private readonly budgetBytes: number = HISTORY_DEFAULTS.budgetBytes,
    private readonly maxEntries: number = HISTORY_DEFAULTS.maxEntries,
  ) {}

  get canUndo(): boolean {
    return this.at > 0;
  }

  get canRedo(): boolean {
    return this.at < this.entries.length;
  }

  /** Label of the step undo would revert (for button titles). */
  get undoLabel(): string | undefined {
    return this.entries[this.at - 1]?.label;
  }

  get redoLabel(): string | undefined {
    return this.entries[this.at]?.label;
  }

  get size(): number {
    return this.entries.length;
  }

  clear(): void {
    this.entries = [];
    this.at = 0;
  }

  push(entry: HistoryEntry): void {
    this.entries.length = this.at; // a new step drops the redo branch
    this.entries.push(entry);
    this.at = this.entries.length;
    this.trim();
  }

  /** Reverts the last step; returns the label array that is current afterwards. */
  undo(current: LabelArray): LabelArray {
    const e = this.entries[this.at - 1];
    if (!e) return current;
    this.at--;
    if (e.kind === 'full') return e.before;
    for (let n = 0; n < e.index.length; n++) current[e.index[n]!] = e.before[n]!;
    return current;
  }

  /** Re-applies the next step; returns the label array that is current afterwards. */
  redo(current: LabelArray): LabelArray {
    const e = this.entries[this.at];
    if (!e) return current;
    this.at++;
    if (e.kind === 'full') return e.after;
    for (let n = 0; n < e.index.length; n++) current[e.index[n]!] = e.after[n]!;
    return current;
  }

  private trim(): void {
    let total = 0;
    for (const e of this.entries) total += entryBytes(e);
    while (this.entries.length > 1 && (total > this.budgetBytes || this.entries.length > this.maxEntries)) {
      const e = this.entries.shift()!;
      total -= entryBytes(e);
      this.at--;
    }
  }
}
