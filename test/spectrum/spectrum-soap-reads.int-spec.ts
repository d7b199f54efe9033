import { findJob } from '../../src/spectrum/export-plan';
import { SpectrumSoapClient } from '../../src/spectrum/client/spectrum-soap.client';
import {
  SpectrumDataError,
  SpectrumIncompleteResponseError,
  SpectrumRequestError,
  SpectrumRetriesExhaustedError,
} from '../../src/spectrum/client/spectrum.errors';
import { SpectrumStandIn } from '../stand-ins/spectrum';

const retry = { attempts: 3, baseDelayMs: 2, maxDelayMs: 10 };

describe('Spectrum SOAP client: reads', () => {
  let standIn: SpectrumStandIn;
  let client: SpectrumSoapClient;

  beforeAll(async () => {
    standIn = await SpectrumStandIn.start();
    client = new SpectrumSoapClient({ ...standIn.clientOptions(), timeoutMs: 5000, retry, logger: { warn: () => undefined } });
    await client.init();
  });
  afterAll(async () => {
    await client.close();
    await standIn.stop();
  });
  beforeEach(() => {
    standIn.reset();
    standIn.configure({ fieldName: 'Current_Estimate_Dollars', emptyRead: 'empty', readDenial: undefined });
    standIn.addJob({ jobNumber: '26-101', description: 'Riverside Medical Office Building', statusCode: 'A' });
    standIn.addJob({ jobNumber: '25-044', description: 'Harbor Logistics Warehouse', statusCode: 'I' });
    standIn.addJob({ jobNumber: '24-310', description: 'Elm Street Parking Garage', statusCode: 'C' });
    for (const code of ['L', 'M', 'S']) standIn.addCostType(code);
  });

  /** The blank-status GetPhase calls (getPhases reads Complete rows in a second call). */
  const openReads = () => standIn.requests('GetPhase').filter((r) => r.fields.pStatus_Code === '');

  function seedPhases(count: number): void {
    for (let i = 0; i < count; i++) {
      standIn.setPhase({
        jobNumber: '26-101',
        phaseCode: String(10000 + i),
        costType: 'L',
        description: `Phase ${i}`,
        originalEstCost: `${i}.${String(i % 100).padStart(2, '0')}`,
      });
    }
  }

  it('reads phase rows into exact cents', async () => {
    standIn.setPhase({ jobNumber: '26-101', phaseCode: '01100', costType: 'L', description: 'General Conditions', currentEstCost: '859.51', jtdActualDollars: '1250.40' });
    standIn.setPhase({ jobNumber: '26-101', phaseCode: '01100', costType: 'M', currentEstCost: '-12.50' });
    standIn.setPhase({ jobNumber: '26-101', phaseCode: '02200', costType: 'S', description: 'Sitework', currentEstCost: '0' });
    standIn.setPhase({ jobNumber: '25-044', phaseCode: '01100', costType: 'L', description: 'Other job', currentEstCost: '5' });
    const rows = await client.getPhases('26-101');
    expect(rows.map((r) => [r.phaseCode, r.costType, r.description, r.currentEstimateDollars, r.jtdActualDollars])).toEqual([
      ['01100', 'L', 'General Conditions', 85951n, 125040n],
      ['01100', 'M', 'General Conditions', -1250n, 0n],
      ['02200', 'S', 'Sitework', 0n, 0n],
    ]);
    expect(rows[0]).toMatchObject({ companyCode: 'ABC', jobNumber: '26-101', statusCode: 'A', unitOfMeasure: '', estimatedHours: '0.00' });
    expect(standIn.lastRequest('GetPhase')!.fields.pJob_Number).toBe('26-101');
  });

  it('accepts the documented field name Current_Estimated_Dollars', async () => {
    standIn.configure({ fieldName: 'Current_Estimated_Dollars' });
    standIn.setPhase({ jobNumber: '26-101', phaseCode: '01100', costType: 'L', description: 'General', currentEstCost: '1234.56' });
    const [row] = await client.getPhases('26-101');
    expect(row.currentEstimateDollars).toBe(123456n);
  });

  it('reads a single record as a list of one', async () => {
    standIn.setPhase({ jobNumber: '26-101', phaseCode: '01100', costType: 'L', description: 'General', currentEstCost: '1.00' });
    expect(await client.getPhases('26-101')).toHaveLength(1);
  });

  it('reads an empty job as no rows, whether Spectrum answers nothing or a "No records found" record', async () => {
    expect(await client.getPhases('26-101')).toEqual([]);
    standIn.configure({ emptyRead: 'error-record' });
    expect(await client.getPhases('26-101')).toEqual([]);
  });

  it('reads GetPhaseEnhanced with price method', async () => {
    standIn.setPhase({ jobNumber: '26-101', phaseCode: '01100', costType: 'L', description: 'General', currentEstCost: '10', priceMethodCode: 'J', startDate: '01/05/2026' });
    const [row] = await client.getPhasesEnhanced('26-101');
    expect(row).toMatchObject({ phaseCode: '01100', priceMethodCode: 'J', startDate: '2026-01-05', currentEstimateDollars: 1000n });
  });

  it('lists Active and Inactive jobs and finds one; a Complete job is not found', async () => {
    const jobs = await client.getJobs();
    expect(jobs.map((j) => [j.jobNumber, j.statusCode])).toEqual([
      ['25-044', 'I'],
      ['26-101', 'A'],
    ]);
    expect(findJob(jobs, '26-101')?.description).toBe('Riverside Medical Office Building');
    expect(findJob(jobs, ' 26-101 ')?.jobNumber).toBe('26-101');
    expect(findJob(jobs, '24-310')).toBeUndefined();
    expect(standIn.lastRequest('GetJob')!.fields.pStatus_Code).toBe('');
  });

  it('refuses a read by an unauthorised ID as a permanent data error', async () => {
    const other = new SpectrumSoapClient({ ...standIn.clientOptions(), authorizationId: 'WRONG', retry });
    try {
      const error = await other.getPhases('26-101').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SpectrumDataError);
      expect(error).toMatchObject({ transient: false, code: 'E' });
      expect((error as Error).message).toBe('Spectrum GetPhase: E The web service is not Authorized [Authorization_ID]');
      expect(standIn.requests('GetPhase')).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('reads Complete rows too: a blank status answers Active and Inactive only, so a second read asks for C', async () => {
    standIn.setPhase({ jobNumber: '26-101', phaseCode: '01100', costType: 'L', description: 'General', currentEstCost: '10', statusCode: 'A' });
    standIn.setPhase({ jobNumber: '26-101', phaseCode: '01100', costType: 'M', currentEstCost: '20', statusCode: 'I' });
    standIn.setPhase({ jobNumber: '26-101', phaseCode: '04000', costType: 'E', description: 'Masonry', currentEstCost: '30', statusCode: 'C' });
    const rows = await client.getPhases('26-101');
    expect(rows.map((r) => [r.phaseCode, r.costType, r.statusCode, r.currentEstimateDollars])).toEqual([
      ['01100', 'L', 'A', 1000n],
      ['01100', 'M', 'I', 2000n],
      ['04000', 'E', 'C', 3000n],
    ]);
    expect(standIn.requests('GetPhase').map((r) => r.fields.pStatus_Code)).toEqual(['', 'C']);
  });

  describe('error records (issue 9, item 5): only the narrow "no records" answer is an empty list', () => {
    it.each([
      ['an authorisation error whose text says "not found"', { code: 'A', desc: 'Authorization ID not found', column: 'Authorization_ID' }],
      ['the help page\'s E example', { code: 'E', desc: 'The web service is not Authorized', column: 'Authorization_ID' }],
      ['an invalid value naming its column', { code: 'I', desc: 'No records found', column: 'pCompany_Code' }],
    ])('%s stops the read with Spectrum\'s message', async (_label, denial) => {
      standIn.setPhase({ jobNumber: '26-101', phaseCode: '01100', costType: 'L', description: 'General', currentEstCost: '1' });
      standIn.configure({ readDenial: denial });
      const other = new SpectrumSoapClient({ ...standIn.clientOptions(), authorizationId: 'WRONG', retry });
      try {
        for (const read of [() => other.getPhases('26-101'), () => other.getJobs()]) {
          const error = await read().catch((e: unknown) => e);
          expect(error).toBeInstanceOf(SpectrumDataError);
          expect(error).toMatchObject({ transient: false, code: denial.code });
          expect((error as Error).message).toContain(denial.desc);
        }
      } finally {
        await other.close();
        standIn.configure({ readDenial: undefined });
      }
    });

    it('a keyless W note (a list over Spectrum\'s maximum, as a public integration saw) is an error, never a shorter list', async () => {
      standIn.configure({ readDenial: { code: 'W', desc: 'Number of records exceeds maximum', column: ' ' } });
      const other = new SpectrumSoapClient({ ...standIn.clientOptions(), authorizationId: 'WRONG', retry });
      try {
        const error = await other.getJobs().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SpectrumDataError);
        expect((error as Error).message).toBe('Spectrum GetJob: W Number of records exceeds maximum (the answer may be incomplete)');
      } finally {
        await other.close();
        standIn.configure({ readDenial: undefined });
      }
    });
  });

  it('a record without an estimate, or with one that is not an amount, comes back flagged (null), never as 0.00; the other rows are read', async () => {
    standIn.setPhase({ jobNumber: '26-101', phaseCode: '01100', costType: 'L', description: 'General', currentEstCost: '10' });
    standIn.setPhase({ jobNumber: '26-101', phaseCode: '02000', costType: 'M', description: 'Site', currentEstCost: '20' });
    standIn.setPhase({ jobNumber: '26-101', phaseCode: '03000', costType: 'S', description: 'Concrete', currentEstCost: '30' });
    standIn.corruptRecord({ jobNumber: '26-101', phaseCode: '02000', costType: 'M' }, { Current_Estimate_Dollars: null });
    standIn.corruptRecord({ jobNumber: '26-101', phaseCode: '03000', costType: 'S' }, { Current_Estimate_Dollars: '12x' });
    const rows = await client.getPhases('26-101');
    expect(rows.map((r) => [r.phaseCode, r.currentEstimateDollars, r.problems])).toEqual([
      ['01100', 1000n, undefined],
      ['02000', null, ['Current_Estimate_Dollars is missing: the record has no estimate']],
      ['03000', null, ['Current_Estimate_Dollars is not an amount: "12x"']],
    ]);
  });

  it('refuses a job number Spectrum would read as SuperSelect operators, before sending anything', async () => {
    for (const job of ['26-1*', '26?101', '26,27', '20/30', '#26', 'all']) {
      const error = await client.getPhases(job).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SpectrumRequestError);
      expect(error).toMatchObject({ transient: false });
    }
    expect((await client.getPhases('26-101').catch((e: unknown) => e))).toEqual([]);
    expect(standIn.requests('GetPhase').map((r) => r.fields.pJob_Number)).toEqual(['26-101', '26-101']);
  });

  describe('cut-off responses', () => {
    it('reads again when a response is cut off between whole records', async () => {
      seedPhases(40);
      standIn.truncateNext(1, { mode: 'between-records', keepRecords: 25 });
      const rows = await client.getPhases('26-101');
      expect(rows).toHaveLength(40);
      expect(openReads().map((r) => r.outcome)).toEqual(['truncated', 'ok']);
    });

    it('reads again when a record is itself cut off', async () => {
      seedPhases(10);
      standIn.truncateNext(1, { mode: 'inside-record', keepRecords: 4 });
      expect(await client.getPhases('26-101')).toHaveLength(10);
      expect(openReads()).toHaveLength(2);
    });

    it('reads again when the connection drops mid-response', async () => {
      seedPhases(10);
      standIn.truncateNext(1, { mode: 'between-records', delivery: 'drop' });
      expect(await client.getPhases('26-101')).toHaveLength(10);
      expect(openReads()).toHaveLength(2);
    });

    it('accepts a response cut only after the record list closed: every record is there', async () => {
      seedPhases(10);
      standIn.truncateNext(1, { mode: 'after-records' });
      expect(await client.getPhases('26-101')).toHaveLength(10);
      expect(openReads()).toHaveLength(1);
    });

    it('never concludes from a read that stays cut off: a transient error, not a partial list', async () => {
      seedPhases(10);
      standIn.truncateNext(10, { mode: 'between-records', keepRecords: 6 });
      const error = await client.getPhases('26-101').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SpectrumRetriesExhaustedError);
      const exhausted = error as SpectrumRetriesExhaustedError;
      expect(exhausted.transient).toBe(true);
      expect(exhausted.lastError).toBeInstanceOf(SpectrumIncompleteResponseError);
      expect(exhausted.lastError).toMatchObject({ truncation: 'between-records', recordsRead: 6 });
      expect(standIn.requests('GetPhase')).toHaveLength(3);
    });

    it('reports a record cut inside as such', async () => {
      seedPhases(10);
      standIn.truncateNext(10, { mode: 'inside-record', keepRecords: 3 });
      const error = (await client.getPhases('26-101').catch((e: unknown) => e)) as SpectrumRetriesExhaustedError;
      expect(error.lastError).toMatchObject({ truncation: 'inside-record', recordsRead: 3 });
    });

    it('never takes a cut-off job list as "job missing"', async () => {
      // The cut falls before the job: a strict reading of the partial list would say "not found".
      standIn.truncateNext(10, { mode: 'between-records', keepRecords: 1, services: ['GetJob'] });
      const error = await client.getJobs().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SpectrumRetriesExhaustedError);
      expect((error as SpectrumRetriesExhaustedError).transient).toBe(true);
    });

    it('reads a large job completely', async () => {
      seedPhases(1500);
      const rows = await client.getPhases('26-101');
      expect(rows).toHaveLength(1500);
      expect(rows[1499].currentEstimateDollars).toBe(149999n);
    });
  });
});
