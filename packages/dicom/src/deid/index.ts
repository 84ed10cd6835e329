/**
 * The de-identification entry point alone (`@slice2solid/dicom/deid`): what `slice2solid anonymize`
 * needs, without the loaders, codecs and series code the package index also brings in (start-up time).
 */
export * from './anonymize.js';
export { PROFILE_TABLE, PROFILE_TABLE_EDITION } from './profile-table.generated.js';
export type * from './profile-types.js';
export { SAFE_PRIVATE_ATTRIBUTES, type SafePrivateEntry } from './safe-private.js';
