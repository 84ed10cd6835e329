/**
 * The light command registry: name and one-line summary of every command, and how to load it.
 * The CLI lists commands from here and imports a command's module (which pulls in the heavy
 * packages: dicom, io, ops) only when that command is run or its help is asked, so that
 * `slice2solid --version`, `--help` and light commands start fast.
 *
 * To add a command: create `./<name>.ts` exporting a `Command` (see ./types.ts) whose `summary` is
 * `commandSummary('<name>')`, and add ONE entry to COMMAND_ENTRIES below.
 */
import type { Command } from './types.js';

export interface CommandEntry {
  /** The word after `slice2solid`. */
  readonly name: string;
  /** One line for the command list (the command's `summary`). */
  readonly summary: string;
  /** Imports the command's module. */
  load(): Promise<Command>;
}

export const COMMAND_ENTRIES = [
  {
    name: 'info',
    summary: 'show the series found and the geometry of the image that would be loaded',
    load: async () => (await import('./info.js')).infoCommand,
  },
  {
    name: 'volume',
    summary: 'load an image and write it as NIfTI, NRRD or MetaImage',
    load: async () => (await import('./volume.js')).volumeCommand,
  },
  {
    name: 'demo',
    summary: 'make the built-in CT head phantom, write it as DICOM, load it back and turn it into a 3D model',
    load: async () => (await import('./demo.js')).demoCommand,
  },
  {
    name: 'anonymize',
    summary: 'de-identify DICOM (PS3.15 Basic Profile) from a file, folder or zip',
    load: async () => (await import('./anonymize.js')).anonymizeCommand,
  },
  {
    name: 'segment',
    summary: 'threshold and clean one structure into a label map',
    load: async () => (await import('./segment.js')).segmentCommand,
  },
  {
    name: 'stats',
    summary: 'per-structure volume, bounding box, centroid and intensities of a label map',
    load: async () => (await import('./stats.js')).statsCommand,
  },
  {
    name: 'convert',
    summary: 'turn a scan into a 3D model (STL, GLB, OBJ, PLY, 3MF) with an accuracy report',
    load: async () => (await import('./convert.js')).convertCommand,
  },
  {
    name: 'mesh',
    summary: 'turn a label map into a 3D model, one structure per label, with an accuracy report',
    load: async () => (await import('./mesh.js')).meshCommand,
  },
  {
    name: 'serve',
    summary: 'serve the web app on this machine: drop a scan in the browser and get the 3D model (nothing is uploaded)',
    load: async () => (await import('./serve.js')).serveCommand,
  },
  {
    name: 'models',
    summary: 'list, add, remove and describe the AI segmentation models installed on this machine',
    load: async () => (await import('./models.js')).modelsCommand,
  },
  {
    name: 'finetune',
    summary:
      'adapt a model to your scans in TypeScript: retrain its last layer on a labelled dataset (backbone frozen)',
    load: async () => (await import('./finetune.js')).finetuneCommand,
  },
  {
    name: 'train',
    summary: 'train a 3D segmentation model on (scan, labels) pairs and package it with test metrics',
    load: async () => (await import('./train.js')).trainCommand,
  },
  {
    name: 'evaluate',
    summary: 'per-case and per-structure Dice, HD95, surface Dice and volume error of a model on labelled cases',
    load: async () => (await import('./evaluate.js')).evaluateCommand,
  },
] as const satisfies readonly CommandEntry[];

export type CommandName = (typeof COMMAND_ENTRIES)[number]['name'];

/** The registry entry of a command, or undefined for an unknown name. */
export function findCommandEntry(name: string): CommandEntry | undefined {
  return (COMMAND_ENTRIES as readonly CommandEntry[]).find((c) => c.name === name);
}

/** The one-line summary of a command (the single source: command modules use it too). */
export function commandSummary(name: CommandName): string {
  return findCommandEntry(name)!.summary;
}

/** Imports and returns the command called `name`, or undefined for an unknown name. */
export async function loadCommand(name: string): Promise<Command | undefined> {
  const entry = findCommandEntry(name);
  if (!entry) return undefined;
  const command = await entry.load();
  if (command.name !== entry.name) throw new Error(`command registry: "${entry.name}" loaded "${command.name}"`);
  return command;
}

/** Imports every command (for tools that need the full list with usage and options). */
export async function loadAllCommands(): Promise<Command[]> {
  return Promise.all(COMMAND_ENTRIES.map((e) => e.load()));
}
