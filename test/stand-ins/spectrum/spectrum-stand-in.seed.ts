import { SpectrumStandIn } from './spectrum-stand-in';

/** The demo job: what a Spectrum company looks like before the connector's first export. */
export const DEMO_JOB = { jobNumber: '26-101', description: 'Riverside Medical Office Building' };

export const DEMO_COST_TYPES: Array<[code: string, description: string]> = [
  ['L', 'Labor'],
  ['M', 'Material'],
  ['S', 'Subcontract'],
  ['E', 'Equipment'],
  ['O', 'Other'],
];

/** Seeds the demo company: job 26-101, cost types L M S E O, a few existing phases, two other jobs. */
export function seedDemoSpectrum(standIn: SpectrumStandIn): void {
  standIn.addJob({
    ...DEMO_JOB,
    statusCode: 'A',
    city: 'Riverside',
    state: 'CA',
    projectManager: 'JSMITH',
  });
  standIn.addJob({ jobNumber: '25-044', description: 'Harbor Logistics Warehouse', statusCode: 'I' });
  standIn.addJob({ jobNumber: '24-310', description: 'Elm Street Parking Garage', statusCode: 'C' });
  for (const [code, description] of DEMO_COST_TYPES) standIn.addCostType(code, description);

  const job = DEMO_JOB.jobNumber;
  standIn.setPhase({
    jobNumber: job,
    phaseCode: '01000',
    costType: 'L',
    description: 'General Requirements',
    priceMethodCode: 'J',
    originalEstCost: '48500.00',
    jtdActualDollars: '12250.40',
  });
  standIn.setPhase({ jobNumber: job, phaseCode: '01000', costType: 'O', originalEstCost: '6200.00', priceMethodCode: 'J' });
  standIn.setPhase({
    jobNumber: job,
    phaseCode: '03300',
    costType: 'M',
    description: 'Cast-in-Place Concrete',
    priceMethodCode: 'J',
    originalEstCost: '182000.00',
  });
  standIn.setPhase({ jobNumber: job, phaseCode: '03300', costType: 'S', originalEstCost: '96400.00', priceMethodCode: 'J' });
  standIn.setPhase({
    jobNumber: job,
    phaseCode: '08100',
    costType: 'M',
    description: 'Doors & Frames',
    priceMethodCode: 'J',
    originalEstCost: '0.00',
  });
}

/**
 * Spectrum as it stands before the sample Procore budget (test/stand-ins/procore/sample-project)
 * is first exported: job 26-101 with an earlier estimate of a few of the budget's phases (so the
 * preview shows new, changed and unchanged rows) and one row at 0.00 that the budget lacks
 * (counted as matching). Exporting the sample budget into it ends synced.
 */
export function seedSpectrumForSampleProject(standIn: SpectrumStandIn): void {
  standIn.addJob({ ...DEMO_JOB, statusCode: 'A', city: 'Riverside', state: 'CA', projectManager: 'DWHITFIELD' });
  standIn.addJob({ jobNumber: '25-044', description: 'Harbor Logistics Warehouse', statusCode: 'I' });
  for (const [code, description] of DEMO_COST_TYPES) standIn.addCostType(code, description);
  const job = DEMO_JOB.jobNumber;
  // An earlier estimate of General Conditions labour: the export changes it.
  standIn.setPhase({ jobNumber: job, phaseCode: '01100', costType: 'L', description: 'General Conditions', priceMethodCode: 'J', originalEstCost: '398000.00', jtdActualDollars: '61250.40' });
  // Already what the budget says: unchanged.
  standIn.setPhase({ jobNumber: job, phaseCode: '01100', costType: 'O', originalEstCost: '26400.00', priceMethodCode: 'J' });
  // An existing phase whose text the export must not overwrite.
  standIn.setPhase({ jobNumber: job, phaseCode: '08100', costType: 'S', description: 'Doors & Frames', priceMethodCode: 'J', originalEstCost: '91000.00' });
  // A row the budget lacks, at 0.00: it matches.
  standIn.setPhase({ jobNumber: job, phaseCode: '08100', costType: 'M', originalEstCost: '0.00', priceMethodCode: 'J' });
}
