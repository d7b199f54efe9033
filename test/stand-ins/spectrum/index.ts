export * from './spectrum-stand-in';
export * from './spectrum-stand-in.seed';
export type { JobStatus, PhaseSeed, StandInJob, StandInMessage, StandInPhaseRow } from './spectrum-stand-in.store';
