import { Cents, MoneyFormatError, parseMoney } from '../../common/money';
import { SpectrumMessage, SpectrumResponseFormatError } from './spectrum.errors';
import { RawRecord } from './spectrum-response.parser';

/** One job of the company, as GetJob returns it. */
export interface SpectrumJob {
  companyCode: string;
  jobNumber: string;
  description: string;
  division: string;
  address1: string;
  address2: string;
  city: string;
  state: string;
  zipCode: string;
  projectManager: string;
  superintendent: string;
  estimator: string;
  certifiedFlag: string;
  customerCode: string;
  /** `A` active, `I` inactive, `C` complete. */
  statusCode: string;
  workStateTaxCode: string;
  contractNumber: string;
  costCenter: string;
  /** A `W`/`G` note Spectrum attached to the record. */
  note?: SpectrumMessage;
}

/**
 * One job / phase / cost type row, as GetPhase returns it. Quantities and hours are decimal text.
 * Amounts are exact cents, or null when Spectrum sent none or text that is not an amount; such a
 * record carries `problems` (a malformed row is flagged where it is used, never read as 0.00).
 */
export interface SpectrumPhase {
  companyCode: string;
  jobNumber: string;
  phaseCode: string;
  costType: string;
  description: string;
  /** `A` active, `I` inactive, `C` complete. */
  statusCode: string;
  unitOfMeasure: string;
  jtdQuantity: string;
  jtdHours: string;
  jtdActualDollars: Cents | null;
  projectedQuantity: string;
  projectedHours: string;
  projectedDollars: Cents | null;
  estimatedQuantity: string;
  estimatedHours: string;
  /**
   * What Spectrum's Cost Activity inquiry shows as "Estimated Cost": reconciliation compares this.
   * Null when the record has no readable estimate (see `problems`): an error, never 0.00.
   */
  currentEstimateDollars: Cents | null;
  costCenter: string;
  /** Why the record cannot be used as it stands (an amount that is missing or not an amount, no key). */
  problems?: string[];
  note?: SpectrumMessage;
}

/** GetPhaseEnhanced adds these to a GetPhase row. Dates are ISO `YYYY-MM-DD` or null. */
export interface SpectrumPhaseEnhanced extends SpectrumPhase {
  priceMethodCode: string;
  completeDate: string | null;
  startDate: string | null;
  endDate: string | null;
  comment: string;
}

/** The fields of one AddPhase call. Omitted or blank fields are sent empty: Spectrum leaves them as they are. */
export interface AddPhaseFields {
  /** Defaults to the client's company. */
  companyCode?: string;
  jobNumber: string;
  phaseCode: string;
  costType: string;
  /** Shared by every cost type of the phase: sending a different text rewrites it for all. */
  description?: string;
  statusCode?: string;
  unitOfMeasure?: string;
  originalEstQuantity?: string;
  originalEstHours?: string;
  originalEstCost?: Cents;
  currentEstQuantity?: string;
  currentEstHours?: string;
  currentEstCost?: Cents;
  bidItemNumber?: string;
  altPhaseCode?: string;
  workCompCode?: string;
  phaseCostCenter?: string;
  /** F, T, C, U or J (job default); required by Spectrum for a new row. */
  priceMethodCode?: string;
}

export interface AddPhaseResult {
  /** True when Spectrum reported no error (`W`/`G` notes may still be present). */
  ok: boolean;
  /** `W` warnings, `G` good-with-message and `S` notes. */
  warnings: SpectrumMessage[];
  /** `A`, `I`, `M` (or an unknown code): the row was not written. */
  errors: SpectrumMessage[];
}

const ERROR_CODES = new Set(['A', 'I', 'M']);
const NOTE_CODES = new Set(['W', 'G', 'S']);

/** Trimmed text of a field; '' when absent or blank. */
export function field(record: RawRecord, name: string): string {
  const value = record[name];
  return value === undefined ? '' : value.trim();
}

/**
 * Exact cents from Spectrum numeric text (`.00`, `859.51`, `-12.5`); blank is zero. The first
 * present name wins, so callers can list a field's alternative spellings.
 */
export function moneyField(record: RawRecord, service: string, ...names: string[]): Cents {
  for (const name of names) {
    if (record[name] === undefined) continue;
    const text = record[name].trim();
    if (text === '') return 0n;
    try {
      return parseMoney(text).cents;
    } catch (error) {
      if (error instanceof MoneyFormatError) {
        throw new SpectrumResponseFormatError(`${name} is not an amount: ${JSON.stringify(text)}`, false, service);
      }
      throw error;
    }
  }
  return 0n;
}

/** Decimal text normalised: `.00` → `0.00`, `-.5` → `-0.5`, blank → `0`. */
export function decimalField(record: RawRecord, name: string): string {
  const text = field(record, name).replace(/,/g, '');
  if (text === '') return '0';
  return text.replace(/^([+-]?)\./, '$10.').replace(/^\+/, '');
}

/** `MM/DD/YYYY` → `YYYY-MM-DD`; blank or unrecognised → null. */
export function dateField(record: RawRecord, name: string): string | null {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(field(record, name));
  if (!m) return null;
  return `${m[3]}-${m[1].padStart(2, '0')}-${m[2].padStart(2, '0')}`;
}

