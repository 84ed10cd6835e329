/**
 * Supervises the PyTorch trainer (`packages/ai/python/s2s_train.py`) as a child process: starts
 * it on a run folder, reads its JSON-lines protocol (docs/training-protocol.md) from stdout,
 * forwards every event, and turns failures into S2SErrors:
 *  - TRAINER_UNAVAILABLE: no Python, or a Python without PyTorch (exit code 3); the hint says
 *    how to install it;
 *  - TRAINER_FAILED: the trainer's own error message, plus the tail of its stderr.
 * Aborting through `signal` sends SIGTERM to the trainer; its checkpoints are written
 * atomically (temp file + rename), so `resume: true` continues from the last complete epoch.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunOptions, S2SError, throwIfAborted } from '@slice2solid/core';

export interface TrainerEvent {
  event: string;
  [k: string]: unknown;
}

export interface RunTrainerOptions extends RunOptions {
  /** Python interpreter with torch and numpy (default: the first of $SLICE2SOLID_PYTHON, python3, /usr/bin/python3 that has torch). */
  python?: string;
  /** Continue from <run>/checkpoints/last.pt. */
  resume?: boolean;
  /** Called for every protocol event, in order. */
  onEvent?: (e: TrainerEvent) => void;
  /** Extra environment variables for the trainer (e.g. CUDA_VISIBLE_DEVICES, S2S_TRAIN_THREADS). */
  env?: Record<string, string>;
}

export interface RunTrainerResult {
  bestEpoch: number;
  bestMeanValDice: number;
  onnx: string;
  events: TrainerEvent[];
}

export const TRAINER_INSTALL_HINT =
  'install PyTorch: `sudo apt-get install python3-torch` (Debian/Ubuntu, for /usr/bin/python3) or `pip install torch`; ' +
  'or point SLICE2SOLID_PYTHON at a Python that has torch and numpy';

/** Absolute path of the trainer script (the same from src/ and from dist/). */
export function trainerScriptPath(): string {
  // this file is <package>/src/node/train/*.ts or <package>/dist/node/train/*.js
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', '..', 'python', 's2s_train.py');
}

function pythonCandidates(python?: string): string[] {
  if (python) return [python];
  const list = [process.env.SLICE2SOLID_PYTHON, 'python3', '/usr/bin/python3', 'python'];
  return [...new Set(list.filter((p): p is string => typeof p === 'string' && p.length > 0))];
}

