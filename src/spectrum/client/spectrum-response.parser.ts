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

export function scanSpectrumResponse(body: string): ScannedResponse {
  const soap = ENVELOPE_OPEN.test(body);
  const faultAt = body.search(FAULT_OPEN);
  if (faultAt >= 0) {
    return {
      records: [],
      truncation: ENVELOPE_CLOSE.test(body) ? 'none' : 'between-records',
      complete: false,
      soap,
      fault: {
        code: (firstText(body, 'faultcode', faultAt) ?? '').trim(),
        message: (firstText(body, 'faultstring', faultAt) ?? '').trim(),
      },
    };
  }

  const envelopeClosed = ENVELOPE_CLOSE.test(body);
  const listStart = body.indexOf('<returnArray');
  const records: RawRecord[] = [];
  let truncation: ResponseTruncation | undefined;
  let position = listStart < 0 ? 0 : listStart;

  RECORD_OPEN.lastIndex = position;
  for (let open = RECORD_OPEN.exec(body); open; open = RECORD_OPEN.exec(body)) {
    const contentStart = open.index + open[0].length;
    if (open[1] === '/') {
      records.push({});
      position = contentStart;
      continue;
    }
    const close = body.indexOf(RECORD_CLOSE, contentStart);
    if (close < 0) {
      truncation = 'inside-record';
      break;
    }
    records.push(parseFields(body.slice(contentStart, close)));
    position = close + RECORD_CLOSE.length;
    RECORD_OPEN.lastIndex = position;
  }

  if (!truncation) {
    if (envelopeClosed) truncation = 'none';
    else if (body.indexOf('</returnArray>', position) >= 0) truncation = 'after-records';
    else if (listStart >= 0 || records.length > 0) truncation = 'between-records';
    else truncation = 'before-records';
  }
  return {
    records,
    truncation,
    complete: truncation === 'none' || truncation === 'after-records',
    soap,
  };
}

function parseFields(content: string): RawRecord {
  const record: RawRecord = {};
  FIELD.lastIndex = 0;
  for (let m = FIELD.exec(content); m; m = FIELD.exec(content)) {
    const name = m[2];
    const value = m[3] === undefined ? '' : decodeXmlText(m[3]);
    // A repeated name keeps its first non-blank value.
    if (!(name in record) || (record[name].trim() === '' && value.trim() !== '')) record[name] = value;
  }
  return record;
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
