import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { createHttpApp, createWorkerContext } from './bootstrap';
import { AppConfig, ConfigError, loadAppConfig } from './config/app-config';
import { checkDatabase } from './database/database-check';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: AppConfig;
  try {
    config = loadAppConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee config/connector.env.example for every variable.\n`);
      process.exit(1);
    }
    throw error;
  }
  await checkDatabase(config.databaseUrl);
  const logger = new Logger('Connector');
  if (config.role === 'worker') {
    await createWorkerContext(config);
    logger.log('Worker started: processing queues and schedules');
    return;
  }
  const app = await createHttpApp(config);
  await app.listen(config.port, '0.0.0.0');
  logger.log(`Listening on port ${config.port} as ${config.role}; API docs at ${config.publicUrl}/api/docs`);
}

main().catch((error: Error) => {
  process.stderr.write(`The connector could not start: ${error.message}\n`);
  process.exit(1);
});
