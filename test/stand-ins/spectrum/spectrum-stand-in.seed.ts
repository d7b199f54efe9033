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
