import { BadRequestException, INestApplication, Logger, INestApplicationContext, LogLevel, ValidationError, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json, NextFunction, Request, Response, urlencoded } from 'express';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { AppModule, AppModuleOptions } from './app.module';
import { HttpExceptionFilter } from './http/http-exception.filter';
import { jsonBodyGuard } from './common/json-body-guard';
import { AppConfig } from './config/app-config';
import { securityHeaders } from './security/security-headers';
import { WEBHOOK_PATH } from './procore/webhooks/procore-webhook.controller';
import { ConnectorLogger, createRootLogger, levelFor, secretsOf } from './logging/logger';
import { setProcessLogger } from './logging/log-context';
import { requestLogging } from './logging/request-logging';
import { QUEUE_DASHBOARD_PATH, QueueDashboard } from './console/queue-dashboard';

export const BODY_LIMIT = '100kb';

export interface StartOptions extends Partial<AppModuleOptions> {
  /** Nest-style levels to log (`['error']`: errors only; `false`: nothing); default LOG_LEVEL. */
  logger?: LogLevel[] | false;
  /** Where log lines go instead of stdout (tests capture them). */
  logStream?: DestinationStream;
}

/** The process's logger (LOG_FORMAT, LOG_LEVEL or the caller's levels), installed for Nest and for jobs. */
function startLogger(config: AppConfig, options: StartOptions): { root: PinoLogger; logger: ConnectorLogger } {
  const root = createRootLogger({
    format: config.log.format,
    level: levelFor(options.logger, config.log.level),
    role: config.role,
    secrets: secretsOf(config),
    stream: options.logStream,
  });
  setProcessLogger(root);
  return { root, logger: new ConnectorLogger(root) };
}

function moduleOptions(config: AppConfig, options: StartOptions): AppModuleOptions {
  const role = config.role;
  return {
    runWorkers: options.runWorkers ?? role !== 'api',
    runScheduler: options.runScheduler ?? role !== 'api',
    queuePrefix: options.queuePrefix,
    backoffScale: options.backoffScale,
    jobs: options.jobs,
    timings: options.timings,
  };
}

/** The HTTP application (APP_ROLE api or all), configured exactly as in production. */
export async function createHttpApp(config: AppConfig, options: StartOptions = {}): Promise<INestApplication> {
  const { root, logger } = startLogger(config, options);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, moduleOptions(config, options)), {
    bodyParser: false,
    abortOnError: false,
    logger,
  });
  // First: every request gets its id (X-Request-Id) and its logger, even one refused early.
  app.use(...requestLogging(root, secretsOf(config)));
  // Then, so that every response carries them, even a refused body.
  app.use(securityHeaders());
  // The console posts HTML forms; the API itself takes JSON only.
  app.use('/console', urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 50 }));
  app.use(exceptWebhooks(json({ limit: BODY_LIMIT })), bodyParserErrors, jsonBodyGuard);
  // Bull Board, for admins (its own guard: admin API token or admin console session).
  app.use(QUEUE_DASHBOARD_PATH, ...app.get(QueueDashboard).handlers());
  app.disable('x-powered-by');
  // Which proxies' X-Forwarded-For names the client (rate limits count per client address).
  app.set('trust proxy', config.security.trustProxy);
  app.useGlobalFilters(new HttpExceptionFilter());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      exceptionFactory: (errors) => new BadRequestException(flatten(errors).join('; ')),
    }),
  );
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Procore → Spectrum budget connector')
      .setDescription('Approval gate, export and reconciliation of Procore budgets into Viewpoint Spectrum')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs/openapi.json' });
  app.enableShutdownHooks();
  return app;
}

/** A process without HTTP (APP_ROLE worker): queue workers and schedules only. */
export async function createWorkerContext(config: AppConfig, options: StartOptions = {}): Promise<INestApplicationContext> {
  const { logger } = startLogger(config, options);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, moduleOptions(config, options)), {
    abortOnError: false,
    logger,
  });
  app.enableShutdownHooks();
  return app;
}

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith('property ') && message.endsWith(' should not exist') ? `${path} is not a known field` : message,
    );
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/**
 * The Procore webhook reads its own raw body, after checking its Authorization header: an
 * authenticated delivery is answered 2xx whatever its body: one non-2xx answer makes Procore pause
 * every delivery to the endpoint (docs/procore.md, "Webhooks").
 */
function exceptWebhooks(parser: (request: Request, response: Response, next: NextFunction) => void) {
  return (request: Request, response: Response, next: NextFunction) => (request.path.toLowerCase().replace(/\/+$/, '') === WEBHOOK_PATH ? next() : parser(request, response, next));
}

/** Answers body-parser failures (bad JSON, too large) in the API's error shape, before any route. */
function bodyParserErrors(error: unknown, _request: Request, response: Response, next: NextFunction): void {
  const type = (error as { type?: string } | undefined)?.type;
  if (type === 'entity.too.large') {
    response.status(413).json({ statusCode: 413, error: 'Payload Too Large', message: `The request body is larger than the ${BODY_LIMIT} limit` });
  } else if (type === 'entity.parse.failed') {
    response.status(400).json({ statusCode: 400, error: 'Bad Request', message: 'The request body is not valid JSON' });
  } else if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    response.status(415).json({ statusCode: 415, error: 'Unsupported Media Type', message: 'Send the body as UTF-8 JSON' });
  } else {
    next(error);
  }
}

/**
 * SIGTERM or SIGINT: the application stops gracefully (shutdown hooks; QueueWorker drains) and
 * this process exits within `timeoutMs` (SHUTDOWN_TIMEOUT_MS) whatever is still running — work cut
 * short stays pending in PostgreSQL, and its Spectrum permits end with their lease.
 */
export function exitWithin(timeoutMs: number): void {
  const arm = (signal: NodeJS.Signals) => {
    const timer = setTimeout(() => {
      new Logger('Connector').error(`Still stopping ${timeoutMs} ms after ${signal} (SHUTDOWN_TIMEOUT_MS): exiting now`);
      process.exit(1);
    }, timeoutMs);
    timer.unref();
  };
  process.once('SIGTERM', arm);
  process.once('SIGINT', arm);
}
