/**
 * A realistic sample Procore project for the demo and the tests, and a deterministic generator of
 * large budgets for benchmarks.
 */
import type { ProcoreStandIn } from './procore-stand-in';
import type { BudgetLineInput, StandInBudgetLine, StandInBudgetView, StandInProject, StandInUser } from './procore-stand-in.types';

export const SAMPLE_PROJECT_ID = 1001;
export const SAMPLE_BUDGET_VIEW_ID = 2001;

export const SAMPLE_PROJECT = {
  id: SAMPLE_PROJECT_ID,
  name: 'Riverside Medical Office Building',
  /** Becomes the Spectrum job (≤ 10 characters) when no mapping or origin id says otherwise. */
  project_number: '26-101',
  active: true,
  origin_id: null,
} as const;

export const SAMPLE_USERS = {
  /** Builds the budget and sends it to the ERP. */
  projectManager: {
    id: 7001,
    name: 'Dana Whitfield',
    email: 'dana.whitfield@summit-builders.example',
    jobTitle: 'Project Manager',
    erpIntegratedAccountant: false,
    isActive: true,
  },
  /** Accepts or rejects budgets ("Can Push to Accounting"). */
  accountant: {
    id: 7002,
    name: 'Marcus Oyelaran',
    email: 'marcus.oyelaran@summit-builders.example',
    jobTitle: 'Project Accountant',
    erpIntegratedAccountant: true,
    isActive: true,
  },
  /** No longer with the company. */
  formerSuperintendent: {
    id: 7003,
    name: 'Glen Hartley',
    email: 'glen.hartley@summit-builders.example',
    jobTitle: 'Superintendent',
    erpIntegratedAccountant: false,
    isActive: false,
  },
} as const;

type SampleLine = [
  costCode: string,
  costCodeName: string,
  category: 'L' | 'M' | 'S' | 'E' | 'O',
  originalBudget: string,
  extra?: Partial<BudgetLineInput>,
];

// prettier-ignore
const LINES: SampleLine[] = [
  ['01-100', 'General Conditions', 'L', '412500.00', { committedCosts: '98000.00', directCosts: '61250.40' }],
  ['01-100', 'General Conditions', 'M', '38750.00'],
  ['01-100', 'General Conditions', 'O', '26400.00'],
  ['01-500', 'Temporary Facilities and Controls', 'M', '54200.00'],
  ['01-500', 'Temporary Facilities and Controls', 'E', '31850.00'],
  ['01-740', 'Cleaning and Waste Management', 'L', '18600.00'],
  ['01-740', 'Cleaning and Waste Management', 'S', '22400.00'],
  ['03-100', 'Concrete Forming', 'L', '186300.00'],
  ['03-100', 'Concrete Forming', 'M', '94750.00'],
  ['03-200', 'Concrete Reinforcing', 'M', '142880.00'],
  ['03-200', 'Concrete Reinforcing', 'S', '61200.00'],
  ['03-300', 'Cast-in-Place Concrete', 'L', '204100.00'],
  ['03-300', 'Cast-in-Place Concrete', 'M', '318640.00', { budgetModifications: '12500.00' }],
  ['03-300', 'Cast-in-Place Concrete', 'E', '46300.00'],
  ['05-100', 'Structural Steel Framing', 'S', '1284000.00', { approvedCos: '38750.00' }],
  ['05-500', 'Metal Fabrications', 'M', '12300.00'],
  ['05-500', 'Metal Fabrications', 'S', '176420.00'],
  ['08-100', 'Metal Doors and Frames', 'S', '96540.00'],
  ['08-400', 'Entrances, Storefronts and Curtain Walls', 'S', '748200.00', { approvedCos: '-12600.00' }],
  ['09-200', 'Plaster and Gypsum Board', 'S', '642800.00', { approvedCos: '21340.50' }],
  ['09-300', 'Tiling', 'S', '148950.00'],
  ['09-650', 'Resilient Flooring', 'M', '8450.75'],
  ['09-650', 'Resilient Flooring', 'S', '212600.00'],
  ['09-900', 'Painting and Coating', 'S', '133275.00', { budgetModifications: '-4800.00' }],
  ['09-900', 'Painting and Coating', 'L', '9850.00'],
  ['22-100', 'Plumbing Piping', 'M', '15000.00'],
  ['22-100', 'Plumbing Piping', 'S', '486200.00'],
  ['22-400', 'Plumbing Fixtures', 'L', '42600.00'],
  ['22-400', 'Plumbing Fixtures', 'M', '158730.40', { approvedBudgetChanges: '4200.00' }],
  ['23-300', 'HVAC Air Distribution', 'S', '912400.00', { approvedCos: '64200.00', pendingBudgetChanges: '18000.00' }],
  ['23-700', 'Central HVAC Equipment', 'E', '28400.00'],
  ['23-700', 'Central HVAC Equipment', 'M', '684350.00', { budgetModifications: '15600.00', approvedCos: '9400.00' }],
  ['23-700', 'Central HVAC Equipment', 'L', '57200.00'],
  ['26-100', 'Electrical Service and Distribution', 'S', '538900.00', { budgetModifications: '7250.00' }],
  // An amount held with three decimals: the connector rounds it to the cent and says so.
  ['26-500', 'Lighting', 'M', '226480.125'],
  ['26-500', 'Lighting', 'L', '118760.00'],
  ['31-200', 'Earth Moving', 'S', '264800.00'],
  ['31-200', 'Earth Moving', 'E', '38900.00'],
];

