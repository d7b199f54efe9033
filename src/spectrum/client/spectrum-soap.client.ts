/*
 * Longer than 400 lines because each Spectrum service (GetJob, GetPhase, AddPhase) needs its own
 * envelope, complete-read rule and answer check; the HTTP transport, the token, the retries and
 * the response parser are already files of their own.
 */
import { Injectable, Logger } from '@nestjs/common';
import type { Agent, OutgoingHttpHeaders } from 'node:http';
import * as path from 'node:path';
import { formatMoney } from '../../common/money';
import {
  ResolvedSpectrumClientOptions,
  resolveSpectrumClientOptions,
  SpectrumClientOptions,
  SpectrumLogger,
} from './spectrum-client.options';
import { createExchange, createSpectrumAgent, HttpAnswer, SpectrumHttpTransport } from './spectrum-http.transport';
import {
  AddPhaseFields,
  AddPhaseResult,
  SpectrumJob,
  SpectrumPhase,
  SpectrumPhaseEnhanced,
  toAddPhaseResult,
  toJob,
  toPhase,
  toPhaseEnhanced,
} from './spectrum-records';
import { RawRecord, ScanSummary, SpectrumResponseScanner } from './spectrum-response.parser';
import { withSpectrumRetries } from './spectrum-retry';
import { keepRecords, readAnswer, RecordReader, rowsOf, RowReader } from './spectrum-soap.answers';
import { buildArgs, createBinding, ServiceBinding, SPECTRUM_SERVICES, SpectrumService, toCapturedEnvelope } from './spectrum-soap.bindings';
import { SpectrumTokenProvider } from './spectrum-token.provider';
import { SpectrumAuthError, SpectrumCallsStoppedError, SpectrumMessage, SpectrumRequestError } from './spectrum.errors';
import { superSelectProblem } from './spectrum-limits';

export { SPECTRUM_SERVICES, SPECTRUM_TYPES_NAMESPACE, toCapturedEnvelope } from './spectrum-soap.bindings';
export type { SpectrumService } from './spectrum-soap.bindings';
export { isNoRecordsAnswer } from './spectrum-soap.answers';

/**
 * The Spectrum Data Exchange client: GetJob, GetPhase(Enhanced) and AddPhase over SOAP.
 *
 * Each service's soap client is built once from the shipped WSDL and pointed at
 * `${url}/ws/<Service>`; the soap package serialises the envelope (default namespace on the root,
 * every declared parameter in WSDL order, empty elements for blanks), `toCapturedEnvelope` trims it to
 * the captured known-working form byte for byte, and soap calls our transport. The
 * answer is read by a tolerant scanner, never by a strict XML parser, because real servers cut large
 * responses off. Reads return only complete record lists; a cut-off read is retried and, if it stays
 * cut off, fails with a transient error: callers never conclude from a partial read.
 */
@Injectable()
export class SpectrumSoapClient {
  private readonly options: ResolvedSpectrumClientOptions;
  private readonly transport: SpectrumHttpTransport;
  private readonly tokens?: SpectrumTokenProvider;
  private readonly basicAuthorization?: string;
  private readonly ownsAgent: boolean;
  private readonly logger: SpectrumLogger;
  private bindings?: Promise<Map<SpectrumService, ServiceBinding>>;
  private ready?: Map<SpectrumService, ServiceBinding>;
  private stopped = false;

  constructor(options: SpectrumClientOptions) {
    this.options = resolveSpectrumClientOptions(options, path.join(__dirname, 'wsdl'));
    const o = this.options;
    this.ownsAgent = !o.agent;
    const agent = o.agent ?? createSpectrumAgent(o.url, Math.max(o.concurrency, 1));
    this.transport = new SpectrumHttpTransport({ agent, timeoutMs: o.timeoutMs, maxResponseBytes: o.maxResponseBytes });
    if (o.auth === 'bearer') {
      this.tokens = new SpectrumTokenProvider(this.transport, {
        tokenUrl: `${o.url}${o.tokenPath}`,
        clientId: o.clientId as string,
        clientSecret: o.clientSecret as string,
        scope: o.tokenScope,
      });
    } else if (o.auth === 'basic') {
      this.basicAuthorization = `Basic ${Buffer.from(`${o.companyCode}:${o.authorizationId}`, 'utf8').toString('base64')}`;
    }
    this.logger = o.logger ?? new Logger(SpectrumSoapClient.name);
  }

  /** The keep-alive agent every call goes through. */
  get agent(): Agent {
    return this.transport.agent;
  }

  get companyCode(): string {
    return this.options.companyCode;
  }

  /** `${url}/ws/<Service>` */
  endpointOf(service: SpectrumService): string {
    return `${this.options.url}/ws/${service}`;
  }

  /** Loads the WSDLs and builds the soap clients (done lazily by the first call otherwise). */
  async init(): Promise<void> {
    await this.loadBindings();
  }

