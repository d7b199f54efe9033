import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getMetadataStorage } from 'class-validator';
import { parse } from 'yaml';
import { EnvironmentVariables } from '../../src/config/environment';
import { API_NODE_FLAGS } from '../chaos/infra/connector-build';

/**
 * Docker cannot be built on the machine that runs the tests (no Docker daemon there),
 * so the Dockerfile and the compose file are checked by reading them: exact image tags, Node.js 24,
 * a non-root user, the port the app listens on, and only environment variables the app reads.
 */
const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** Every variable the connector reads (src/config/environment.ts). */
const APP_VARIABLES = new Set(getMetadataStorage().getTargetValidationMetadatas(EnvironmentVariables, '', true, false).map((m) => m.propertyName));
/** Read by Node.js and libraries, not by the connector's configuration. */
const RUNTIME_VARIABLES = new Set(['NODE_ENV']);
/** Only the compose file uses these: PostgreSQL's image, and interpolation. */
const COMPOSE_VARIABLES = new Set(['POSTGRES_PASSWORD']);

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** `node:24.21.0-bookworm-slim`: a release number down to the patch (or minor for PostgreSQL), never a floating tag. */
const EXACT_TAG = /^[a-z0-9./-]+:\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?(@sha256:[0-9a-f]{64})?$/;

describe('Dockerfile', () => {
  const steps = instructions(read('Dockerfile'));
  const stages = steps.filter((step) => step.keyword === 'FROM').map((step) => step.args.split(/\s+/)[0]);
  const runtime = steps.slice(steps.map((step) => step.keyword).lastIndexOf('FROM'));

  it('builds on Node.js 24 LTS, pinned to an exact release in every stage', () => {
    expect(stages.length).toBeGreaterThan(0);
    for (const image of stages) {
      expect(image).toMatch(EXACT_TAG);
      expect(image).toMatch(/^node:24\.\d+\.\d+-/);
    }
    expect(new Set(stages).size).toBe(1); // build and runtime on the same Node.js
  });

  it('runs as a user other than root', () => {
    const users = runtime.filter((step) => step.keyword === 'USER').map((step) => step.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^(root|0)(:|$)/);
    const lastUser = runtime.map((step) => step.keyword).lastIndexOf('USER');
    expect(lastUser).toBeLessThan(runtime.map((step) => step.keyword).lastIndexOf('CMD'));
  });

  it('exposes the port the app listens on and checks /health', () => {
    const env = Object.fromEntries(
      runtime
        .filter((step) => step.keyword === 'ENV')
        .flatMap((step) => [...step.args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)].map((match) => [match[1], match[2]])),
    );
    expect(runtime.filter((step) => step.keyword === 'EXPOSE').map((step) => step.args)).toEqual([env.PORT]);
    for (const name of Object.keys(env)) expect({ name, known: APP_VARIABLES.has(name) || RUNTIME_VARIABLES.has(name) }).toEqual({ name, known: true });
    expect(runtime.find((step) => step.keyword === 'HEALTHCHECK')?.args).toContain('/health');
    expect(runtime.find((step) => step.keyword === 'CMD')?.args).toBe('["node", "dist/main.js"]');
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, { image?: string; build?: unknown; environment?: Record<string, string>; ports?: string[]; command?: string[] }>;
  };
  const services = compose.services;
  const connectorServices = Object.entries(services).filter(([, service]) => service.build !== undefined);

  it('pins every third-party image to an exact release', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build !== undefined) continue;
      expect({ name, image: service.image }).toEqual({ name, image: expect.stringMatching(EXACT_TAG) });
    }
    expect(services.postgres.image).toMatch(/^postgres:\d+\.\d+/);
    expect(services.redis.image).toMatch(/^redis:\d+\.\d+\.\d+/);
  });

  it('takes every secret from .env: no password is written in the file', () => {
    const text = read('docker-compose.yml');
    expect(services.postgres.environment?.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    for (const [, service] of connectorServices) {
      const url = service.environment?.DATABASE_URL ?? '';
      expect(url).toMatch(/^postgres:\/\/connector:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432\/connector$/);
      expect(service).toMatchObject({ env_file: '.env' });
    }
    // Nothing that looks like a literal credential.
    expect(text).not.toMatch(/:\/\/[^:\s/]+:(?!\$\{)[^@\s]+@/);
    expect(text).not.toMatch(/^\s*[A-Z_]*(PASSWORD|SECRET|TOKEN)[A-Z_]*\s*:\s*(?!\$\{)\S/m);
  });

  it('sets only variables the app (or the database image) reads, and publishes only the API port', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const variable of Object.keys(service.environment ?? {})) {
        const known = service.build !== undefined ? APP_VARIABLES.has(variable) : COMPOSE_VARIABLES.has(variable) || /^POSTGRES_/.test(variable);
        expect({ name, variable, known }).toEqual({ name, variable, known: true });
      }
    }
    const published = Object.entries(services).filter(([, service]) => service.ports?.length);
    expect(published.map(([name]) => name)).toEqual(['api']);
    expect(services.api.ports).toEqual(['3000:3000']);
    expect(services.api.environment).toMatchObject({ APP_ROLE: 'api' });
    expect(services.worker.environment).toMatchObject({ APP_ROLE: 'worker' });
    expect(services.migrate.command).toEqual(['node', 'dist/cli.js', 'migration:up']);
  });

  it('runs the API with the Node.js flags the chaos lab and the load benchmark give it', () => {
    expect(services.api.command).toEqual(['node', ...API_NODE_FLAGS, 'dist/main.js']);
    expect(services.worker.command).toBeUndefined();
  });
});

describe('config/connector.env.example', () => {
  it('lists only variables the app reads (and the compose file’s POSTGRES_PASSWORD)', () => {
    const names = read('config/connector.env.example')
      .split('\n')
      .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
      .filter((name): name is string => !!name);
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) expect({ name, known: APP_VARIABLES.has(name) || COMPOSE_VARIABLES.has(name) }).toEqual({ name, known: true });
  });
});

describe('package.json', () => {
  it('supports Node.js 20 and later', () => {
    expect(JSON.parse(read('package.json')).engines).toEqual({ node: '>=20' });
  });
});
