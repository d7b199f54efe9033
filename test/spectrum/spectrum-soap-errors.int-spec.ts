import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpectrumSoapClient } from '../../src/spectrum/client/spectrum-soap.client';
import {
  SpectrumFaultError,
  SpectrumHttpError,
  SpectrumNetworkError,
  SpectrumResponseFormatError,
  SpectrumRetriesExhaustedError,
  SpectrumTimeoutError,
} from '../../src/spectrum/client/spectrum.errors';
import { SpectrumStandIn } from '../stand-ins/spectrum';

const retry = { attempts: 3, baseDelayMs: 2, maxDelayMs: 10 };
const quiet = { warn: () => undefined };

describe('Spectrum SOAP client: faults and data errors', () => {
  let standIn: SpectrumStandIn;
  let client: SpectrumSoapClient;
  const row = { jobNumber: '26-101', phaseCode: '02000', costType: 'L', description: 'Demolition', originalEstCost: 150000n, currentEstCost: 175000n, priceMethodCode: 'J' };

  beforeAll(async () => {
    standIn = await SpectrumStandIn.start();
    client = new SpectrumSoapClient({ ...standIn.clientOptions(), timeoutMs: 2000, retry, logger: quiet });
    await client.init();
  });
  afterAll(async () => {
    await client.close();
    await standIn.stop();
  });
  afterEach(async () => {
    standIn.configure({ latencyMs: 0 });
    await standIn.idle();
  });
  beforeEach(() => {
    standIn.reset();
    standIn.configure({ latencyMs: 0, faultRate: 0, maxConcurrent: undefined, faultAfterApply: false });
    standIn.addJob({ jobNumber: '26-101', description: 'Riverside Medical Office Building' });
    standIn.addJob({ jobNumber: '24-310', description: 'Elm Street Parking Garage', statusCode: 'C' });
    for (const code of ['L', 'M']) standIn.addCostType(code);
  });

  it('retries SOAP-ENV:Server faults and then succeeds', async () => {
    standIn.faultNext(2, 'AddPhase');
    const result = await client.addPhase(row);
    expect(result).toEqual({ ok: true, warnings: [], errors: [] });
    expect(standIn.addPhaseCalls().map((r) => r.outcome)).toEqual(['fault', 'fault', 'ok']);
    expect(standIn.applied()).toHaveLength(1);
    expect(standIn.getPhase('26-101', '02000', 'L')!.currentEstCost).toBe(175000n);
  });

  it('notes a fault that repeats identically for the same call; still transient (the export decides on its last attempt)', async () => {
    standIn.faultWhen((r) => r.fields.Phase_Code === '02000');
    const error = await client.addPhase(row).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpectrumRetriesExhaustedError);
    const exhausted = error as SpectrumRetriesExhaustedError;
    expect(exhausted).toMatchObject({ transient: true, attempts: 3, repeatedIdentically: true });
    expect(exhausted.lastError).toBeInstanceOf(SpectrumFaultError);
    expect(exhausted.lastError).toMatchObject({ faultCode: 'SOAP-ENV:Server', faultString: 'Error executing Web Service', transient: true });
    expect(exhausted.message).toBe(
      'Spectrum AddPhase: gave up after 3 attempt(s) (same answer every time): SOAP fault SOAP-ENV:Server: Error executing Web Service',
    );
    expect(standIn.addPhaseCalls({ phaseCode: '02000' })).toHaveLength(3);
    // Other rows still go through.
    expect((await client.addPhase({ ...row, phaseCode: '03000' })).ok).toBe(true);
  });

  it('returns data errors I with code, message and column, without retrying', async () => {
    const result = await client.addPhase({ ...row, costType: 'X' });
    expect(result).toEqual({
      ok: false,
      warnings: [],
      errors: [{ code: 'I', message: 'Cost type X is not on file', column: 'Cost_Type' }],
    });
    expect(standIn.addPhaseCalls()).toHaveLength(1);
    expect(standIn.applied()).toHaveLength(0);
  });

  it('returns M (missing) errors', async () => {
    const result = await client.addPhase({ ...row, description: undefined, priceMethodCode: undefined });
    expect(result.errors).toEqual([
      { code: 'M', message: 'Description is required for a new phase', column: 'Description' },
      { code: 'M', message: 'Price method is required for a new phase', column: 'Price_Method_Code' },
    ]);
    expect(standIn.addPhaseCalls()).toHaveLength(1);
  });

  it('returns A (not authorised) without retrying', async () => {
    const other = new SpectrumSoapClient({ ...standIn.clientOptions(), authorizationId: 'NOPE', retry, logger: quiet });
    try {
      const result = await other.addPhase(row);
      expect(result.errors).toEqual([{ code: 'A', message: 'The Web Service is not authorized. Authorization ID is not setup in the system.', column: 'Authorization_ID' }]);
      expect(standIn.addPhaseCalls()).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('refuses a Complete job', async () => {
    const result = await client.addPhase({ ...row, jobNumber: '24-310' });
    expect(result.errors).toEqual([{ code: 'I', message: 'Job 24-310 is complete', column: 'Job_Number' }]);
  });

  it.each([
    ['W', 'Phase is inactive'],
    ['G', 'Phase added'],
  ])('treats %s as success with a note', async (code, desc) => {
    standIn.noteNext({ code, desc, column: 'Phase_Code' });
    const result = await client.addPhase(row);
    expect(result).toEqual({ ok: true, warnings: [{ code, message: desc, column: 'Phase_Code' }], errors: [] });
    expect(standIn.addPhaseCalls()).toHaveLength(1);
  });

  it('treats a timeout as transient and retries it', async () => {
    const fast = new SpectrumSoapClient({ ...standIn.clientOptions(), timeoutMs: 60, retry: { ...retry, attempts: 2 }, logger: quiet });
    try {
      standIn.configure({ latencyMs: 200 });
      const error = (await fast.getPhases('26-101').catch((e: unknown) => e)) as SpectrumRetriesExhaustedError;
      expect(error).toBeInstanceOf(SpectrumRetriesExhaustedError);
      expect(error.transient).toBe(true);
      expect(error.lastError).toBeInstanceOf(SpectrumTimeoutError);
      expect(error.lastError.message).toBe('Spectrum GetPhase: no complete response within 60 ms');
      expect(standIn.requests('GetPhase')).toHaveLength(2);
    } finally {
      await fast.close();
    }
  });

  it('survives a timeout followed by success', async () => {
    const fast = new SpectrumSoapClient({ ...standIn.clientOptions(), timeoutMs: 100, retry, logger: quiet });
    try {
      standIn.configure({ latencyMs: 300 });
      const pending = fast.addPhase(row);
      setTimeout(() => standIn.configure({ latencyMs: 0 }), 120);
      expect((await pending).ok).toBe(true);
      // The timed-out call may also have been applied: AddPhase sets values, so that is harmless.
      expect(standIn.getPhase('26-101', '02000', 'L')!.currentEstCost).toBe(175000n);
    } finally {
      await fast.close();
    }
  });

  it('treats a server that is down as a transient network error, and recovers when it is back', async () => {
    await standIn.down();
    try {
      const error = (await client.getJobs().catch((e: unknown) => e)) as SpectrumRetriesExhaustedError;
      expect(error.transient).toBe(true);
      expect(error.lastError).toBeInstanceOf(SpectrumNetworkError);
      expect(error.lastError).toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await standIn.up();
    }
    expect((await client.getJobs()).map((j) => j.jobNumber)).toEqual(['26-101']);
  });

  it('retries its way through a server that faults above its concurrency limit', async () => {
    standIn.configure({ latencyMs: 20, maxConcurrent: 2 });
    const busy = new SpectrumSoapClient({ ...standIn.clientOptions(), retry: { attempts: 12, baseDelayMs: 10, maxDelayMs: 80 }, logger: quiet });
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => busy.addPhase({ ...row, phaseCode: String(10000 + i) })),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      expect(standIn.addPhaseCalls().some((r) => r.outcome === 'fault')).toBe(true);
      expect(standIn.applied()).toHaveLength(8);
    } finally {
      await busy.close();
    }
  });

  it('gets every row written despite intermittent faults (seeded)', async () => {
    standIn.configure({ faultRate: 0.3, seed: 7 });
    const patient = new SpectrumSoapClient({ ...standIn.clientOptions(), retry: { attempts: 10, baseDelayMs: 1, maxDelayMs: 5 }, logger: quiet });
    try {
      for (let i = 0; i < 30; i++) expect((await patient.addPhase({ ...row, phaseCode: String(20000 + i) })).ok).toBe(true);
      expect(new Set(standIn.applied().map((a) => a.phaseCode)).size).toBe(30);
      expect(standIn.addPhaseCalls().filter((r) => r.outcome === 'fault').length).toBeGreaterThan(0);
    } finally {
      await patient.close();
    }
  });

  it('repeats a write the server faulted after applying it, harmlessly', async () => {
    standIn.configure({ faultAfterApply: true });
    standIn.faultNext(1, 'AddPhase');
    expect((await client.addPhase(row)).ok).toBe(true);
    expect(standIn.applied()).toHaveLength(2);
    expect(standIn.getPhase('26-101', '02000', 'L')!.currentEstCost).toBe(175000n);
  });

  describe('answers that are not Spectrum answers', () => {
    let server: http.Server;
    let status = 503;
    let body = '<html>Service Unavailable</html>';
    let calls = 0;
    let odd: SpectrumSoapClient;

    beforeAll(async () => {
      server = http.createServer((req, res) => {
        calls++;
        req.resume();
        req.on('end', () => {
          res.writeHead(status, { 'Content-Type': 'text/html' });
          res.end(body);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      odd = new SpectrumSoapClient({ url: `http://127.0.0.1:${port}`, authorizationId: 'API', companyCode: 'ABC', retry, logger: quiet });
    });
    afterAll(async () => {
      await odd.close();
      await new Promise((resolve) => server.close(resolve));
    });
    beforeEach(() => {
      calls = 0;
    });

    it('retries HTTP 503 and reports it', async () => {
      status = 503;
      const error = (await odd.getJobs().catch((e: unknown) => e)) as SpectrumRetriesExhaustedError;
      expect(error.lastError).toBeInstanceOf(SpectrumHttpError);
      expect(error.lastError.message).toBe('Spectrum GetJob: HTTP 503: <html>Service Unavailable</html>');
      expect(calls).toBe(3);
    });

    it('does not retry HTTP 404', async () => {
      status = 404;
      body = 'Not Found';
      const error = await odd.getJobs().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SpectrumHttpError);
      expect(error).toMatchObject({ transient: false, status: 404 });
      expect(calls).toBe(1);
    });

    it('retries a 200 that is not SOAP (a proxy page)', async () => {
      status = 200;
      body = '<html>Please wait</html>';
      const error = (await odd.getJobs().catch((e: unknown) => e)) as SpectrumRetriesExhaustedError;
      expect(error.lastError).toBeInstanceOf(SpectrumResponseFormatError);
      expect(calls).toBe(3);
    });
  });
});
