import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { MappingFileError } from './mapping-file';
import { MappingStore } from './mapping-store';

async function eventually(probe: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('MappingStore: MAPPING_FILE read again on change or SIGHUP', () => {
  let dir: string;
  let path: string;
  let store: MappingStore;
  let errors: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mapping-store-'));
    path = join(dir, 'mapping.yaml');
    writeFileSync(path, 'costTypes:\n  Labor: LB\n');
    errors = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void errors.push(String(message)));
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    store = new MappingStore(path);
    store.onModuleInit();
  });
  afterEach(() => {
    store.onModuleDestroy();
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a bad file at start stops it, naming the problem', () => {
    writeFileSync(path, 'costTypes:\n  Labor: LABOR\n');
    expect(() => new MappingStore(path)).toThrow(MappingFileError);
  });

  it('picks up a changed file by itself (also one replaced by rename, as editors save)', async () => {
    expect(store.current().costTypes.get('Labor')).toBe('LB');
    const before = store.version();
    writeFileSync(path, 'costTypes:\n  Labor: L\n');
    await eventually(() => store.current().costTypes.get('Labor') === 'L', 'the edited file to be read');
    expect(store.version()).not.toBe(before);

    writeFileSync(join(dir, 'next.yaml'), 'costTypes:\n  Labor: LAB\n');
    renameSync(join(dir, 'next.yaml'), path);
    await eventually(() => store.current().costTypes.get('Labor') === 'LAB', 'the replaced file to be read');
  });

  it('a bad file is refused clearly and the mapping in force stays', async () => {
    writeFileSync(path, 'costTypes:\n  Labor: LABOR\n  Material: [M]\n');
    await eventually(() => errors.length > 0, 'the refusal to be logged');
    expect(errors[0]).toContain(`MAPPING_FILE ${path} was not reloaded (the file changed); the previous mapping (${store.version()}) stays in force.`);
    expect(errors[0]).toContain(`costTypes.Labor: cost type "LABOR" is longer than Spectrum's 3 characters`);
    expect(errors[0]).toContain('costTypes.Material must be a single value, not a list');
    expect(store.current().costTypes.get('Labor')).toBe('LB');
    rmSync(path);
    expect(store.reload()).toEqual({ changed: false, problems: ['the file does not exist'] });
    expect(store.current().costTypes.get('Labor')).toBe('LB');
  });

  it('SIGHUP reads it again at once', () => {
    writeFileSync(path, 'costTypes:\n  Labor: LH\n');
    process.emit('SIGHUP', 'SIGHUP');
    expect(store.current().costTypes.get('Labor')).toBe('LH');
    expect(store.reload()).toEqual({ changed: false });
  });
});
