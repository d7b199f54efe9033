import { Cents, parseMoney } from '../../../src/common/money';

/**
 * State of the Spectrum stand-in: one company's jobs, cost types and phases, with Spectrum's rules.
 * Every rule below comes from docs/spectrum.md (the captured behaviour of real servers) or from
 * Spectrum's public help pages; the few that are inferred say so.
 */

export type JobStatus = 'A' | 'I' | 'C';

export interface StandInJob {
  jobNumber: string;
  description: string;
  statusCode: JobStatus;
  division?: string;
  address1?: string;
  city?: string;
  state?: string;
  zipCode?: string;
  projectManager?: string;
  superintendent?: string;
  estimator?: string;
  customerCode?: string;
  contractNumber?: string;
  costCenter?: string;
  /**
   * The job's phase mask as far as AddPhase is concerned: a phase code shorter than `length` is
   * stored filled to it (docs/spectrum.md, "AddPhase": a code shorter than the mask is stored filled per the Job Cost
   * Installation's fill option, e.g. with zeroes, so the code Spectrum stores and returns can differ
   * from the code sent; Spectrum's Add Job Phase help page: "The Job Cost Installation
   * defines the phase mask and fill option which are used to create the phases"). `fill` defaults
   * to `0` and `side` to `left` (inferred: the documentation says "e.g. with zeroes" and names no
   * side). A longer code is refused (inferred message). Unset: codes are stored as sent.
   */
  phaseMask?: { length: number; fill?: string; side?: 'left' | 'right' };
}

/** One job / phase / cost type row as the stand-in stores it. `null` amounts were never set. */
export interface StandInPhaseRow {
  jobNumber: string;
  phaseCode: string;
  costType: string;
  /** The phase's description, shared by every cost type of the phase. */
  description: string;
  statusCode: string;
  unitOfMeasure: string;
  originalEstQuantity: string | null;
  originalEstHours: string | null;
  originalEstCost: Cents | null;
  currentEstQuantity: string | null;
  currentEstHours: string | null;
  currentEstCost: Cents | null;
  jtdQuantity: string;
  jtdHours: string;
  jtdActualDollars: Cents;
  projectedQuantity: string;
  projectedHours: string;
  projectedDollars: Cents;
  bidItemNumber: string;
  altPhaseCode: string;
  workCompCode: string;
  costCenter: string;
  priceMethodCode: string;
  startDate: string;
  endDate: string;
  completeDate: string;
  comment: string;
}

/** Seeding input: amounts as cents or decimal text. */
export type PhaseSeed = Partial<Omit<StandInPhaseRow, 'originalEstCost' | 'currentEstCost' | 'jtdActualDollars' | 'projectedDollars'>> & {
  jobNumber: string;
  phaseCode: string;
  costType: string;
  originalEstCost?: Cents | string | null;
  currentEstCost?: Cents | string | null;
  jtdActualDollars?: Cents | string;
  projectedDollars?: Cents | string;
};

/** An answer record of a write service: `error_code` A/I/M/W/G with `desc` and `column`. */
export interface StandInMessage {
  code: string;
  desc: string;
  column: string;
}

interface PhaseEntry {
  description: string;
  rows: Map<string, StandInPhaseRow>;
}

type RowSetter = Omit<StandInPhaseRow, 'jobNumber' | 'phaseCode' | 'costType' | 'description'>;
type RowRest = Omit<RowSetter, 'statusCode'>;

const LIMITS: Record<string, number> = {
  Company_Code: 3,
  Job_Number: 10,
  Phase_Code: 20,
  Cost_Type: 3,
  Description: 25,
  Status_Code: 1,
  Unit_of_Measure: 3,
  Original_Est_Quantity: 11,
  Original_Est_Hours: 10,
  Original_Est_Cost: 12,
  Current_Est_Quantity: 11,
  Current_Est_Hours: 10,
  Current_Est_Cost: 12,
  Bid_Item_Number: 10,
  Alt_Phase_Code: 20,
  Work_Comp_Code: 6,
  Phase_Cost_Center: 10,
  Price_Method_Code: 1,
};
const NUMERIC_FIELDS = [
  'Original_Est_Quantity',
  'Original_Est_Hours',
  'Original_Est_Cost',
  'Current_Est_Quantity',
  'Current_Est_Hours',
  'Current_Est_Cost',
];
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const PRICE_METHODS = new Set(['F', 'T', 'C', 'U', 'J']);
const ROW_STATUSES = new Set(['A', 'I', 'C']);

export interface AddPhaseOutcome {
  errors: StandInMessage[];
  /** Set when the row was written. */
  row?: StandInPhaseRow;
  createdRow?: boolean;
  createdPhase?: boolean;
}

export class SpectrumStandInStore {
  readonly jobs = new Map<string, StandInJob>();
  readonly costTypes = new Map<string, string>();
  private readonly phases = new Map<string, Map<string, PhaseEntry>>();

  constructor(
    public companyCode: string,
    public authorizationId: string,
  ) {}

