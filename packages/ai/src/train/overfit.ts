/**
 * Overfitting warnings from the per-epoch curves: the training loss keeps falling while the
 * validation Dice falls for `patience` epochs in a row, or the training and validation losses
 * drift far apart (validation loss more than `gapRatio` times the training loss, while the
 * validation loss rises from its best).
 */
export interface OverfitOptions {
  /** Consecutive epochs of falling validation Dice (with falling training loss) that trigger a warning. */
  readonly patience?: number;
  /** Validation loss / training loss ratio that counts as a large gap. */
  readonly gapRatio?: number;
  /** Changes smaller than this are "flat", not falling. */
  readonly epsilon?: number;
}

export const OVERFIT_DEFAULTS = { patience: 3, gapRatio: 2, epsilon: 1e-4 } as const;

export interface EpochPoint {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valLoss?: number | undefined;
  readonly meanValDice?: number | undefined;
}

export interface OverfitWarning {
  readonly epoch: number;
  readonly kind: 'diverging' | 'gap';
  readonly message: string;
}

/** Feeds epochs one at a time; returns a warning the first time each condition starts to hold. */
export class OverfitDetector {
  private readonly o: Required<OverfitOptions>;
  private readonly points: EpochPoint[] = [];
  private divergingSince: number | null = null;
  private gapWarned = false;

  constructor(options: OverfitOptions = {}) {
    this.o = { ...OVERFIT_DEFAULTS, ...options };
  }

  add(p: EpochPoint): OverfitWarning[] {
    this.points.push(p);
    const out: OverfitWarning[] = [];
    const { patience, epsilon, gapRatio } = this.o;
    const n = this.points.length;
    if (n > patience) {
      const tail = this.points.slice(n - patience - 1);
      let diverging = true;
      for (let t = 1; t < tail.length; t++) {
        const a = tail[t - 1]!;
        const b = tail[t]!;
        if (a.meanValDice === undefined || b.meanValDice === undefined) diverging = false;
        else if (!(b.trainLoss < a.trainLoss - epsilon && b.meanValDice < a.meanValDice - epsilon)) diverging = false;
      }
      if (diverging && this.divergingSince === null) {
        this.divergingSince = p.epoch;
        out.push({
          epoch: p.epoch,
          kind: 'diverging',
          message: `epoch ${p.epoch}: training loss fell for ${patience} epochs while validation Dice fell (${tail[0]!.meanValDice!.toFixed(3)} -> ${p.meanValDice!.toFixed(3)}): the model is overfitting; the best checkpoint is kept, consider more data, more augmentation or fewer epochs`,
        });
      } else if (!diverging) this.divergingSince = null;
    }
    if (!this.gapWarned && p.valLoss !== undefined && p.trainLoss > 0) {
      const bestVal = Math.min(...this.points.map((q) => q.valLoss ?? Infinity));
      if (p.valLoss > gapRatio * p.trainLoss && p.valLoss > bestVal + epsilon) {
        this.gapWarned = true;
        out.push({
          epoch: p.epoch,
          kind: 'gap',
          message: `epoch ${p.epoch}: validation loss ${p.valLoss.toFixed(4)} is ${(p.valLoss / p.trainLoss).toFixed(1)}x the training loss ${p.trainLoss.toFixed(4)} and rising: large train/validation gap (overfitting or a validation set unlike the training set)`,
        });
      }
    }
    return out;
  }
}

/** A one-line progress bar with ETA, e.g. `[#####-----] 50% epoch 5/10 loss 0.31 dice 0.82 ETA 1m20s`. */
export function progressLine(done: number, total: number, elapsedSeconds: number, extra: string, width = 24): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(f * width);
  const eta =
    done > 0 && done < total ? formatDuration((elapsedSeconds / done) * (total - done)) : done >= total ? 'done' : '--';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(f * 100)).padStart(3)}% ${extra} ETA ${eta}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
