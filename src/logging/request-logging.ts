import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { storage, Store } from 'nestjs-pino/storage';
import type { Logger as Pino } from 'pino';
import { pinoHttp } from 'pino-http';
import { Scrubber } from './scrubber';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** An incoming X-Request-Id is kept when it is 1–128 of these characters; otherwise a new id is made. */
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
/** Probes, polled every few seconds: not logged when they answer. */
const PROBES = /^\/(health(\/(live|ready))?|metrics)\/?$/;

/** The request's id: the caller's X-Request-Id when it is acceptable, else a new UUID; echoed in the response. */
export function requestIdOf(request: IncomingMessage, response: ServerResponse): string {
  const header = request.headers['x-request-id'];
  const incoming = (Array.isArray(header) ? header[0] : header)?.trim();
  const id = incoming && ACCEPTED_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  response.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

/**
 * The first middleware of the HTTP application: gives each request its id, logs its completion
 * (method, path, status, time; never headers or bodies) and binds a logger carrying `requestId`
 * for everything logged while it is handled (nestjs-pino's store, read by ConnectorLogger).
 */
export function requestLogging(root: Pino, secrets: string[]): RequestHandler[] {
  const scrubber = new Scrubber(secrets);
  const http = pinoHttp({
    logger: root,
    genReqId: requestIdOf,
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'requestId', responseTime: 'ms' },
    autoLogging: { ignore: (request) => PROBES.test((request.url ?? '').split('?')[0]) },
    // Only these fields: never headers (Authorization, Cookie) nor bodies.
    wrapSerializers: false,
    serializers: {
      req: (request: IncomingMessage) => ({ method: request.method, url: scrubber.text(urlOf(request)), remoteAddress: request.socket?.remoteAddress }),
      res: (response: ServerResponse) => ({ statusCode: response.statusCode }),
    },
    // A 5xx's cause is logged at error by the exception filter; the request line says it happened.
    customLogLevel: (_request, response, error) => (error || response.statusCode >= 500 ? 'warn' : 'info'),
    customSuccessMessage: (request, response, ms) => `${request.method} ${pathOf(request)} ${response.statusCode} in ${Math.round(ms)} ms`,
    customErrorMessage: (request, response) => `${request.method} ${pathOf(request)} ${response.statusCode} failed`,
  });
  const bind = (request: Request, response: Response, next: NextFunction) =>
    storage.run(new Store((request as Request & { log: Pino }).log, (response as Response & { log?: Pino }).log), next);
  return [http as unknown as RequestHandler, bind];
}

function urlOf(request: IncomingMessage): string {
  return (request as Request).originalUrl ?? request.url ?? '';
}

function pathOf(request: IncomingMessage): string {
  return urlOf(request).split('?')[0];
}
