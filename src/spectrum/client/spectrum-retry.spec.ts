import {
  SpectrumDataError,
  SpectrumFaultError,
  SpectrumRetriesExhaustedError,
  SpectrumTimeoutError,
} from './spectrum.errors';
import { withSpectrumRetries as withRetries } from './spectrum-retry';

const policy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };
const noSleep = { random: () => 0 };

describe('withRetries', () => {
  it('retries transient failures until success', async () => {
    let calls = 0;
    const result = await withRetries('GetPhase', policy, async () => {
      if (++calls < 3) throw new SpectrumFaultError('SOAP-ENV:Server', 'Error executing Web Service', 500, 'GetPhase');
      return 'ok';
    }, noSleep);
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('does not retry permanent errors', async () => {
    let calls = 0;
    const failing = withRetries('AddPhase', policy, async () => {
      calls++;
      throw new SpectrumDataError([{ code: 'I', message: 'Invalid cost type', column: 'Cost_Type' }], 'AddPhase');
    }, noSleep);
    await expect(failing).rejects.toBeInstanceOf(SpectrumDataError);
    expect(calls).toBe(1);
  });

  it('notes an identical repeated fault, and keeps it transient (the job retries it later)', async () => {
    const failing = withRetries('AddPhase', policy, async () => {
      throw new SpectrumFaultError('SOAP-ENV:Server', 'Error executing Web Service', 500, 'AddPhase');
    }, noSleep);
    const error = await failing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpectrumRetriesExhaustedError);
    expect(error).toMatchObject({ transient: true, attempts: 4, repeatedIdentically: true });
  });

  it('keeps failures without an answer (timeouts) transient after the attempts', async () => {
    const error = await withRetries('AddPhase', policy, async () => {
      throw new SpectrumTimeoutError(50, 'AddPhase');
    }, noSleep).catch((e: unknown) => e);
    expect(error).toMatchObject({ transient: true, repeatedIdentically: false });
  });

  it('keeps mixed failures transient', async () => {
    let calls = 0;
    const error = await withRetries('AddPhase', policy, async () => {
      if (++calls % 2) throw new SpectrumTimeoutError(50, 'AddPhase');
      throw new SpectrumFaultError('SOAP-ENV:Server', 'Error executing Web Service', 500, 'AddPhase');
    }, noSleep).catch((e: unknown) => e);
    expect(error).toMatchObject({ transient: true });
  });
});
