import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadAppConfig } from '../../config/app-config';
import { SpectrumSemaphore } from '../client/spectrum-concurrency';
import { SpectrumSoapClient } from '../client/spectrum-soap.client';
import { chooseSpectrumDriver } from '../spectrum.module';
import { FileDriver } from './file.driver';
import { SoapDriver } from './soap.driver';

const env = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused',
  PROCORE_CLIENT_ID: 'id',
  PROCORE_CLIENT_SECRET: 'secret',
  PROCORE_COMPANY_ID: '8',
  PROCORE_WEBHOOK_SECRET: 'a-webhook-secret-of-at-least-32-characters',
  SPECTRUM_URL: 'http://127.0.0.1:9',
  SPECTRUM_AUTHORIZATION_ID: 'API',
  SPECTRUM_COMPANY_CODE: 'ABC',
  SMTP_URL: 'smtp://127.0.0.1:9',
};
const client = {} as SpectrumSoapClient;
const semaphore = {} as SpectrumSemaphore;

describe('the Spectrum driver', () => {
  it('is chosen once from SPECTRUM_TRANSPORT', () => {
    expect(chooseSpectrumDriver(loadAppConfig(env), client, semaphore)).toBeInstanceOf(SoapDriver);
    const files = loadAppConfig({ ...env, SPECTRUM_TRANSPORT: 'file', SPECTRUM_EXPORT_DIR: '/tmp/spectrum-import' });
    expect(chooseSpectrumDriver(files, client, semaphore)).toBeInstanceOf(FileDriver);
  });

  it('says what the rows of a run are and when a read-back may still await an import', async () => {
    const exportedAt = new Date('2026-03-02T10:00:00Z');
    const soap = chooseSpectrumDriver(loadAppConfig(env), client, semaphore);
    const asked: string[][] = [];
    await soap.rowsToWrite(async (states) => (asked.push(states), []));
    expect(asked).toEqual([['pending']]);
    expect(soap.awaitingImportUntil(exportedAt)).toBeNull();

    const files = chooseSpectrumDriver(
      loadAppConfig({ ...env, SPECTRUM_TRANSPORT: 'file', SPECTRUM_EXPORT_DIR: '/tmp/x', SPECTRUM_FILE_IMPORT_WAIT: '2h' }),
      client,
      semaphore,
    );
    expect(files.awaitingImportUntil(exportedAt)).toEqual(new Date('2026-03-02T12:00:00Z'));
    expect(files.keptFailing(new Error('disk full')).message).toMatch(/^Writing the transfer file kept failing: disk full/);
  });

  it('is the only thing that knows the transport: no other file reads config.spectrum.transport', () => {
    const src = join(__dirname, '..', '..');
    const readers = sourceFiles(src).filter((file) => /\.spectrum\.transport\b/.test(readFileSync(file, 'utf8')));
    expect(readers.map((file) => relative(src, file))).toEqual(['spectrum/spectrum.module.ts']);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}
