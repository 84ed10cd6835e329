/** Actions of PS3.15 Table E.1-1 (Basic Profile column and the combined codes). */
export type BasicAction = 'D' | 'Z' | 'X' | 'K' | 'C' | 'U' | 'Z/D' | 'X/Z' | 'X/D' | 'X/Z/D' | 'X/Z/U*';
/** Actions in the option columns. */
export type OptionAction = 'K' | 'C' | 'X' | 'D' | 'Z' | 'U';

/** The option columns of Table E.1-1. */
export type ProfileOptionName =
  | 'retainSafePrivate'
  | 'retainUIDs'
  | 'retainDeviceIdentity'
  | 'retainInstitutionIdentity'
  | 'retainPatientCharacteristics'
  | 'retainLongFullDates'
  | 'retainLongModifiedDates'
  | 'cleanDescriptors'
  | 'cleanStructuredContent'
  | 'cleanGraphics';

export interface ProfileTableEntry {
  /** 8 hex digits GGGGEEEE, X = any hex digit; or 'private' for odd groups. */
  readonly tag: string;
  readonly name: string;
  readonly basic: BasicAction;
  readonly inStdCompIOD: boolean;
  readonly options: Readonly<Partial<Record<ProfileOptionName, OptionAction>>>;
}
