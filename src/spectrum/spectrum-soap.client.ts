import { Injectable, Logger } from '@nestjs/common';
import type { Agent, OutgoingHttpHeaders } from 'node:http';
import * as path from 'node:path';
import * as soap from 'soap';
import { formatMoney } from '../common/money';
import {
  ResolvedSpectrumClientOptions,
  resolveSpectrumClientOptions,
  SpectrumClientOptions,
  SpectrumLogger,
} from './spectrum-client.options';
import { createExchange, createSpectrumAgent, excerpt, HttpAnswer, SpectrumHttpTransport } from './spectrum-http.transport';
import {
  AddPhaseFields,
  AddPhaseResult,
  field,
  isErrorCode,
  recordMessage,
  SpectrumJob,
  SpectrumPhase,
  SpectrumPhaseEnhanced,
  toAddPhaseResult,
  toJob,
  toPhase,
  toPhaseEnhanced,
} from './spectrum-records';
import { RawRecord, scanSpectrumResponse } from './spectrum-response.parser';
import { withSpectrumRetries } from './spectrum-retry';
import { SpectrumTokenProvider } from './spectrum-token.provider';
import {
  SpectrumAuthError,
  SpectrumDataError,
  SpectrumFaultError,
  SpectrumHttpError,
  SpectrumIncompleteResponseError,
  SpectrumMessage,
  SpectrumRequestError,
  SpectrumResponseFormatError,
  SpectrumTruncation,
} from './spectrum.errors';
import { superSelectProblem } from './spectrum-limits';

export const SPECTRUM_SERVICES = ['GetJob', 'GetPhase', 'GetPhaseEnhanced', 'AddPhase'] as const;
export type SpectrumService = (typeof SPECTRUM_SERVICES)[number];

export const SPECTRUM_TYPES_NAMESPACE = 'http://www.northgate-is.com/proiv/webservices/types';

/** The parameters the client fills per service; the WSDL must declare them (checked at start). */
const REQUIRED_PARAMETERS: Record<SpectrumService, string[]> = {
  GetJob: ['Authorization_ID', 'GUID', 'pCompany_Code', 'pStatus_Code'],
  GetPhase: ['Authorization_ID', 'GUID', 'pCompany_Code', 'pJob_Number', 'pStatus_Code'],
  GetPhaseEnhanced: ['Authorization_ID', 'GUID', 'pCompany_Code', 'pJob_Number', 'pStatus_Code'],
  AddPhase: ['Authorization_ID', 'GUID', 'Company_Code', 'Job_Number', 'Phase_Code', 'Cost_Type'],
};

type SoapAsyncMethod = (args: unknown, options?: unknown, extraHeaders?: unknown) => Promise<unknown>;

interface ServiceBinding {
  service: SpectrumService;
  endpoint: string;
  /** Declared request parameters, in WSDL order. */
  parameters: readonly string[];
  invoke: SoapAsyncMethod;
}

// Characters XML 1.0 cannot carry at all; Spectrum could not store them either.
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const XML_INVALID_ALL = new RegExp(XML_INVALID.source, 'g');
/**
 * The one answer a read takes as "no rows" (item 5 of issue 9): a record with no key, no column
 * named, a code that is not an authorisation code, and exactly this text. No public capture of
 * Spectrum's empty answer exists (the help pages document only that every Get service ends each
 * record with Error_Code / Error_Description / Error_Column, with the example `E` "The web service
 * is not Authorized" on `Authorization_ID`), so the phrase is inferred and kept narrow: a whole-text
 * match, never a substring — "Job not found", "Authorization ID not found" and every other error
 * record stop the run with Spectrum's message. See docs/spectrum-reads.md.
 */
