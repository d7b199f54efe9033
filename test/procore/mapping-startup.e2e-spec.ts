import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readableOutput } from '../support/log-capture';
import { testEnvironment, redisUrl } from '../support/test-env';

const ROOT = join(__dirname, '..', '..');

describe('MAPPING_FILE at start-up', () => {
  it('a bad mapping file stops the process with a message naming every problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'connector-mapping-'));
    const file = join(dir, 'mapping.yaml');
    writeFileSync(file, 'jobs:\n  "1001": "26-101-EXTRA"\ncostType:\n  Labor: L\nphases:\n  01-100: "01-100"\n');
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...testEnvironment({ MAPPING_FILE: file, REDIS_URL: redisUrl(), PORT: String(40000 + Math.floor(Math.random() * 20000)) }) },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    // The process logs JSON lines: the message is read back from its line.
    expect(readableOutput(output)).toContain(
      [
        `The connector could not start: MAPPING_FILE ${file} cannot be used:`,
        '  - unknown section "costType" (the sections are jobs, phases, costTypes, projects)',
        `  - jobs."1001": job "26-101-EXTRA" is longer than Spectrum's 10 characters`,
        '  - phases."01-100": phase "01-100" contains a dash, which Spectrum phases cannot have',
      ].join('\n'),
    );
  }, 30_000);
});