function probe(python: string): Promise<string | null> {
  return new Promise((done) => {
    let out = '';
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(python, ['-c', 'import numpy, torch; print(torch.__version__)'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch {
      done(null);
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.on('error', () => {
      clearTimeout(timer);
      done(null);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const v = out.trim().split('\n').pop() ?? '';
      done(code === 0 && v ? v : null);
    });
  });
}

/**
 * The Python interpreter that can run the trainer (imports torch and numpy), with its torch
 * version; null when none can. With `python` given, only that interpreter is tried.
 */
export async function findPythonTorch(python?: string): Promise<{ python: string; torch: string } | null> {
  for (const p of pythonCandidates(python)) {
    if (p.includes('/') && !existsSync(p)) continue;
    const torch = await probe(p);
    if (torch) return { python: p, torch };
  }
  return null;
}

const STDERR_TAIL = 4000;

/** Runs the trainer on a run folder (contract: plan.json, see docs/training-protocol.md). */
export async function runTrainer(runDir: string, options: RunTrainerOptions = {}): Promise<RunTrainerResult> {
  throwIfAborted(options.signal);
  const script = trainerScriptPath();
  if (!existsSync(script)) {
    throw new S2SError('TRAINER_UNAVAILABLE', `the trainer script is missing: ${script}`, {
      hint: 'reinstall @slice2solid/ai (its package includes the python/ folder)',
    });
  }
  if (!existsSync(join(runDir, 'plan.json'))) {
    throw new S2SError('INVALID_ARGUMENT', `the run folder ${runDir} has no plan.json`, {
      hint: 'create the run (plan and data) before starting the trainer',
    });
  }
  let python = options.python;
  if (!python) {
    const found = await findPythonTorch();
    // none found: start the default one anyway, so the trainer itself reports what is missing
    python = found?.python ?? pythonCandidates()[0]!;
  }
  throwIfAborted(options.signal);

  const args = [script, '--run', resolve(runDir)];
  if (options.resume) args.push('--resume');
  const events: TrainerEvent[] = [];
  let stderrTail = '';
  let noise = '';

  return new Promise<RunTrainerResult>((resolvePromise, reject) => {
    const child = spawn(python, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1', ...options.env },
    });
    let settled = false;
    let aborted = false;
    let spawnError: NodeJS.ErrnoException | undefined;
    let pending = '';
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      abortSignal?.removeEventListener('abort', onAbort);
      fn();
    };

    const handleLine = (line: string) => {
      const text = line.trim();
      if (!text) return;
      let obj: unknown;
      if (text.startsWith('{')) {
        try {
          obj = JSON.parse(text);
        } catch {
          obj = undefined;
        }
      }
      if (obj && typeof obj === 'object' && typeof (obj as TrainerEvent).event === 'string') {
        const e = obj as TrainerEvent;
        events.push(e);
        try {
          options.onEvent?.(e);
          if (e.event === 'epoch' && options.onProgress) {
            const epoch = Number(e.epoch);
            const total = Number(e.epochs);
            if (Number.isFinite(epoch) && Number.isFinite(total)) {
              options.onProgress({ stage: 'train', done: epoch, total });
            }
          }
        } catch (cause) {
          // a failing listener stops the training: kill the trainer and report it
          child.kill('SIGTERM');
          finish(() => reject(cause));
        }
      } else {
        noise = `${noise}${text}\n`.slice(-STDERR_TAIL);
      }
    };

    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString('utf8');
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        handleLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      stderrTail = (stderrTail + d.toString('utf8')).slice(-STDERR_TAIL);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = err;
    });

    const abortSignal = options.signal as AbortSignal | undefined;
    const onAbort = () => {
      aborted = true;
      child.kill('SIGTERM');
    };
    if (abortSignal && typeof abortSignal.addEventListener === 'function') {
      abortSignal.addEventListener('abort', onAbort, { once: true });
    }

    child.on('close', (code, sig) => {
      if (pending) handleLine(pending);
      pending = '';
      finish(() => {
        if (aborted || options.signal?.aborted) {
          reject(
            new S2SError('ABORTED', 'the training was cancelled; its checkpoints are kept', {
              hint: 'run it again with resume to continue from the last checkpoint',
              cause: options.signal?.reason,
            }),
          );
          return;
        }
        if (spawnError) {
          const missing = spawnError.code === 'ENOENT';
          reject(
            new S2SError(
              missing ? 'TRAINER_UNAVAILABLE' : 'TRAINER_FAILED',
              missing ? `Python was not found (${python})` : `the trainer could not start: ${spawnError.message}`,
              {
                hint: missing ? `install Python 3 and PyTorch; ${TRAINER_INSTALL_HINT}` : undefined,
                cause: spawnError,
              },
            ),
          );
          return;
        }
        const errorEvent = [...events].reverse().find((e) => e.event === 'error');
        const done = [...events].reverse().find((e) => e.event === 'done');
        if (code === 0 && done) {
          resolvePromise({
            bestEpoch: Number(done.bestEpoch),
            bestMeanValDice: Number(done.bestMeanValDice),
            onnx: String(done.onnx),
            events,
          });
          return;
        }
        const tail = (stderrTail || noise).trim();
        const tailText = tail ? `\n--- trainer stderr (last lines) ---\n${lastLines(tail, 20)}` : '';
        if (code === 3) {
          reject(
            new S2SError(
              'TRAINER_UNAVAILABLE',
              String(errorEvent?.message ?? `PyTorch is not available to ${python}`),
              { hint: TRAINER_INSTALL_HINT },
            ),
          );
          return;
        }
        const how = sig ? `was killed by ${sig}` : `exited with code ${code}`;
        const message = errorEvent
          ? `the trainer failed: ${String(errorEvent.message)}`
          : code === 0
            ? 'the trainer exited without a done event'
            : `the trainer ${how}`;
        reject(
          new S2SError('TRAINER_FAILED', `${message}${tailText}`, {
            hint:
              typeof errorEvent?.hint === 'string' && errorEvent.hint
                ? errorEvent.hint
                : 'see the trainer output above',
          }),
        );
      });
    });
  });
}

function lastLines(text: string, n: number): string {
  const lines = text.split('\n');
  return lines.slice(-n).join('\n');
}
