import * as http from 'node:http';
import * as https from 'node:https';
import { TextDecoder } from 'node:util';
import type { IHttpClient } from 'soap';
import { SpectrumError, SpectrumNetworkError, SpectrumResponseFormatError, SpectrumTimeoutError } from './spectrum.errors';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** True when the connection closed before the body was complete. */
  partial: boolean;
}

/**
 * What one SOAP call saw on the wire. The soap package passes its per-call options object through
 * to the transport; the transport fills this in so the client can classify the answer itself.
 */
export interface SpectrumExchange {
  answer?: HttpAnswer;
  error?: SpectrumError;
  /** Resolves once `answer` or `error` is set. */
  settled: Promise<void>;
  settle(): void;
}

export function createExchange(): SpectrumExchange {
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  return { settled, settle };
}

export interface SpectrumTransportOptions {
  /** Keep-alive agent shared by every call; its scheme must match the URLs. */
  agent: http.Agent;
  timeoutMs: number;
  /** Responses above this are abandoned (protects memory from a runaway unfiltered read). */
  maxResponseBytes?: number;
}

/** Creates the keep-alive agent the client uses when none is given. */
export function createSpectrumAgent(url: string, maxSockets: number): http.Agent {
  const options: http.AgentOptions = {
    keepAlive: true,
    keepAliveMsecs: 1000,
    maxSockets,
    maxFreeSockets: maxSockets,
    scheduling: 'lifo',
  };
  return url.startsWith('https:') ? new https.Agent(options) : new http.Agent(options);
}

/**
 * HTTP for the Spectrum client: node:http over a keep-alive agent, one deadline for the whole
 * exchange, the raw body returned as text. It also serves as the soap package's `httpClient`.
 */
export class SpectrumHttpTransport {
  private readonly maxResponseBytes: number;

  constructor(private readonly options: SpectrumTransportOptions) {
    this.maxResponseBytes = options.maxResponseBytes ?? 256 * 1024 * 1024;
  }

  get agent(): http.Agent {
    return this.options.agent;
  }

  /** POSTs `body` and resolves with any HTTP answer (even a partial one); rejects with a SpectrumError. */
  post(url: string, body: string | Buffer, headers: http.OutgoingHttpHeaders, service?: string): Promise<HttpAnswer> {
    const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const timeoutMs = this.options.timeoutMs;
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const finish = (error: SpectrumError | undefined, answer?: HttpAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(answer as HttpAnswer);
      };
      const request = client.request(
        target,
        {
          method: 'POST',
          agent: this.options.agent,
          headers: { ...headers, 'Content-Length': payload.length },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            if (size + chunk.length > this.maxResponseBytes) {
              request.destroy();
              finish(
                new SpectrumResponseFormatError(
                  `response larger than ${this.maxResponseBytes} bytes; filter the read`,
                  false,
                  service,
                ),
              );
              return;
            }
            chunks.push(chunk);
            size += chunk.length;
          });
          const answer = (partial: boolean): HttpAnswer => ({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: decodeBody(Buffer.concat(chunks, size), response.headers['content-type']),
            partial,
          });
          response.on('end', () => finish(undefined, answer(false)));
          // The server closed mid-body: what arrived is still an answer to read (the reader
          // detects the cut); with nothing at all it is a network error.
          const cut = (error?: Error) => {
            if (settled) return;
            if (size > 0) finish(undefined, answer(true));
            else finish(toNetworkError(error ?? closedEarly(), service));
          };
          response.on('error', cut);
          response.on('close', () => {
            if (!response.complete) cut();
          });
        },
      );
      const timer = setTimeout(() => {
        finish(new SpectrumTimeoutError(timeoutMs, service));
        request.destroy();
      }, timeoutMs);
      request.on('error', (error) => finish(toNetworkError(error, service)));
      request.end(payload);
    });
  }

  /**
   * The soap package's transport hook. The per-call options carry a `SpectrumExchange` that receives
   * the raw answer, which the client reads with its tolerant reader. soap itself gets an empty body:
   * its strict parser fails on the cut-off responses real servers send, and it is slow (a 4.8 MB
   * GetPhase answer: 320 ms in soap's parser against 65 ms in ours).
   */
  asSoapHttpClient(service: string): IHttpClient {
    const request = (
      url: string,
      data: unknown,
      callback: (error: unknown, res?: unknown, body?: unknown) => unknown,
      headers?: Record<string, unknown>,
      exoptions?: Record<string, unknown>,
    ) => {
      const exchange = exoptions?.exchange as SpectrumExchange | undefined;
      this.post(url, String(data), (headers ?? {}) as http.OutgoingHttpHeaders, service)
        .then(
          (answer) => {
            if (exchange) {
              exchange.answer = answer;
              exchange.settle();
            }
            callback(null, { status: answer.status, headers: answer.headers, data: '' }, '');
          },
          (error: SpectrumError) => {
            if (exchange) {
              exchange.error = error;
              exchange.settle();
            }
            callback(error);
          },
        )
        // The exchange already holds the outcome; a throw inside soap's callback must not become
        // an unhandled rejection.
        .catch(() => undefined);
      // soap ignores the return value when it is not streaming.
      return undefined as unknown as ReturnType<IHttpClient['request']>;
    };
    return { request };
  }
}

/** The start of a response body on one line, for error messages (an HTML page from a proxy, …). */
export function excerpt(body: string): string {
  return body.replace(/\s+/g, ' ').trim().slice(0, 200);
}

function closedEarly(): NodeJS.ErrnoException {
  return Object.assign(new Error('connection closed before the response was complete'), { code: 'ECONNRESET' });
}

function toNetworkError(error: NodeJS.ErrnoException, service?: string): SpectrumError {
  if (error instanceof SpectrumError) return error;
  return new SpectrumNetworkError(error.code, error.message, service, { cause: error });
}

const decoders = new Map<string, TextDecoder>();

/** Decodes the body with the charset the server declared (UTF-8 when none or unknown). */
function decodeBody(bytes: Buffer, contentType: string | undefined): string {
  const charset = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (!charset || charset === 'utf-8' || charset === 'utf8') return bytes.toString('utf8');
  let decoder = decoders.get(charset);
  if (!decoder) {
    try {
      decoder = new TextDecoder(charset);
    } catch {
      decoder = new TextDecoder('utf-8');
    }
    decoders.set(charset, decoder);
  }
  return decoder.decode(bytes);
}