/** The record's `Error_Code` / `Error_Description` / `Error_Column` (or lower-case write form). */
export function recordMessage(record: RawRecord): SpectrumMessage | undefined {
  const code = (field(record, 'Error_Code') || field(record, 'error_code')).toUpperCase();
  if (code === '') return undefined;
  return {
    code,
    message: field(record, 'Error_Description') || field(record, 'desc'),
    column: field(record, 'Error_Column') || field(record, 'column'),
  };
}

export function isErrorCode(code: string): boolean {
  return ERROR_CODES.has(code) || !NOTE_CODES.has(code);
}

export function toJob(record: RawRecord, note?: SpectrumMessage): SpectrumJob {
  return {
    companyCode: field(record, 'Company_Code'),
    jobNumber: field(record, 'Job_Number'),
    description: field(record, 'Job_Description'),
    division: field(record, 'Division'),
    address1: field(record, 'Address_1'),
    address2: field(record, 'Address_2'),
    city: field(record, 'City'),
    state: field(record, 'State'),
    zipCode: field(record, 'Zip_Code'),
    projectManager: field(record, 'Project_Manager'),
    superintendent: field(record, 'Superintendent'),
    estimator: field(record, 'Estimator'),
    certifiedFlag: field(record, 'Certified_Flag'),
    customerCode: field(record, 'Customer_Code'),
    statusCode: field(record, 'Status_Code').toUpperCase(),
    workStateTaxCode: field(record, 'Work_State_Tax_Code'),
    contractNumber: field(record, 'Contract_Number'),
    costCenter: field(record, 'Cost_Center'),
    ...(note ? { note } : {}),
  };
}

export function toPhase(record: RawRecord, _service: string, note?: SpectrumMessage): SpectrumPhase {
  const problems: string[] = [];
  // Live servers say "Estimate", the documentation says "Estimated"; a record with neither (or a
  // blank one) has no estimate at all — flagged, not taken as 0.00 (Spectrum writes zero as `.00`).
  const current = readAmount(record, ['Current_Estimate_Dollars', 'Current_Estimated_Dollars'], true);
  const jtd = readAmount(record, ['JTD_Actual_Dollars'], false);
  const projected = readAmount(record, ['Projected_Dollars'], false);
  for (const amount of [current, jtd, projected]) if (amount.problem) problems.push(amount.problem);
  const phase: SpectrumPhase = {
    companyCode: field(record, 'Company_Code'),
    jobNumber: field(record, 'Job_Number'),
    phaseCode: field(record, 'Phase_Code'),
    costType: field(record, 'Cost_Type'),
    description: field(record, 'Description'),
    statusCode: field(record, 'Status_Code').toUpperCase(),
    unitOfMeasure: field(record, 'Unit_of_Measure'),
    jtdQuantity: decimalField(record, 'JTD_Quantity'),
    jtdHours: decimalField(record, 'JTD_Hours'),
    jtdActualDollars: jtd.value,
    projectedQuantity: decimalField(record, 'Projected_Quantity'),
    projectedHours: decimalField(record, 'Projected_Hours'),
    projectedDollars: projected.value,
    estimatedQuantity: decimalField(record, 'Estimated_Quantity'),
    estimatedHours: decimalField(record, 'Estimated_Hours'),
    currentEstimateDollars: current.value,
    costCenter: field(record, 'Cost_Center'),
    ...(note ? { note } : {}),
  };
  if (!phase.phaseCode) problems.push('the record has no Phase_Code');
  if (!phase.costType) problems.push('the record has no Cost_Type');
  if (problems.length) phase.problems = problems;
  return phase;
}

/**
 * An amount of a read record: the first present spelling; blank or absent is null, and a problem
 * when the amount is `required`; text that is not an amount is null with a problem.
 */
export function readAmount(record: RawRecord, names: string[], required: boolean): { value: Cents | null; problem?: string } {
  const name = names.find((candidate) => record[candidate] !== undefined);
  const text = name === undefined ? '' : record[name].trim();
  if (text === '') {
    return required ? { value: null, problem: `${names[0]} is missing: the record has no estimate` } : { value: null };
  }
  try {
    return { value: parseMoney(text).cents };
  } catch (error) {
    if (error instanceof MoneyFormatError) return { value: null, problem: `${name} is not an amount: ${JSON.stringify(text)}` };
    throw error;
  }
}

export function toPhaseEnhanced(record: RawRecord, service: string, note?: SpectrumMessage): SpectrumPhaseEnhanced {
  return {
    ...toPhase(record, service, note),
    priceMethodCode: field(record, 'Price_Method_Code').toUpperCase(),
    completeDate: dateField(record, 'Complete_Date'),
    startDate: dateField(record, 'Start_Date'),
    endDate: dateField(record, 'End_Date'),
    comment: field(record, 'Comment'),
  };
}

/** Sorts a write service's answer records into errors and notes. No record, or blank codes: success. */
export function toAddPhaseResult(records: RawRecord[]): AddPhaseResult {
  const warnings: SpectrumMessage[] = [];
  const errors: SpectrumMessage[] = [];
  for (const record of records) {
    const message = recordMessage(record);
    if (!message) continue;
    if (isErrorCode(message.code)) {
      errors.push(ERROR_CODES.has(message.code) ? message : { ...message, message: `unknown code: ${message.message}` });
    } else {
      warnings.push(message);
    }
  }
  return { ok: errors.length === 0, warnings, errors };
}
