/**
 * The command registry. To add a command: create `./<name>.ts` exporting a `Command` (see
 * ./types.ts) and add ONE line to COMMANDS below.
 */
import { anonymizeCommand } from './anonymize.js';
import { convertCommand } from './convert.js';
import { demoCommand } from './demo.js';
import { infoCommand } from './info.js';
import { meshCommand } from './mesh.js';
import { segmentCommand } from './segment.js';
import { statsCommand } from './stats.js';
import type { Command } from './types.js';
import { volumeCommand } from './volume.js';

export const COMMANDS: readonly Command[] = [
  infoCommand, // slice2solid info
  volumeCommand, // slice2solid volume
  demoCommand, // slice2solid demo
  anonymizeCommand, // slice2solid anonymize
  segmentCommand, // slice2solid segment
  statsCommand, // slice2solid stats
  convertCommand, // slice2solid convert
  meshCommand, // slice2solid mesh
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export * from './types.js';
