import { SpectrumPhase } from './client/spectrum-records';

/**
 * Spectrum's rows of the jobs read, indexed so that export planning, the preview and
 * reconciliation find the row Spectrum stores for a budget row the same way.
 *
 * Codes are compared trimmed and upper-cased. A phase code shorter than the job's phase mask is
 * stored by Spectrum in a filled form (docs/spectrum.md, "AddPhase"; Spectrum's Add Job Phase help
 * page: "The Job Cost Installation defines the phase mask and fill option which are used to create
 * the phases"), e.g. `110` as `00110`. So when a job has no phase spelled exactly as the budget
 * spells it, the form Spectrum stored is learnt from GetPhase: a phase of the same job that is the
 * code filled with zeroes, on the left or on the right, to the length of the job's existing phases.
 * Zero is the fill the documentation names ("e.g. with zeroes"); spaces need nothing (they are
 * trimmed). One candidate found: that is the row. Both sides found: ambiguous, reported as such.
 */

export interface PhaseInfo {
  /** The phase code as Spectrum stores it (trimmed). */
  code: string;
  /** The phase's Description (shared by its cost types) exactly as GetPhase returned it (trimmed); '' when none. */
  description: string;
}

/** How a budget row's phase code resolved against Spectrum's phases of the job. */
export interface ResolvedPhase {
  /** The stored phase code: the code itself, or the filled form Spectrum stored; undefined when Spectrum lacks the phase. */
  code?: string;
  /** True when the code was found only in a filled form. */
  filled: boolean;
  /** Set when more than one filled form exists (left and right): nothing is assumed. */
  ambiguous?: string[];
}

/** Codes as Spectrum compares them. */
export function normalizeCode(code: string | null | undefined): string {
  return (code ?? '').trim().toUpperCase();
}

export function rowKey(job: string, phase: string, costType: string): string {
  return `${normalizeCode(job)}|${normalizeCode(phase)}|${normalizeCode(costType)}`;
}

export function phaseKey(job: string, phase: string): string {
  return `${normalizeCode(job)}|${normalizeCode(phase)}`;
}

export class SpectrumRowIndex {
  /** Records by stored job / phase / cost type; more than one is a duplicate in Spectrum. */
  private readonly rows = new Map<string, SpectrumPhase[]>();
  private readonly phases = new Map<string, PhaseInfo>();
  /** Lengths of the stored phase codes, per job. */
  private readonly lengths = new Map<string, Set<number>>();
  /** Cost types used per job. */
  private readonly costTypes = new Map<string, Set<string>>();
  /** Records that have no job, phase or cost type: they match nothing and are reported as unreadable. */
  readonly keyless: SpectrumPhase[] = [];

  constructor(readonly records: SpectrumPhase[]) {
    for (const record of records) {
      if (!record.jobNumber || !record.phaseCode || !record.costType) {
        this.keyless.push(record);
        continue;
      }
      const key = rowKey(record.jobNumber, record.phaseCode, record.costType);
      const list = this.rows.get(key);
      if (list) list.push(record);
      else this.rows.set(key, [record]);
      const phase = phaseKey(record.jobNumber, record.phaseCode);
      const info = this.phases.get(phase);
      if (!info) this.phases.set(phase, { code: record.phaseCode.trim(), description: record.description });
      else if (!info.description && record.description) info.description = record.description;
      const job = normalizeCode(record.jobNumber);
      const lengths = this.lengths.get(job) ?? new Set<number>();
      lengths.add(normalizeCode(record.phaseCode).length);
      this.lengths.set(job, lengths);
      const costTypes = this.costTypes.get(job) ?? new Set<string>();
      costTypes.add(normalizeCode(record.costType));
      this.costTypes.set(job, costTypes);
    }
  }

  /** The stored form of a budget row's phase code in a job (see the class comment). */
  resolvePhase(job: string, phase: string): ResolvedPhase {
    const code = normalizeCode(phase);
    const exact = this.phases.get(phaseKey(job, code));
    if (exact) return { code: exact.code, filled: false };
    const found = new Set<string>();
    for (const length of this.lengths.get(normalizeCode(job)) ?? []) {
      if (length <= code.length || !code) continue;
      const fill = '0'.repeat(length - code.length);
      for (const candidate of [fill + code, code + fill]) {
        const info = this.phases.get(phaseKey(job, candidate));
        if (info) found.add(info.code);
      }
    }
    if (found.size === 1) return { code: [...found][0], filled: true };
    if (found.size > 1) return { filled: true, ambiguous: [...found].sort() };
    return { filled: false };
  }

  /** The phase as Spectrum stores it, or undefined. */
  phase(job: string, phase: string): PhaseInfo | undefined {
    const resolved = this.resolvePhase(job, phase);
    return resolved.code === undefined ? undefined : this.phases.get(phaseKey(job, resolved.code));
  }

  /** The stored key of a budget row: its job, its phase as Spectrum stores it (or as given), its cost type. */
  storedKey(job: string, phase: string, costType: string): string {
    return this.locate(job, phase, costType).key;
  }

  /** A budget row's stored key and how its phase resolved, in one lookup. */
  locate(job: string, phase: string, costType: string): { key: string; resolved: ResolvedPhase } {
    const resolved = this.resolvePhase(job, phase);
    return { key: rowKey(job, resolved.code ?? phase, costType), resolved };
  }

  /** Every record Spectrum holds for a budget row (none, one, or a duplicate's several). */
  find(job: string, phase: string, costType: string): SpectrumPhase[] {
    const resolved = this.resolvePhase(job, phase);
    if (resolved.code === undefined) return [];
    return this.rows.get(rowKey(job, resolved.code, costType)) ?? [];
  }

  /** The records of a stored key (see storedKey). */
  atKey(key: string): SpectrumPhase[] {
    return this.rows.get(key) ?? [];
  }

  /** Every stored key with its records, in job / phase / cost type order. */
  entries(): Array<[string, SpectrumPhase[]]> {
    return [...this.rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Whether the job has any row with this cost type (a hint for the preview). */
  jobUsesCostType(job: string, costType: string): boolean {
    return this.costTypes.get(normalizeCode(job))?.has(normalizeCode(costType)) ?? false;
  }
}