const NO_RECORDS_TEXT = /^no (records?|data|rows?)( found)?\.?$/i;
/** Codes that mean "not authorised": `A` (spectrum-sde.md) and `E` (the help page's example). */
const AUTHORISATION_CODES = new Set(['A', 'E']);

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

  /** Frees the sockets of the client's own agent. */
  async close(): Promise<void> {
    if (this.ownsAgent) this.transport.agent.destroy();
  }

  /** Under Nest: a missing or broken WSDL stops the start, not the first export. */
  async onModuleInit(): Promise<void> {
    await this.init();
  }

  async onModuleDestroy(): Promise<void> {
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
    return this.rows('GetJob', records, 'Job_Number', (r, note) => toJob(r, note));
  }

  /**
   * Every phase/cost type row of one job, Complete ones included: GetPhase with a blank status
   * answers Active and Inactive rows only, so a second read with `pStatus_Code` = `C` adds the
   * Complete ones (issue 9, item 4). Both answers are filtered back to the job: `pJob_Number` is a
   * SuperSelect field, so Spectrum may answer rows of other jobs. A record that cannot be read
   * (an estimate that is missing or not an amount) comes back with `problems`, not as an error:
   * one malformed row never makes the whole job unreadable.
   */
  async getPhases(jobNumber: string): Promise<SpectrumPhase[]> {
    return this.readBothStatuses('GetPhase', jobNumber, (r, note) => toPhase(r, 'GetPhase', note));
  }

  /** GetPhase plus price method, dates and comment (Complete rows included, as getPhases). */
  async getPhasesEnhanced(jobNumber: string): Promise<SpectrumPhaseEnhanced[]> {
    return this.readBothStatuses('GetPhaseEnhanced', jobNumber, (r, note) => toPhaseEnhanced(r, 'GetPhaseEnhanced', note));
  }

  private async readBothStatuses<T extends SpectrumPhase>(
    service: 'GetPhase' | 'GetPhaseEnhanced',
    jobNumber: string,
    map: (record: RawRecord, note?: SpectrumMessage) => T,
  ): Promise<T[]> {
    refuseSuperSelect(jobNumber, service);
    const rows: T[] = [];
    for (const status of ['', 'C']) {
      const records = await this.call(service, {
        pCompany_Code: this.options.companyCode,
        pJob_Number: jobNumber,
        pStatus_Code: status,
      });
      rows.push(...this.rows(service, records, 'Phase_Code', map).filter((row) => sameJob(row.jobNumber, jobNumber)));
    }
    return rows;
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
  private async call(service: SpectrumService, params: Record<string, string | undefined>): Promise<RawRecord[]> {
    const binding = this.ready?.get(service) ?? (await this.loadBindings()).get(service)!;
    const args = this.buildArgs(binding, params);
    return withSpectrumRetries(service, this.options.retry, () => this.attempt(binding, args), {
      onRetry: (error, attempt, delay) =>
        this.logger.warn(`${service} attempt ${attempt} failed (${error.name}); retrying in ${delay} ms: ${error.message}`),
    });
  }

  private async attempt(binding: ServiceBinding, args: Record<string, string>): Promise<RawRecord[]> {
    let { answer, token } = await this.send(binding, args);
    if (answer.status === 401 && this.tokens && token) {
      // The token was refused (expired early, rotated secret): replace it once.
      this.logger.debug?.(`${binding.service}: bearer token refused, fetching a new one`);
      this.tokens.invalidate(token);
      ({ answer, token } = await this.send(binding, args));
    }
    if (answer.status === 401 || answer.status === 403) {
      throw new SpectrumAuthError(
        `the server refused the credentials (HTTP ${answer.status}); check SPECTRUM_AUTH and its settings`,
        answer.status,
        binding.service,
      );
    }
    return this.readAnswer(binding.service, answer);
  }

  private async send(binding: ServiceBinding, args: Record<string, string>): Promise<{ answer: HttpAnswer; token?: string }> {
    const headers: OutgoingHttpHeaders = {};
    let token: string | undefined;
    if (this.tokens) {
      token = await this.tokens.getToken();
      headers.Authorization = `Bearer ${token}`;
    } else if (this.basicAuthorization) {
      headers.Authorization = this.basicAuthorization;
    }
    const exchange = createExchange();
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
    return { answer: exchange.answer!, token };
  }

  /** Classifies an HTTP answer: fault, HTTP error, non-SOAP body, cut-off body, or records. */
  private readAnswer(service: SpectrumService, answer: HttpAnswer): RawRecord[] {
    const scanned = scanSpectrumResponse(answer.body);
    if (scanned.fault) {
      throw new SpectrumFaultError(scanned.fault.code, scanned.fault.message, answer.status, service);
    }
    if (answer.status < 200 || answer.status >= 300) {
      throw new SpectrumHttpError(answer.status, excerpt(answer.body), service);
    }
    if (!scanned.soap) {
      if (answer.partial || answer.body.trim() === '') {
        throw new SpectrumIncompleteResponseError('before-records', 0, service);
      }
      throw new SpectrumResponseFormatError(
        `answered HTTP ${answer.status} without a SOAP envelope: ${excerpt(answer.body)}`,
        true,
        service,
      );
    }
    if (!scanned.complete) {
      throw new SpectrumIncompleteResponseError(scanned.truncation as SpectrumTruncation, scanned.records.length, service);
    }
    return scanned.records;
  }

  /**
   * Typed rows of a read. Every record with an error code (A, I, M, E, anything but the notes W, G
   * and S) is an error that stops the read with Spectrum's message — except the one narrow "no
   * records" answer (NO_RECORDS_TEXT), which means an empty list. A record with no key and a `W`
   * note says the answer may be incomplete (a public integration saw a trailing W row when a list
   * exceeded Spectrum's maximum: inferred), so it is an error too, never a shorter list. A record
   * with no key and no code carries nothing and is skipped.
   */
  private rows<T>(
    service: SpectrumService,
    records: RawRecord[],
    keyField: string,
    map: (record: RawRecord, note?: SpectrumMessage) => T,
  ): T[] {
    const rows: T[] = [];
    for (const record of records) {
      const message = recordMessage(record);
      const keyed = field(record, keyField) !== '';
      if (message && isErrorCode(message.code)) {
        if (!keyed && isNoRecordsAnswer(message)) continue;
        throw new SpectrumDataError([message], service);
      }
      if (!keyed) {
        if (message?.code === 'W') throw new SpectrumDataError([{ ...message, message: `${message.message} (the answer may be incomplete)` }], service);
        if (!hasContent(record)) continue;
      }
      rows.push(map(record, message));
    }
    return rows;
  }

  /** Every declared parameter in WSDL order, blank when not given. */
  private buildArgs(binding: ServiceBinding, params: Record<string, string | undefined>): Record<string, string> {
    const args: Record<string, string> = {};
    for (const name of binding.parameters) {
      const value = name === 'Authorization_ID' ? this.options.authorizationId : params[name];
      args[name] = value === undefined || value === null ? '' : safeValue(value);
    }
    return args;
  }

  private loadBindings(): Promise<Map<SpectrumService, ServiceBinding>> {
    if (!this.bindings) {
      this.bindings = Promise.all(SPECTRUM_SERVICES.map((service) => this.createBinding(service))).then(
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

  private async createBinding(service: SpectrumService): Promise<ServiceBinding> {
    const wsdlPath = path.join(this.options.wsdlDir, `${service}.wsdl`);
    const endpoint = this.endpointOf(service);
    const client = await soap.createClientAsync(wsdlPath, {
      httpClient: this.transport.asSoapHttpClient(service),
      envelopeKey: 'soap',
      // `<GetPhase xmlns="…types">` with unprefixed children that inherit it: the form known to work.
      overrideRootElement: { namespace: '', xmlnsAttributes: [{ name: 'xmlns', value: SPECTRUM_TYPES_NAMESPACE }] },
      // The WSDL cache is process-wide and soap writes client options into the cached WSDL.
      disableCache: true,
    });
    client.setEndpoint(endpoint);
    // The WSDL's soapAction is its endpoint URL; ours is the configured one.
    client.setSOAPAction(endpoint);
    const description = client.describe() as Record<string, Record<string, Record<string, { input?: object }>>>;
    const input = description[`${service}Service`]?.[`${service}Port`]?.[service]?.input;
    if (!input) throw new Error(`${wsdlPath} does not describe ${service}Service/${service}Port/${service}`);
    const parameters = Object.keys(input);
    const missing = REQUIRED_PARAMETERS[service].filter((name) => !parameters.includes(name));
    if (missing.length) throw new Error(`${wsdlPath} lacks the parameter(s) ${missing.join(', ')}`);
    const invoke = (client as unknown as Record<string, SoapAsyncMethod>)[`${service}Async`].bind(client);
    return { service, endpoint, parameters, invoke };
  }
}

const SOAP_ENVELOPE_OPEN = '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">';
const CDATA_SECTION = /(<!\[CDATA\[[\s\S]*?\]\]>)/;
const EMPTY_ELEMENT = /<([A-Za-z_][\w.-]*)><\/\1>/g;

/**
 * The request exactly as captured from integrations known to work: no XML declaration, only
 * `xmlns:soap` on the envelope, and blanks as `<GUID/>`. soap adds a declaration and xsi/tns/xsd
 * namespace declarations the request never uses; they are dropped (so is a SOAP header: the client
 * sends none). Text inside CDATA is untouched.
 */
export function toCapturedEnvelope(xml: string): string {
  const body = xml.indexOf('<soap:Body>');
  if (body < 0) throw new Error('soap produced an envelope without <soap:Body>');
  return (
    SOAP_ENVELOPE_OPEN +
    xml
      .slice(body)
      .split(CDATA_SECTION)
      .map((part) => (part.startsWith('<![CDATA[') ? part : part.replace(EMPTY_ELEMENT, '<$1/>')))
      .join('')
  );
}

/**
 * Text as it must reach the soap serialiser, which escapes every value except one that looks like a
 * whole CDATA section (it passes that through raw, which would let such text inject markup). That
 * one value is sent as a proper CDATA section holding exactly the text.
 */
function safeValue(value: string): string {
  const text = XML_INVALID.test(value) ? value.replace(XML_INVALID_ALL, '') : value;
  if (text.startsWith('<![CDATA[') && text.endsWith(']]>')) {
    return `<![CDATA[${text.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
  }
  return text;
}

/** True for the narrow "no records" answer: see NO_RECORDS_TEXT. */
export function isNoRecordsAnswer(message: SpectrumMessage): boolean {
  return !AUTHORISATION_CODES.has(message.code) && message.column === '' && NO_RECORDS_TEXT.test(message.message.trim());
}

/** A record with any non-blank field besides the company and the (blank) error fields. */
function hasContent(record: RawRecord): boolean {
  return Object.entries(record).some(
    ([name, value]) => value.trim() !== '' && !/^(Company_Code|Error_Code|Error_Description|Error_Column|error_code|desc|column)$/.test(name),
  );
}

/** A job number Spectrum would read as SuperSelect operators: refused before any read. */
function refuseSuperSelect(jobNumber: string, service: SpectrumService): void {
  const problem = superSelectProblem(jobNumber);
  if (problem) throw new SpectrumRequestError(problem, service);
}

function sameJob(a: string, b: string): boolean {
  return a.trim().toUpperCase() === b.trim().toUpperCase();
}
