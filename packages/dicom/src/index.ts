export {
  codecReady,
  INIT_CODECS_DEFAULTS,
  type InitCodecsOptions,
  initCodecs,
  type WasmCodecName,
} from './decode/codecs.js';
export * from './deid/anonymize.js';
export { PROFILE_TABLE, PROFILE_TABLE_EDITION } from './deid/profile-table.generated.js';
export type * from './deid/profile-types.js';
export { SAFE_PRIVATE_ATTRIBUTES, type SafePrivateEntry } from './deid/safe-private.js';
export * from './load.js';
export * from './parse.js';
export * from './series/assemble.js';
export * from './series/expand.js';
export * from './series/group.js';
export * from './series/regularize.js';
export * from './series/select.js';
export * from './series/stack.js';
export * from './series/types.js';
export * from './transfer-syntax.js';
export * from './types.js';
export * from './write/ct-series.js';
