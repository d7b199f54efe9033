/**
 * A tolerant reader for Spectrum SOAP responses. Real servers cut large responses off before the
 * closing envelope tags while every `<response>` record is whole, so a strict XML parser fails on
 * answers that still carry usable records. This reader takes every whole record, detects a record
 * that is itself cut off, and says whether the record list can be trusted to be complete.
 */

/**
 * - `none`: the envelope is closed.
 * - `after-records`: cut after `</returnArray>`: every record is present, only closing tags are lost.
 * - `between-records`: cut after whole records but before the list closed: records may be missing.
 * - `inside-record`: the last record is itself cut off.
 * - `before-records`: cut before the record list started.
 */
export type ResponseTruncation = 'none' | 'after-records' | 'between-records' | 'inside-record' | 'before-records';

export type RawRecord = Record<string, string>;

export interface ScannedResponse {
  /** Every whole `<response>` record, element name → text (entities decoded, not trimmed). */
  records: RawRecord[];
  truncation: ResponseTruncation;
  /** True when no record can be missing: `none` or `after-records`. */
  complete: boolean;
  /** Set when the body is a SOAP fault. */
  fault?: { code: string; message: string };
  /** False when the body has no SOAP envelope at all (an HTML error page, an empty body). */
  soap: boolean;
}

const ENVELOPE_OPEN = /<(?:[\w.-]+:)?Envelope[\s>]/;
const ENVELOPE_CLOSE = /<\/(?:[\w.-]+:)?Envelope\s*>/;
const FAULT_OPEN = /<(?:[\w.-]+:)?Fault[\s>]/;
const RECORD_OPEN = /<response(?:\s[^>]*?)?(\/?)>/g;
const RECORD_CLOSE = '</response>';
// One flat field: <Name>text</Name>, <Name/>, <Name attr='…'/>; the name may carry a prefix.
const FIELD = /<((?:[\w.-]+:)?([A-Za-z_][\w.-]*))(?:\s[^>]*?)?(?:\/>|>([\s\S]*?)<\/\1\s*>)/g;

/** The whole body at once: every record in a list (tests, small answers). */
export function scanSpectrumResponse(body: string): ScannedResponse {
  const records: RawRecord[] = [];
  const scanner = new SpectrumResponseScanner((record) => records.push(record));
  scanner.write(body);
  const { truncation, complete, soap, fault } = scanner.end();
  return fault ? { records: [], truncation, complete, soap, fault } : { records, truncation, complete, soap };
}

/** What a scan found besides the records it handed on. */
export interface ScanSummary {
  /** Whole records handed to the sink (void when `fault` is set: a fault wins). */
  recordCount: number;
  truncation: ResponseTruncation;
  complete: boolean;
  fault?: { code: string; message: string };
  soap: boolean;
  /** True when the body was empty or white space only. */
  blank: boolean;
  /** The body's first few kilobytes, for error messages (an HTML page from a proxy, …). */
  head: string;
}

const HEAD_CHARS = 4096;

/**
 * The same reading as `scanSpectrumResponse`, fed the body piece by piece as it arrives: each whole
 * `<response>` record goes to `onRecord` at once, and only the text after the last whole record is
 * kept. So a 20 000-row GetPhase answer (tens of megabytes) never sits in memory as one string, nor
 * as 20 000 raw records; the caller keeps what it makes of each. Whether the list can be trusted is
 * known only at `end()` (a cut-off answer, a record itself cut off, a fault): callers decide there.
 */
export class SpectrumResponseScanner {
  /** Text not consumed yet: the head (before the record list), or what follows the last whole record. */
  private buffer = '';
  private state: 'head' | 'records' | 'fault' = 'head';
  /** Where to look again in `buffer` for a tag that may have been split between pieces. */
  private openFrom = 0;
  private closeFrom = -1;
  private listSeen = false;
  private soap = false;
  private blank = true;
  private head = '';
  private recordCount = 0;
  private ended = false;

  constructor(private readonly onRecord: (record: RawRecord) => void) {}

  write(text: string): void {
    if (this.ended) throw new Error('the response scan has ended');
    if (!text) return;
    if (this.head.length < HEAD_CHARS) this.head += text.slice(0, HEAD_CHARS - this.head.length);
    if (this.blank && /\S/.test(text)) this.blank = false;
    this.buffer += text;
    if (this.state === 'head') this.scanHead();
    if (this.state === 'records') this.scanRecords();
  }

  end(): ScanSummary {
    this.ended = true;
    const rest = this.buffer;
    const summary = { recordCount: this.recordCount, soap: this.soap || ENVELOPE_OPEN.test(rest), blank: this.blank, head: this.head };
    if (this.state === 'head' && FAULT_OPEN.test(rest)) this.state = 'fault';
    if (this.state === 'fault') {
      const faultAt = rest.search(FAULT_OPEN);
      return {
        ...summary,
        truncation: ENVELOPE_CLOSE.test(rest) ? 'none' : 'between-records',
        complete: false,
        fault: {
          code: (firstText(rest, 'faultcode', faultAt) ?? '').trim(),
          message: (firstText(rest, 'faultstring', faultAt) ?? '').trim(),
        },
      };
    }
    let truncation: ResponseTruncation;
    RECORD_OPEN.lastIndex = 0;
    const open = this.state === 'records' ? RECORD_OPEN.exec(rest) : null;
    if (open && open[1] !== '/') truncation = 'inside-record';
    else if (ENVELOPE_CLOSE.test(rest)) truncation = 'none';
    else if (rest.includes('</returnArray>')) truncation = 'after-records';
    else if (this.listSeen || this.recordCount > 0) truncation = 'between-records';
    else truncation = 'before-records';
    return { ...summary, truncation, complete: truncation === 'none' || truncation === 'after-records' };
  }

