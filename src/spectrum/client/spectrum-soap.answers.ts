import { excerpt, HttpAnswer } from './spectrum-http.transport';
import { field, isErrorCode, recordMessage } from './spectrum-records';
import { RawRecord, ScanSummary } from './spectrum-response.parser';
import type { SpectrumService } from './spectrum-soap.bindings';
import {
  SpectrumDataError,
  SpectrumFaultError,
  SpectrumHttpError,
  SpectrumIncompleteResponseError,
  SpectrumMessage,
  SpectrumResponseFormatError,
  SpectrumTruncation,
} from './spectrum.errors';

/** Reading Spectrum's answers: the records of a complete answer, and the typed rows of a read. */

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
/** Codes that mean "not authorised": `A` (the write services' code) and `E` (the Get help page's example; docs/spectrum-reads.md). */
const AUTHORISATION_CODES = new Set(['A', 'E']);

/**
 * Classifies an HTTP answer, once its body has been scanned (records handed on as they arrived):
 * fault, HTTP error, non-SOAP body, cut-off body — each thrown — or a complete list of records, in
 * which case it returns and the records handed on can be trusted.
 */
export function readAnswer(service: SpectrumService, answer: HttpAnswer, scanned: ScanSummary): void {
  if (scanned.fault) {
    throw new SpectrumFaultError(scanned.fault.code, scanned.fault.message, answer.status, service);
  }
  if (answer.status < 200 || answer.status >= 300) {
    throw new SpectrumHttpError(answer.status, excerpt(scanned.head), service);
  }
  if (!scanned.soap) {
    if (answer.partial || scanned.blank) {
      throw new SpectrumIncompleteResponseError('before-records', 0, service);
    }
    throw new SpectrumResponseFormatError(
      `answered HTTP ${answer.status} without a SOAP envelope: ${excerpt(scanned.head)}`,
      true,
      service,
    );
  }
  if (!scanned.complete) {
    throw new SpectrumIncompleteResponseError(scanned.truncation as SpectrumTruncation, scanned.recordCount, service);
  }
}

/** What a call makes of an answer's records as they arrive; `result()` once the answer proved complete. */
export interface RecordReader<T> {
  add(record: RawRecord): void;
  result(): T;
}

/** Keeps the raw records (short answers: GetJob, AddPhase). */
export function keepRecords(): RecordReader<RawRecord[]> {
  const records: RawRecord[] = [];
  return { add: (record) => records.push(record), result: () => records };
}

/**
 * Typed rows of a read. Every record with an error code (A, I, M, E, anything but the notes W, G
 * and S) is an error that stops the read with Spectrum's message — except the one narrow "no
 * records" answer (NO_RECORDS_TEXT), which means an empty list. A record with no key and a `W`
 * note says the answer may be incomplete (a public integration saw a trailing W row when a list
 * exceeded Spectrum's maximum: inferred), so it is an error too, never a shorter list. A record
 * with no key and no code carries nothing and is skipped.
 */
export function rowsOf<T>(
  service: SpectrumService,
  records: RawRecord[],
  keyField: string,
  map: (record: RawRecord, note?: SpectrumMessage) => T,
): T[] {
  const reader = new RowReader(service, keyField, map);
  for (const record of records) reader.add(record);
  return reader.result();
}

/**
 * `rowsOf` one record at a time, for an answer read as it arrives: each record becomes its typed
 * row at once (the raw record is not kept), rows `keep` refuses are dropped, and the first record
 * that makes the read an error is remembered — later records are ignored — and thrown by
 * `result()`, which the client calls only once the answer proved complete (a cut-off answer is
 * "read again", whatever its records said).
 */
export class RowReader<T> implements RecordReader<T[]> {
  private readonly rows: T[] = [];
  private error?: Error;

  constructor(
    private readonly service: SpectrumService,
    private readonly keyField: string,
    private readonly map: (record: RawRecord, note?: SpectrumMessage) => T,
    private readonly keep: (row: T) => boolean = () => true,
  ) {}

  add(record: RawRecord): void {
    if (this.error) return;
    try {
      const row = this.read(record);
      if (row !== undefined && this.keep(row)) this.rows.push(row);
    } catch (error) {
      this.error = error as Error;
    }
  }

  result(): T[] {
    if (this.error) throw this.error;
    return this.rows;
  }

  private read(record: RawRecord): T | undefined {
    const message = recordMessage(record);
    const keyed = field(record, this.keyField) !== '';
    if (message && isErrorCode(message.code)) {
      if (!keyed && isNoRecordsAnswer(message)) return undefined;
      throw new SpectrumDataError([message], this.service);
    }
    if (!keyed) {
      if (message?.code === 'W') throw new SpectrumDataError([{ ...message, message: `${message.message} (the answer may be incomplete)` }], this.service);
      if (!hasContent(record)) return undefined;
    }
    return this.map(record, message);
  }
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