  reset(): void {
    this.jobs.clear();
    this.costTypes.clear();
    this.phases.clear();
  }

  addJob(job: Omit<StandInJob, 'statusCode'> & { statusCode?: JobStatus }): void {
    this.jobs.set(job.jobNumber, { statusCode: 'A', ...job });
  }

  addCostType(code: string, description = ''): void {
    this.costTypes.set(code, description);
  }

  /** Creates or replaces a row as given (no validation); `description` rewrites the phase's text. */
  setPhase(seed: PhaseSeed): StandInPhaseRow {
    const entry = this.phaseEntry(seed.jobNumber, seed.phaseCode, true)!;
    if (seed.description !== undefined) entry.description = seed.description;
    const existing = entry.rows.get(seed.costType);
    const base = existing ?? blankRow(seed.jobNumber, seed.phaseCode, seed.costType);
    const row: StandInPhaseRow = {
      ...base,
      ...stripUndefined(seed),
      description: entry.description,
      originalEstCost: seed.originalEstCost === undefined ? base.originalEstCost : toCentsOrNull(seed.originalEstCost),
      currentEstCost: seed.currentEstCost === undefined ? base.currentEstCost : toCentsOrNull(seed.currentEstCost),
      jtdActualDollars: seed.jtdActualDollars === undefined ? base.jtdActualDollars : toCentsOrNull(seed.jtdActualDollars)!,
      projectedDollars: seed.projectedDollars === undefined ? base.projectedDollars : toCentsOrNull(seed.projectedDollars)!,
    };
    if (seed.currentEstCost === undefined && row.currentEstCost === null) row.currentEstCost = row.originalEstCost;
    entry.rows.set(seed.costType, row);
    return { ...row };
  }

  getPhase(jobNumber: string, phaseCode: string, costType: string): StandInPhaseRow | undefined {
    const entry = this.phaseEntry(jobNumber, phaseCode, false);
    const row = entry?.rows.get(costType);
    return row ? { ...row, description: entry!.description } : undefined;
  }

  /** Rows sorted by job, phase, cost type; optionally one job only. */
  listPhases(jobNumber?: string): StandInPhaseRow[] {
    const rows: StandInPhaseRow[] = [];
    const jobs = jobNumber === undefined ? [...this.phases.keys()].sort() : [jobNumber];
    for (const job of jobs) {
      const phases = this.phases.get(job);
      if (!phases) continue;
      for (const phaseCode of [...phases.keys()].sort()) {
        const entry = phases.get(phaseCode)!;
        for (const costType of [...entry.rows.keys()].sort()) {
          rows.push({ ...entry.rows.get(costType)!, description: entry.description });
        }
      }
    }
    return rows;
  }