  /** Before the record list: wait for `<returnArray` (or a first record), noting a fault or the envelope. */
  private scanHead(): void {
    const from = Math.max(0, this.openFrom);
    const faultAt = searchFrom(this.buffer, FAULT_OPEN, from);
    const listAt = this.buffer.indexOf('<returnArray', from);
    RECORD_OPEN.lastIndex = from;
    const recordAt = RECORD_OPEN.exec(this.buffer)?.index ?? -1;
    const starts = [listAt, recordAt].filter((at) => at >= 0);
    const start = starts.length ? Math.min(...starts) : -1;
    if (faultAt >= 0 && (start < 0 || faultAt < start)) {
      this.state = 'fault'; // kept whole from here on: a fault is short
      return;
    }
    if (start < 0) {
      this.openFrom = this.lastTagStart(from);
      return;
    }
    this.soap = ENVELOPE_OPEN.test(this.buffer.slice(0, start));
    this.listSeen = listAt >= 0 && listAt === start;
    this.buffer = this.buffer.slice(start);
    this.state = 'records';
    this.openFrom = 0;
  }

  /** Hands on every whole record in the buffer and keeps the rest. */
  private scanRecords(): void {
    const body = this.buffer;
    let position = 0;
    for (;;) {
      RECORD_OPEN.lastIndex = Math.max(position, this.openFrom);
      const open = RECORD_OPEN.exec(body);
      if (!open) {
        this.openFrom = this.lastTagStart(position) - position;
        break;
      }
      if (searchFrom(body.slice(position, open.index), FAULT_OPEN, 0) >= 0) {
        this.state = 'fault';
        break;
      }
      const contentStart = open.index + open[0].length;
      if (open[1] === '/') {
        this.emit({});
        position = contentStart;
        this.openFrom = 0;
        continue;
      }
      const close = body.indexOf(RECORD_CLOSE, Math.max(contentStart, this.closeFrom));
      if (close < 0) {
        // The record goes on in the next piece: keep it from its opening tag.
        position = open.index;
        this.openFrom = 0;
        this.closeFrom = Math.max(contentStart, body.length - RECORD_CLOSE.length + 1) - position;
        break;
      }
      this.emit(parseFields(body.slice(contentStart, close)));
      position = close + RECORD_CLOSE.length;
      this.openFrom = 0;
      this.closeFrom = -1;
    }
    if (this.state === 'records') this.buffer = body.slice(position);
  }

  private emit(record: RawRecord): void {
    this.recordCount++;
    this.onRecord(record);
  }

  /** The last `<` at or after `from`: a tag that may be cut by the end of the piece starts there. */
  private lastTagStart(from: number): number {
    const at = this.buffer.lastIndexOf('<');
    return at >= from ? at : this.buffer.length;
  }
}

function searchFrom(text: string, pattern: RegExp, from: number): number {
  if (from === 0) return text.search(pattern);
  const at = text.slice(from).search(pattern);
  return at < 0 ? -1 : at + from;
}

function parseFields(content: string): RawRecord {
  const record: RawRecord = {};
  FIELD.lastIndex = 0;
  for (let m = FIELD.exec(content); m; m = FIELD.exec(content)) {
    const name = m[2];
    const value = m[3] === undefined ? '' : own(decodeXmlText(m[3]));
    // A repeated name keeps its first non-blank value.
    if (!(name in record) || (record[name].trim() === '' && value.trim() !== '')) record[name] = value;
  }
  return record;
}

/**
 * A copy of a field's text that does not keep the piece of the answer it was cut from alive: V8
 * represents a substring of 13 characters or more as a view of its parent string, so one retained
 * description would pin a whole piece of the response (and with the whole-body reader, the body).
 */
function own(text: string): string {
  return text.length < 13 ? text : (' ' + text).slice(1);
}

function firstText(body: string, localName: string, from: number): string | undefined {
  const re = new RegExp(`<((?:[\\w.-]+:)?${localName})(?:\\s[^>]*)?>([\\s\\S]*?)</\\1\\s*>`, 'g');
  re.lastIndex = from;
  const m = re.exec(body);
  return m ? decodeXmlText(m[2]) : undefined;
}

const ENTITY = /&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the five XML entities, numeric references and CDATA sections. */
export function decodeXmlText(text: string): string {
  if (text.includes('<![CDATA[')) {
    return text
      .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
      .map((part) => (part.startsWith('<![CDATA[') ? part.slice(9, -3) : decodeEntities(part)))
      .join('');
  }
  return decodeEntities(text);
}

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (whole, entity: string) => {
    if (entity[0] !== '#') return NAMED[entity];
    const code = entity[1] === 'x' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}
