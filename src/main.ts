import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { createHttpApp, createWorkerContext, exitWithin } from './bootstrap';
import { AppConfig, ConfigError, loadAppConfig } from './config/app-config';
import { checkDatabase } from './database/database-check';
import { migrateAtStart } from './database/migrate';
import { ENTITIES } from './entities';
import { OpsServer } from './health/ops-server';

/**
 * Why the process stops, on stderr: one JSON line like every other (LOG_FORMAT=json, the default),
 * or the plain text for LOG_FORMAT=pretty. Read from the raw environment: the configuration itself
 * may be what failed.
 */
function fatal(message: string): never {
  if (process.env.LOG_FORMAT?.trim().toLowerCase() === 'pretty') {
    process.stderr.write(`${message}\n`);
  } else {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', time: new Date().toISOString(), pid: process.pid, msg: message })}\n`);
  }
  process.exit(1);
}

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: AppConfig;
  try {
    config = loadAppConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fatal(`${error.message}\nSee config/connector.env.example for every variable.`);
    throw error;
  }
  await checkDatabase(config.databaseUrl);
  const logger = new Logger('Connector');
  // Pending migrations: refuse to start (naming them), or apply them with MIGRATE_ON_START=true.
  await migrateAtStart(config.databaseUrl, ENTITIES, config.migrateOnStart, (message) => logger.log(message));
  exitWithin(config.shutdownTimeoutMs);
  if (config.role === 'worker') {
    const worker = await createWorkerContext(config);
    // HEALTH_PORT: the worker's only HTTP, for probes and Prometheus (src/health/ops-server.ts).
    if (config.healthPort) await worker.get(OpsServer).listen(config.healthPort);
    logger.log('Worker started: processing queues and schedules');
    return;
  }
  const app = await createHttpApp(config);
  await app.listen(config.port, '0.0.0.0');
  logger.log(`Listening on port ${config.port} as ${config.role}; API docs at ${config.publicUrl}/api/docs`);
}

main().catch((error: Error) => fatal(`The connector could not start: ${error.message}`));
