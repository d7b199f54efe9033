import { SpectrumSoapClient } from '../../src/spectrum/client/spectrum-soap.client';
import { SpectrumAuthError } from '../../src/spectrum/client/spectrum.errors';
import { SpectrumStandIn } from '../stand-ins/spectrum';

const retry = { attempts: 3, baseDelayMs: 2, maxDelayMs: 10 };
const quiet = { warn: () => undefined, debug: () => undefined };

describe('Spectrum SOAP client: authentication', () => {
  let standIn: SpectrumStandIn;
  const clients: SpectrumSoapClient[] = [];
  const clientFor = (overrides: Record<string, unknown> = {}) => {
    const client = new SpectrumSoapClient({ ...standIn.clientOptions(), retry, logger: quiet, ...overrides });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    standIn = await SpectrumStandIn.start({ clientId: 'connector', clientSecret: 's3cret-value' });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await standIn.stop();
  });
  beforeEach(() => {
    standIn.reset();
    standIn.addJob({ jobNumber: '26-101', description: 'Riverside Medical Office Building' });
  });

  describe('bearer', () => {
    beforeEach(() => standIn.configure({ auth: 'bearer', tokenTtlSeconds: 3600 }));

    it('fetches one token for many concurrent calls and sends it on each', async () => {
      const client = clientFor({ concurrency: 8 });
      await Promise.all(Array.from({ length: 20 }, () => client.getJobs()));
      expect(standIn.tokenRequests).toBe(1);
      const token = standIn.requests().find((r) => r.outcome === 'token')!;
      expect(token.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(Object.fromEntries(new URLSearchParams(token.rawBody))).toEqual({
        client_id: 'connector',
        client_secret: 's3cret-value',
        scope: 'spectrumapi',
        grant_type: 'client_credentials',
      });
      const authorizations = new Set(standIn.requests('GetJob').map((r) => r.headers.authorization));
      expect(authorizations.size).toBe(1);
      expect([...authorizations][0]).toMatch(/^Bearer \S+$/);
    });

    it('fetches a new token once when the server refuses the cached one (401)', async () => {
      const client = clientFor();
      await client.getJobs();
      standIn.revokeTokens();
      expect(await client.getJobs()).toHaveLength(1);
      expect(standIn.tokenRequests).toBe(2);
      expect(standIn.requests('GetJob').map((r) => r.status)).toEqual([200, 401, 200]);
    });

    it('refreshes the token before it expires', async () => {
      // Only the clock is faked (the client and the stand-in both read Date.now), and it stands
      // still unless moved: no real waiting, so a loaded machine cannot push a call past the expiry.
      jest.useFakeTimers({
        doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame', 'requestIdleCallback', 'cancelIdleCallback', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
      });
      try {
        standIn.configure({ tokenTtlSeconds: 1 });
        const client = clientFor();
        await client.getJobs();
        jest.setSystemTime(Date.now() + 950);
        // Due for refresh (within a tenth of its life): the call still uses it while a new one is fetched.
        await client.getJobs();
        await client.getJobs();
        expect(standIn.tokenRequests).toBe(2);
        expect(standIn.requests('GetJob').map((r) => r.status)).toEqual([200, 200, 200]);
        const tokens = standIn.requests('GetJob').map((r) => r.headers.authorization);
        // The due token is still used while the new one is fetched, never an expired one.
        expect(tokens[1]).toBe(tokens[0]);
      } finally {
        jest.useRealTimers();
      }
    });

    it('fails permanently, without retrying and without echoing the secret, when the credentials are wrong', async () => {
      const client = clientFor({ clientSecret: 'wrong-secret-value' });
      const error = await client.getJobs().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SpectrumAuthError);
      expect(error).toMatchObject({ transient: false, status: 400 });
      expect((error as Error).message).toBe(
        'Spectrum token: the token endpoint refused the client credentials (HTTP 400: invalid_client); ' +
          'check SPECTRUM_CLIENT_ID and SPECTRUM_CLIENT_SECRET',
      );
      expect((error as Error).message).not.toContain('wrong-secret-value');
      expect(standIn.tokenRequests).toBe(1);
      expect(standIn.requests('GetJob')).toHaveLength(0);
    });
  });

  describe('basic', () => {
    beforeEach(() => standIn.configure({ auth: 'basic' }));

    it('sends Basic <CompanyCode>:<AuthorizationID>', async () => {
      await clientFor().getJobs();
      expect(standIn.lastRequest('GetJob')!.headers.authorization).toBe(`Basic ${Buffer.from('ABC:API').toString('base64')}`);
    });

    it('fails permanently on 401 without retrying', async () => {
      const error = await clientFor({ authorizationId: 'OTHER' }).getJobs().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SpectrumAuthError);
      expect(error).toMatchObject({ transient: false, status: 401 });
      expect(standIn.requests('GetJob')).toHaveLength(1);
    });
  });

  it('sends no Authorization header in mode none', async () => {
    standIn.configure({ auth: 'none' });
    await clientFor({ auth: 'none' }).getJobs();
    expect(standIn.lastRequest('GetJob')!.headers.authorization).toBeUndefined();
  });

  it('refuses incomplete options with one message naming every problem', () => {
    expect(() => new SpectrumSoapClient({ url: 'ftp://x', authorizationId: '', companyCode: 'ABC', auth: 'bearer' })).toThrow(
      'Invalid Spectrum client options: url must be an http(s) URL such as https://host:8482; authorizationId is required; ' +
        'auth "bearer" needs clientId and clientSecret',
    );
  });
});
