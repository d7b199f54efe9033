/**
 * Runs the Spectrum stand-in alone (`npm run stand-ins` runs it with Procore and SMTP):
 *   npx ts-node --transpile-only test/stand-ins/spectrum/serve.ts
 * Environment: SPECTRUM_STAND_IN_PORT (default 8482), SPECTRUM_AUTHORIZATION_ID (API),
 * SPECTRUM_COMPANY_CODE (ABC), SPECTRUM_AUTH (none|bearer|basic), SPECTRUM_CLIENT_ID,
 * SPECTRUM_CLIENT_SECRET, STAND_IN_LATENCY_MS, STAND_IN_FAULT_RATE, STAND_IN_SEED: `sample` (default:
 * job 26-101 as it stands before the sample Procore budget's first export, which then ends synced),
 * `demo` (a company with three jobs and unrelated phases: that budget ends out_of_sync), `none`.
 */
import { SpectrumStandIn, StandInAuthMode } from './spectrum-stand-in';
import { seedDemoSpectrum, seedSpectrumForSampleProject } from './spectrum-stand-in.seed';

async function main(): Promise<void> {
  const env = process.env;
  const standIn = await SpectrumStandIn.start({
    port: Number(env.SPECTRUM_STAND_IN_PORT ?? 8482),
    authorizationId: env.SPECTRUM_AUTHORIZATION_ID ?? 'API',
    companyCode: env.SPECTRUM_COMPANY_CODE ?? 'ABC',
    auth: (env.SPECTRUM_AUTH as StandInAuthMode | undefined) ?? 'none',
    clientId: env.SPECTRUM_CLIENT_ID,
    clientSecret: env.SPECTRUM_CLIENT_SECRET,
    latencyMs: Number(env.STAND_IN_LATENCY_MS ?? 0),
    faultRate: Number(env.STAND_IN_FAULT_RATE ?? 0),
  });
  const seed = env.STAND_IN_SEED ?? 'sample';
  if (seed === 'sample') seedSpectrumForSampleProject(standIn);
  else if (seed === 'demo') seedDemoSpectrum(standIn);
  console.log(`Spectrum stand-in listening at ${standIn.url} (services at /ws/<Service>)`);
  const stop = () => void standIn.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