  /**
   * From now on no call starts (nor a retry of one): each fails with a transient
   * SpectrumCallsStoppedError. Calls in flight go on to their answer. For a graceful stop.
   */
  stopNewCalls(): void {
    this.stopped = true;
  }

  /**
   * Frees the sockets of the client's own agent. Only once no call is in flight (at application
   * shutdown, after the workers have drained): a destroyed socket cuts its call (ECONNRESET).
   */
  async close(): Promise<void> {
    if (this.ownsAgent) this.transport.agent.destroy();
  }

  /** Under Nest: a missing or broken WSDL stops the start, not the first export. */
  async onModuleInit(): Promise<void> {
    await this.init();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  // ---- reads ---------------------------------------------------------------------------------

  /**
   * Every Active and Inactive job of the company (GetJob, blank status), or with `status` `C` the
   * Complete ones (a blank status never lists them): the complete list, or a transient error — a
   * cut-off list is read again, never returned (so never "job missing"). Look a job up in it with
   * findJob (export-plan).
   */
  async getJobs(status: '' | 'C' = ''): Promise<SpectrumJob[]> {
    const records = await this.call('GetJob', { pCompany_Code: this.options.companyCode, pStatus_Code: status });
    return rowsOf('GetJob', records, 'Job_Number', (r, note) => toJob(r, note));
  }

  /**
   * Every phase/cost type row of one job, Complete ones included: GetPhase with a blank status
   * answers Active and Inactive rows only, so a second read with `pStatus_Code` = `C` adds the
   * Complete ones (issue 9, item 4). Both answers are filtered back to the job: `pJob_Number` is a
   * SuperSelect field, so Spectrum may answer rows of other jobs. A record that cannot be read
   * (an estimate that is missing or not an amount) comes back with `problems`, not as an error:
   * one malformed row never makes the whole job unreadable. Answers are read as they arrive, one
   * record at a time (a 20 000-row answer never sits in memory whole). `concurrently`: both reads
   * at once — only for a caller holding two concurrency permits.
   */
  async getPhases(jobNumber: string, options: PhaseReadOptions = {}): Promise<SpectrumPhase[]> {
    return this.readBothStatuses('GetPhase', jobNumber, (r, note) => toPhase(r, 'GetPhase', note), options);
  }

  /** GetPhase plus price method, dates and comment (Complete rows included, as getPhases). */
  async getPhasesEnhanced(jobNumber: string, options: PhaseReadOptions = {}): Promise<SpectrumPhaseEnhanced[]> {
    return this.readBothStatuses('GetPhaseEnhanced', jobNumber, (r, note) => toPhaseEnhanced(r, 'GetPhaseEnhanced', note), options);
  }

  private async readBothStatuses<T extends SpectrumPhase>(
    service: 'GetPhase' | 'GetPhaseEnhanced',
    jobNumber: string,
    map: (record: RawRecord, note?: SpectrumMessage) => T,
    options: PhaseReadOptions,
  ): Promise<T[]> {
    refuseSuperSelect(jobNumber, service);
    const readStatus = (status: '' | 'C') =>
      this.read(
        service,
        { pCompany_Code: this.options.companyCode, pJob_Number: jobNumber, pStatus_Code: status },
        () => new RowReader(service, 'Phase_Code', map, (row) => sameJob(row.jobNumber, jobNumber)),
      );
    if (options.concurrently) {
      const [open, complete] = await Promise.all([readStatus(''), readStatus('C')]);
      return open.concat(complete);
    }
    const open = await readStatus('');
    return open.concat(await readStatus('C'));
  }

  // ---- writes --------------------------------------------------------------------------------

  /**
   * Creates or updates one job/phase/cost type row. Data errors (A, I, M) come back in the result
   * and are never retried; W/G are success with a note. Transient failures are retried (AddPhase
   * sets values, so a repeat is harmless) and thrown as SpectrumError when the attempts are spent.
   */
  async addPhase(fields: AddPhaseFields): Promise<AddPhaseResult> {
    const records = await this.call('AddPhase', {
      Company_Code: fields.companyCode ?? this.options.companyCode,
      Job_Number: fields.jobNumber,
      Phase_Code: fields.phaseCode,
      Cost_Type: fields.costType,
      Description: fields.description,
      Status_Code: fields.statusCode,
      Unit_of_Measure: fields.unitOfMeasure,
      Original_Est_Quantity: fields.originalEstQuantity,
      Original_Est_Hours: fields.originalEstHours,
      Original_Est_Cost: fields.originalEstCost === undefined ? undefined : formatMoney(fields.originalEstCost),
      Current_Est_Quantity: fields.currentEstQuantity,
      Current_Est_Hours: fields.currentEstHours,
      Current_Est_Cost: fields.currentEstCost === undefined ? undefined : formatMoney(fields.currentEstCost),
      Bid_Item_Number: fields.bidItemNumber,
      Alt_Phase_Code: fields.altPhaseCode,
      Work_Comp_Code: fields.workCompCode,
      Phase_Cost_Center: fields.phaseCostCenter,
      Price_Method_Code: fields.priceMethodCode,
    });
    return toAddPhaseResult(records);
  }

  // ---- the call ------------------------------------------------------------------------------

  /** One call with retries; resolves with the records of a complete answer. */
  private call(service: SpectrumService, params: Record<string, string | undefined>): Promise<RawRecord[]> {
    return this.read(service, params, keepRecords);
  }

  /** One call with retries, its answer's records handed to a fresh reader per attempt as they arrive. */
  private async read<T>(service: SpectrumService, params: Record<string, string | undefined>, newReader: () => RecordReader<T>): Promise<T> {
    const binding = this.ready?.get(service) ?? (await this.loadBindings()).get(service)!;
    const args = buildArgs(binding, params, this.options.authorizationId);
    const attempt = () =>
      this.stopped ? Promise.reject(new SpectrumCallsStoppedError(service)) : this.observed(service, () => this.attempt(binding, args, newReader));
    return withSpectrumRetries(service, this.options.retry, attempt, {
      onRetry: (error, attempt, delay) =>
        this.logger.warn(`${service} attempt ${attempt} failed (${error.name}); retrying in ${delay} ms: ${error.message}`),
    });
  }

  /** One attempt, timed and reported to the observer (metrics) with its outcome. */
  private async observed<T>(service: SpectrumService, attempt: () => Promise<T>): Promise<T> {
    const observer = this.options.observer;
    if (!observer) return attempt();
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = await attempt();
      observer.attempt(service, seconds());
      return result;
    } catch (error) {
      observer.attempt(service, seconds(), error);
      throw error;
    }
  }

