import * as http from 'node:http';
import * as https from 'node:https';
import { TextDecoder } from 'node:util';
import type { IHttpClient } from 'soap';
import { SpectrumError, SpectrumNetworkError, SpectrumResponseFormatError, SpectrumTimeoutError } from './spectrum.errors';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The whole body; '' when it went to a `BodySink` piece by piece instead. */
  body: string;
  /** True when the connection closed before the body was complete. */
  partial: boolean;
}

/** Takes the body's text piece by piece as it arrives (the SOAP answers' streaming reader). */
export interface BodySink {
  write(text: string): void;
}

/**
 * What one SOAP call saw on the wire. The soap package passes its per-call options object through
 * to the transport; the transport fills this in so the client can classify the answer itself.
 */
export interface SpectrumExchange {
  /** Where the answer's text goes as it arrives; without one the body is collected whole. */
  sink?: BodySink;
  answer?: HttpAnswer;
  error?: SpectrumError;
  /** Resolves once `answer` or `error` is set. */
  settled: Promise<void>;
  settle(): void;
}

export function createExchange(sink?: BodySink): SpectrumExchange {
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  return { sink, settled, settle };
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

  /**
   * POSTs `body` and resolves with any HTTP answer (even a partial one); rejects with a SpectrumError.
   * With a `sink`, the body's text goes there as it arrives and is not kept (answer.body is ''): a
   * large answer is read in constant memory.
   */
  post(url: string, body: string | Buffer, headers: http.OutgoingHttpHeaders, service?: string, sink?: BodySink): Promise<HttpAnswer> {
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
          const body = sink ? new StreamedBody(sink, response.headers['content-type']) : new CollectedBody(response.headers['content-type']);
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            if (settled) return;
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
            size += chunk.length;
            body.add(chunk);
          });
          const answer = (partial: boolean): HttpAnswer => ({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: body.end(),
            partial,
          });
          response.on('end', () => {
            if (!settled) finish(undefined, answer(false));
          });
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
      this.post(url, String(data), (headers ?? {}) as http.OutgoingHttpHeaders, service, exchange?.sink)
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

/** The body kept whole, decoded at the end (token answers, small bodies). */
class CollectedBody {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly contentType: string | undefined) {}

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  end(): string {
    const decoder = decoderFor(this.contentType);
    return decoder ? decoder.decode(Buffer.concat(this.chunks, this.size)) : Buffer.concat(this.chunks, this.size).toString('utf8');
  }
}

/** The body decoded piece by piece into a sink (a character split between pieces is kept for the next). */
class StreamedBody {
  private readonly decoder: TextDecoder;

  constructor(
    private readonly sink: BodySink,
    contentType: string | undefined,
  ) {
    this.decoder = decoderFor(contentType) ?? new TextDecoder('utf-8');
  }

  add(chunk: Buffer): void {
    this.sink.write(this.decoder.decode(chunk, { stream: true }));
  }

  end(): string {
    this.sink.write(this.decoder.decode());
    return '';
  }
}

/**
 * A decoder for the charset the server declared, or undefined for UTF-8 (also when none or an
 * unknown one is declared). A fresh one each time: a streaming decoder holds state.
 */
function decoderFor(contentType: string | undefined): TextDecoder | undefined {
  const charset = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (!charset || charset === 'utf-8' || charset === 'utf8') return undefined;
  try {
    return new TextDecoder(charset);
  } catch {
    return undefined;
  }
}