/** The sample budget lines (cost code, category, amounts). */
export const SAMPLE_BUDGET_LINES: BudgetLineInput[] = LINES.map(([costCode, costCodeName, category, originalBudget, extra]) => ({
  costCode,
  costCodeName,
  category,
  originalBudget,
  ...extra,
}));

export interface SampleProjectSeed {
  project: StandInProject;
  view: StandInBudgetView;
  lines: StandInBudgetLine[];
  users: { projectManager: StandInUser; accountant: StandInUser; formerSuperintendent: StandInUser };
}

/**
 * Seeds "Riverside Medical Office Building" (id 1001, job 26-101) with its budget view (2001),
 * the sample lines, two budget changes and the company users.
 */
export function seedSampleProject(standIn: ProcoreStandIn, options: { locked?: boolean } = {}): SampleProjectSeed {
  const users = {
    projectManager: standIn.addUser(SAMPLE_USERS.projectManager),
    accountant: standIn.addUser(SAMPLE_USERS.accountant),
    formerSuperintendent: standIn.addUser(SAMPLE_USERS.formerSuperintendent),
  };
  const project = standIn.addProject({ ...SAMPLE_PROJECT, budgetViewId: SAMPLE_BUDGET_VIEW_ID });
  const view = standIn.budgetViews(project.id).find((v) => v.id === SAMPLE_BUDGET_VIEW_ID) as StandInBudgetView;
  const lines = standIn.setBudgetLines(project.id, SAMPLE_BUDGET_LINES);
  standIn.addBudgetChange(project.id, {
    number: 1,
    title: 'Owner-requested exam room reconfiguration',
    status: 'approved',
    amount: '21340.50',
  });
  standIn.addBudgetChange(project.id, {
    number: 2,
    title: 'Rooftop unit upsizing (pricing)',
    status: 'draft',
    amount: '18000.00',
  });
  if (options.locked) standIn.setLocked(project.id, true);
  return { project, view, lines, users };
}

const DIVISIONS: Array<[string, string[]]> = [
  ['01', ['General Conditions', 'Temporary Facilities', 'Quality Control', 'Cleaning', 'Closeout']],
  ['02', ['Existing Conditions', 'Selective Demolition', 'Site Remediation']],
  ['03', ['Concrete Forming', 'Concrete Reinforcing', 'Cast-in-Place Concrete', 'Precast Concrete']],
  ['04', ['Unit Masonry', 'Stone Assemblies']],
  ['05', ['Structural Steel Framing', 'Metal Decking', 'Metal Fabrications']],
  ['06', ['Rough Carpentry', 'Architectural Woodwork']],
  ['07', ['Waterproofing', 'Thermal Insulation', 'Membrane Roofing', 'Joint Sealants']],
  ['08', ['Doors and Frames', 'Curtain Walls', 'Door Hardware', 'Glazing']],
  ['09', ['Gypsum Board', 'Tiling', 'Acoustical Ceilings', 'Resilient Flooring', 'Painting']],
  ['10', ['Signage', 'Toilet Accessories', 'Fire Protection Specialties']],
  ['14', ['Elevators']],
  ['21', ['Fire Suppression Sprinklers']],
  ['22', ['Plumbing Piping', 'Plumbing Equipment', 'Plumbing Fixtures', 'Medical Gas']],
  ['23', ['HVAC Piping', 'Air Distribution', 'Central HVAC Equipment', 'Controls']],
  ['26', ['Service and Distribution', 'Wiring Devices', 'Lighting', 'Emergency Power']],
  ['27', ['Structured Cabling', 'Audio-Video Systems']],
  ['28', ['Access Control', 'Fire Detection and Alarm']],
  ['31', ['Earth Moving', 'Earthwork Methods', 'Shoring']],
  ['32', ['Paving', 'Site Improvements', 'Planting']],
  ['33', ['Water Utilities', 'Storm Drainage', 'Sanitary Sewerage']],
];
const CATEGORIES = ['L', 'M', 'S', 'E', 'O'] as const;

/**
 * `count` distinct budget lines (cost code × category) over the CSI divisions, the same for the
 * same `seed`. Amounts have two decimals; about a third carry budget modifications and a fifth
 * approved change orders. Cost codes are `DD-NNN[N]` (phase ≤ 20 characters once dashes go).
 */
export function generateBudgetLines(count: number, seed = 1): BudgetLineInput[] {
  const random = mulberry32(seed);
  const cents = (min: number, max: number) => min * 100 + Math.floor(random() * (max - min) * 100);
  const text = (value: number) => {
    const abs = Math.abs(value);
    return `${value < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  };
  const lines: BudgetLineInput[] = [];
  for (let k = 0; lines.length < count; k += 1) {
    const [division, names] = DIVISIONS[k % DIVISIONS.length];
    const serial = Math.floor(k / DIVISIONS.length);
    const costCode = `${division}-${String(100 + serial * 10).padStart(3, '0')}`;
    const round = Math.floor(serial / names.length);
    const costCodeName = `${names[serial % names.length]}${round > 0 ? ` ${round + 1}` : ''}`;
    // One to five categories per cost code, always in the same order.
    const categories = CATEGORIES.filter((_, index) => index === 0 || random() < 0.45);
    for (const category of categories) {
      if (lines.length >= count) break;
      const line: BudgetLineInput = {
        costCode,
        costCodeName,
        category,
        originalBudget: text(cents(500, 250_000)),
      };
      if (random() < 0.33) line.budgetModifications = text(cents(-5_000, 20_000));
      if (random() < 0.2) line.approvedCos = text(cents(-8_000, 40_000));
      lines.push(line);
    }
  }
  return lines;
}

/** Small, fast, seedable PRNG (public domain). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