  private async attempt<T>(binding: ServiceBinding, args: Record<string, string>, newReader: () => RecordReader<T>): Promise<T> {
    let sent = await this.send(binding, args, newReader());
    if (sent.answer.status === 401 && this.tokens && sent.token) {
      // The token was refused (expired early, rotated secret): replace it once.
      this.logger.debug?.(`${binding.service}: bearer token refused, fetching a new one`);
      this.tokens.invalidate(sent.token);
      sent = await this.send(binding, args, newReader());
    }
    const { answer, scan, reader } = sent;
    if (answer.status === 401 || answer.status === 403) {
      throw new SpectrumAuthError(
        `the server refused the credentials (HTTP ${answer.status}); check SPECTRUM_AUTH and its settings`,
        answer.status,
        binding.service,
      );
    }
    readAnswer(binding.service, answer, scan);
    return reader.result();
  }

  private async send<T>(
    binding: ServiceBinding,
    args: Record<string, string>,
    reader: RecordReader<T>,
  ): Promise<{ answer: HttpAnswer; scan: ScanSummary; reader: RecordReader<T>; token?: string }> {
    const headers: OutgoingHttpHeaders = {};
    let token: string | undefined;
    if (this.tokens) {
      token = await this.tokens.getToken();
      headers.Authorization = `Bearer ${token}`;
    } else if (this.basicAuthorization) {
      headers.Authorization = this.basicAuthorization;
    }
    // The answer is scanned as it arrives: each whole record goes to the reader at once.
    const scanner = new SpectrumResponseScanner((record) => reader.add(record));
    const exchange = createExchange(scanner);
    const invoked = binding.invoke(args, { exchange, postProcess: toCapturedEnvelope }, headers).then(
      () => undefined,
      (error: unknown) => {
        // Only a failure before the transport ran (serialising the request) is ours to report.
        if (!exchange.answer && !exchange.error) throw error;
      },
    );
    // The transport's outcome is what counts, whatever soap does with it afterwards.
    await Promise.race([invoked, exchange.settled]);
    if (exchange.error) throw exchange.error;
    return { answer: exchange.answer!, scan: scanner.end(), reader, token };
  }

  private loadBindings(): Promise<Map<SpectrumService, ServiceBinding>> {
    if (!this.bindings) {
      this.bindings = Promise.all(
        SPECTRUM_SERVICES.map((service) =>
          createBinding(service, { wsdlDir: this.options.wsdlDir, endpoint: this.endpointOf(service), httpClient: this.transport.asSoapHttpClient(service) }),
        ),
      ).then(
        (list) => {
          this.ready = new Map(list.map((binding) => [binding.service, binding]));
          return this.ready;
        },
        (error: unknown) => {
          this.bindings = undefined;
          throw error;
        },
      );
    }
    return this.bindings;
  }
}

/** A job number Spectrum would read as SuperSelect operators: refused before any read. */
function refuseSuperSelect(jobNumber: string, service: SpectrumService): void {
  const problem = superSelectProblem(jobNumber);
  if (problem) throw new SpectrumRequestError(problem, service);
}

export interface PhaseReadOptions {
  /** Read Active/Inactive and Complete rows at once (the caller holds two concurrency permits). */
  concurrently?: boolean;
}

function sameJob(a: string, b: string): boolean {
  return a.trim().toUpperCase() === b.trim().toUpperCase();
}
