import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { MetricsService } from '../observability/metrics.service';
import { HealthAnswer, HealthService } from './health.service';

/**
 * A worker's operations port (HEALTH_PORT; APP_ROLE=worker has no other HTTP): GET /health/live,
 * GET /health/ready (and /health, its alias, as on the API) and GET /metrics, unauthenticated like
 * the API's health routes. A plain Node HTTP server: nothing else of the API (no auth, no body
 * parsing, no docs) is exposed on it. Closed when the application shuts down, after the queues
 * have drained, so probes see readiness turn 503 during a graceful stop.
 */
@Injectable()
export class OpsServer implements OnApplicationShutdown {
  private readonly logger = new Logger('Health');
  private server?: Server;

  constructor(
    private readonly health: HealthService,
    private readonly metrics: MetricsService,
  ) {}

  /** Listens on `port` (all interfaces, like the API); resolves with the port bound. */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const server = createServer((request, response) => void this.handle(request, response));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new Error(`HEALTH_PORT: cannot listen on port ${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}`)),
      );
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const bound = (server.address() as AddressInfo).port;
    this.logger.log(`Health and metrics on port ${bound}: /health/live, /health/ready, /metrics`);
    return bound;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0].replace(/\/+$/, '') || '/';
    try {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return send(response, 405, 'application/json', JSON.stringify({ statusCode: 405, error: 'Method Not Allowed', message: 'Only GET is served here' }), { allow: 'GET, HEAD' });
      }
      if (path === '/health/live') return sendHealth(response, await this.health.live());
      if (path === '/health/ready' || path === '/health') return sendHealth(response, await this.health.ready());
      if (path === '/metrics') {
        const { contentType, body } = await this.metrics.render();
        return send(response, 200, contentType, body);
      }
      send(response, 404, 'application/json', JSON.stringify({ statusCode: 404, error: 'Not Found', message: 'GET /health/live, /health/ready or /metrics' }));
    } catch (error) {
      this.logger.error(`${request.method} ${path} failed: ${(error as Error).message}`);
      if (!response.headersSent) send(response, 500, 'application/json', JSON.stringify({ statusCode: 500, error: 'Internal Server Error', message: 'Something went wrong on our side' }));
      else response.destroy();
    }
  }
}

function sendHealth(response: ServerResponse, answer: HealthAnswer): void {
  send(response, answer.statusCode, 'application/json; charset=utf-8', JSON.stringify(answer.body));
}

function send(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
