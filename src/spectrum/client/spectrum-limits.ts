import { Cents, formatMoney } from '../../common/money';

/** Spectrum's field limits for a job / phase / cost type row (docs/spectrum.md, "AddPhase"). */
export const SPECTRUM_LIMITS = {
  job: 10,
  phase: 20,
  costType: 3,
  /** A phase description; longer ones are cut (cutDescription), not flagged. */
  description: 25,
  /** Amounts travel as numeric text of at most 12 characters, e.g. `999999999.99`. */
  amountText: 12,
} as const;

/** Why a job number cannot go to Spectrum, or undefined when it can. */
export function checkJob(job: string): string | undefined {
  return job.length > SPECTRUM_LIMITS.job ? `job "${job}" is longer than Spectrum's ${SPECTRUM_LIMITS.job} characters` : undefined;
}

/**
 * `pJob_Number` (like `pCompany_Code` and `pCost_Type`) is a SuperSelect field (docs/spectrum.md, "Reads";
 * Spectrum's Get Job / Get Phase help pages): `*` any characters, `?` one character, `,` a list,
 * `/` a range, `#` everything but, and `ALL`. A job number holding one of them would read other
 * jobs (or, with `#`, none). Why a job number cannot be used as a read filter, or undefined.
 */
export function superSelectProblem(job: string): string | undefined {
  const trimmed = job.trim();
  const operator = /[*?,/#]/.exec(trimmed)?.[0];
  if (operator) {
    return `job "${trimmed}" contains "${operator}", an operator in Spectrum's SuperSelect fields: reading it would read other jobs; map the project to the job's exact number`;
  }
  if (trimmed.toUpperCase() === 'ALL') {
    return `job "${trimmed}" is Spectrum's SuperSelect keyword ALL: reading it would read every job; map the project to the job's exact number`;
  }
  return undefined;
}

/** Why a phase cannot go to Spectrum (too long, or has a dash), or undefined when it can. */
export function checkPhase(phase: string): string | undefined {
  const issues: string[] = [];
  if (phase.length > SPECTRUM_LIMITS.phase) issues.push(`is longer than Spectrum's ${SPECTRUM_LIMITS.phase} characters`);
  if (phase.includes('-')) issues.push('contains a dash, which Spectrum phases cannot have');
  return issues.length ? `phase "${phase}" ${issues.join(' and ')}` : undefined;
}

/** Why a cost type cannot go to Spectrum, or undefined when it can. */
export function checkCostType(costType: string): string | undefined {
  return costType.length > SPECTRUM_LIMITS.costType
    ? `cost type "${costType}" is longer than Spectrum's ${SPECTRUM_LIMITS.costType} characters`
    : undefined;
}

/** Whether an amount fits Spectrum's 12-character numeric text. */
export function fitsSpectrumAmount(cents: Cents): boolean {
  return formatMoney(cents).length <= SPECTRUM_LIMITS.amountText;
}

/**
 * A description as Spectrum can hold it: trimmed, cut to 25 characters (code points of the NFC
 * form, so a character is never split and an accent never counts twice), trailing spaces dropped.
 * The one cut for the snapshot, AddPhase and the transfer file.
 */
export function cutDescription(text: string): string {
  const chars = Array.from(text.normalize('NFC').trim());
  return chars.length > SPECTRUM_LIMITS.description ? chars.slice(0, SPECTRUM_LIMITS.description).join('').trimEnd() : chars.join('');
}