  /**
   * AddPhase as Spectrum applies it: validate (every problem becomes an I or M record), then set
   * the non-blank fields; blank fields keep their value; blank current values take the original;
   * a description rewrites the phase for every cost type.
   */
  addPhase(fields: Record<string, string>, options: { currentEstimateDisplayOnly: boolean }): AddPhaseOutcome {
    const value = (name: string) => (fields[name] ?? '').trim();
    const errors: StandInMessage[] = [];
    const fail = (code: 'A' | 'I' | 'M', column: string, desc: string) => errors.push({ code, desc, column });

    if (value('Authorization_ID') !== this.authorizationId) {
      // The answer of a public capture of a Put service (AddGLAccount) to an unknown Authorization ID.
      fail('A', 'Authorization_ID', 'The Web Service is not authorized. Authorization ID is not setup in the system.');
      return { errors };
    }
    const company = value('Company_Code');
    if (company && company !== this.companyCode) fail('I', 'Company_Code', `Invalid company code ${company}`);

    for (const [name, max] of Object.entries(LIMITS)) {
      if (value(name).length > max) fail('I', name, `${name.replace(/_/g, ' ')} exceeds ${max} characters`);
    }
    for (const name of NUMERIC_FIELDS) {
      const text = value(name);
      if (text && !NUMERIC.test(text)) fail('I', name, `${name.replace(/_/g, ' ')} must be numeric`);
    }

    const jobNumber = value('Job_Number');
    const job = this.jobs.get(jobNumber);
    const sentPhase = value('Phase_Code');
    const phaseCode = job?.phaseMask ? fillToMask(sentPhase, job.phaseMask) : sentPhase;
    const costType = value('Cost_Type');
    if (!jobNumber) fail('M', 'Job_Number', 'Job number is required');
    else if (jobNumber.length <= LIMITS.Job_Number) {
      if (!job) fail('I', 'Job_Number', `Job ${jobNumber} does not exist`);
      else if (job.statusCode === 'C') fail('I', 'Job_Number', `Job ${jobNumber} is complete`);
    }
    if (!phaseCode) fail('M', 'Phase_Code', 'Phase code is required');
    else if (phaseCode.includes('-')) fail('I', 'Phase_Code', 'Phase code may not contain dashes');
    else if (job?.phaseMask && phaseCode.length > job.phaseMask.length) fail('I', 'Phase_Code', 'Phase code does not fit the phase mask');
    if (!costType) fail('M', 'Cost_Type', 'Cost type is required');
    else if (costType.length <= LIMITS.Cost_Type && !this.costTypes.has(costType)) {
      fail('I', 'Cost_Type', `Cost type ${costType} is not on file`);
    }

    const status = value('Status_Code');
    if (status && status.length === 1 && !ROW_STATUSES.has(status)) fail('I', 'Status_Code', `Invalid status code ${status}`);
    const priceMethod = value('Price_Method_Code').toUpperCase();
    if (priceMethod && priceMethod.length === 1 && !PRICE_METHODS.has(priceMethod)) {
      fail('I', 'Price_Method_Code', `Invalid price method ${priceMethod}`);
    }

    const entry = jobNumber && phaseCode ? this.phaseEntry(jobNumber, phaseCode, false) : undefined;
    const existing = entry?.rows.get(costType);
    if (jobNumber && phaseCode && !entry && !value('Description')) {
      fail('M', 'Description', 'Description is required for a new phase');
    }
    if (jobNumber && phaseCode && costType && !existing && !priceMethod) {
      fail('M', 'Price_Method_Code', 'Price method is required for a new phase');
    }
    if (errors.length) return { errors };

    const phase = this.phaseEntry(jobNumber, phaseCode, true)!;
    const createdPhase = !entry;
    const row = existing ?? blankRow(jobNumber, phaseCode, costType);
    const set = <K extends keyof RowRest>(key: K, name: string, convert: (text: string) => RowRest[K]) => {
      if (value(name)) (row as RowRest)[key] = convert(value(name));
    };
    const text = (t: string) => t;
    const money = (t: string) => parseMoney(t).cents;
    if (value('Description')) phase.description = value('Description');
    row.statusCode = status || row.statusCode || 'A';
    set('unitOfMeasure', 'Unit_of_Measure', text);
    set('originalEstQuantity', 'Original_Est_Quantity', text);
    set('originalEstHours', 'Original_Est_Hours', text);
    set('originalEstCost', 'Original_Est_Cost', money);
    if (!options.currentEstimateDisplayOnly) {
      set('currentEstQuantity', 'Current_Est_Quantity', text);
      set('currentEstHours', 'Current_Est_Hours', text);
      set('currentEstCost', 'Current_Est_Cost', money);
    }
    if (row.currentEstQuantity === null) row.currentEstQuantity = row.originalEstQuantity;
    if (row.currentEstHours === null) row.currentEstHours = row.originalEstHours;
    if (row.currentEstCost === null) row.currentEstCost = row.originalEstCost;
    set('bidItemNumber', 'Bid_Item_Number', text);
    set('altPhaseCode', 'Alt_Phase_Code', text);
    set('workCompCode', 'Work_Comp_Code', text);
    set('costCenter', 'Phase_Cost_Center', text);
    set('priceMethodCode', 'Price_Method_Code', (t) => t.toUpperCase());
    phase.rows.set(costType, row);
    return {
      errors: [],
      row: { ...row, description: phase.description },
      createdRow: !existing,
      createdPhase,
    };
  }

  private phaseEntry(jobNumber: string, phaseCode: string, create: boolean): PhaseEntry | undefined {
    let phases = this.phases.get(jobNumber);
    if (!phases) {
      if (!create) return undefined;
      phases = new Map();
      this.phases.set(jobNumber, phases);
    }
    let entry = phases.get(phaseCode);
    if (!entry && create) {
      entry = { description: '', rows: new Map() };
      phases.set(phaseCode, entry);
    }
    return entry;
  }
}

/** A phase code filled to the job's mask (see StandInJob.phaseMask). */
export function fillToMask(code: string, mask: NonNullable<StandInJob['phaseMask']>): string {
  if (!code || code.length >= mask.length) return code;
  const fill = (mask.fill ?? '0').repeat(mask.length - code.length);
  return (mask.side ?? 'left') === 'left' ? fill + code : code + fill;
}

function blankRow(jobNumber: string, phaseCode: string, costType: string): StandInPhaseRow {
  return {
    jobNumber,
    phaseCode,
    costType,
    description: '',
    statusCode: 'A',
    unitOfMeasure: '',
    originalEstQuantity: null,
    originalEstHours: null,
    originalEstCost: null,
    currentEstQuantity: null,
    currentEstHours: null,
    currentEstCost: null,
    jtdQuantity: '0',
    jtdHours: '0',
    jtdActualDollars: 0n,
    projectedQuantity: '0',
    projectedHours: '0',
    projectedDollars: 0n,
    bidItemNumber: '',
    altPhaseCode: '',
    workCompCode: '',
    costCenter: '',
    priceMethodCode: '',
    startDate: '',
    endDate: '',
    completeDate: '',
    comment: '',
  };
}

function toCentsOrNull(value: Cents | string | null): Cents | null {
  if (value === null) return null;
  return typeof value === 'bigint' ? value : parseMoney(value).cents;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
