import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Cents, formatMoney } from '../../../src/common/money';

/**
 * The stand-in's XML: a tolerant request reader (any prefixes, attributes, CDATA) and response
 * writers that reproduce the captured style of real Spectrum servers byte for byte. Independent of
 * the connector's own reader on purpose, so one cannot hide the other's mistakes.
 */

export const TYPES_NAMESPACE = 'http://www.northgate-is.com/proiv/webservices/types';
export const WSDL_DIR = path.resolve(__dirname, '../../../src/spectrum/client/wsdl');

const ENVELOPE_OPEN =
  "<SOAP-ENV:Envelope SOAP-ENV:encodingStyle='http://schemas.xmlsoap.org/soap/encoding/' " +
  "xmlns:xsd='http://www.w3.org/2001/XMLSchema' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' " +
  "xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'><SOAP-ENV:Header></SOAP-ENV:Header><SOAP-ENV:Body>";
const ENVELOPE_CLOSE = '</SOAP-ENV:Body></SOAP-ENV:Envelope>';

export interface ParsedRequest {
  /** Local name of the body's first element, e.g. `GetPhase`. */
  operation: string;
  /** The root as written, e.g. `GetPhase` or `tns:GetPhase`. */
  rootName: string;
  /** True when the root carries `xmlns="…types"` and no prefix (the form known to work). */
  defaultNamespaceRoot: boolean;
  /** Child elements in the order sent (local names). */
  order: string[];
  fields: Record<string, string>;
}

export class RequestParseError extends Error {}

const BODY = /<(?:[\w.-]+:)?Body(?:\s[^>]*)?>([\s\S]*)<\/(?:[\w.-]+:)?Body\s*>/;
const ROOT = /<((?:([\w.-]+):)?([\w.-]+))((?:\s[^>]*?)?)(\/?)>/;
const CHILD = /<((?:[\w.-]+:)?([A-Za-z_][\w.-]*))(?:\s[^>]*?)?(?:\/>|>([\s\S]*?)<\/\1\s*>)/g;

export function parseRequest(xml: string): ParsedRequest {
  const body = BODY.exec(xml);
  if (!body) throw new RequestParseError('no SOAP Body');
  const root = ROOT.exec(body[1]);
  if (!root) throw new RequestParseError('empty SOAP Body');
  const [, rootName, prefix, operation, attributes, selfClosing] = root;
  const defaultNamespaceRoot =
    !prefix && new RegExp(`\\sxmlns\\s*=\\s*["']${TYPES_NAMESPACE.replace(/[./]/g, '\\$&')}["']`).test(attributes);
  const fields: Record<string, string> = {};
  const order: string[] = [];
  if (!selfClosing) {
    const start = root.index + root[0].length;
    const end = body[1].indexOf(`</${rootName}`, start);
    if (end < 0) throw new RequestParseError(`${rootName} is not closed`);
    const content = body[1].slice(start, end);
    CHILD.lastIndex = 0;
    for (let m = CHILD.exec(content); m; m = CHILD.exec(content)) {
      order.push(m[2]);
      fields[m[2]] = m[3] === undefined ? '' : decode(m[3]);
    }
  }
  return { operation, rootName, defaultNamespaceRoot, order, fields };
}

function decode(text: string): string {
  return text
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part) =>
      part.startsWith('<![CDATA[')
        ? part.slice(9, -3)
        : part.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
            if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
            return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e];
          }),
    )
    .join('');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A field of a response record: `null`/'' renders `<Name/>`, a single space stays a space. */
export type ResponseField = [name: string, value: string | null];

/** Spectrum's amount text: `.00`, `1250.40`, `-.50`. */
export function spectrumAmount(cents: Cents | null): string {
  return formatMoney(cents ?? 0n).replace(/^(-?)0\./, '$1.');
}

/** Spectrum's decimal text for quantities and hours: `.00`, `12.50`. */
export function spectrumDecimal(text: string | null): string {
  if (text === null || text.trim() === '') return '.00';
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) return text;
  const whole = (m[2] ?? '').replace(/^0+/, '');
  const fraction = ((m[3] ?? '') + '00').slice(0, Math.max(2, (m[3] ?? '').length));
  return `${m[1] === '-' ? '-' : ''}${whole}.${fraction}`;
}

export interface RenderedResponse {
  body: string;
  /** Offsets where each record starts and ends, for truncation. */
  records: Array<{ start: number; end: number }>;
  /** Offset right after `<returnData>\n\n<wrapper>\n` and right after `</returnArray>`. */
  listStart: number;
  listEnd: number;
}

/** `returnArray/returnData/<lowerCamel>/response` records in the captured layout. */
export function renderRecords(service: string, records: ResponseField[][]): RenderedResponse {
  const wrapper = service[0].toLowerCase() + service.slice(1);
  let body =
    ENVELOPE_OPEN +
    `<nis:${service}Response xmlns:nis='${TYPES_NAMESPACE}'><returnArray><returnData>\n\n<${wrapper}>\n`;
  const listStart = body.length;
  const offsets: Array<{ start: number; end: number }> = [];
  for (const record of records) {
    const start = body.length;
    body += '    <response>\n';
    for (const [name, value] of record) {
      body += value === null || value === '' ? `        <${name}/>\n` : `        <${name}>${escape(value)}</${name}>\n`;
    }
    body += '    </response>\n';
    offsets.push({ start, end: body.length });
  }
  body += `</${wrapper}>\n</returnData></returnArray>`;
  const listEnd = body.length;
  body += `</nis:${service}Response>` + ENVELOPE_CLOSE;
  return { body, records: offsets, listStart, listEnd };
}

export function renderFault(faultString = 'Error executing Web Service', faultCode = 'SOAP-ENV:Server'): string {
  return (
    ENVELOPE_OPEN +
    `<SOAP-ENV:Fault><faultcode>${escape(faultCode)}</faultcode><faultstring>${escape(faultString)}</faultstring></SOAP-ENV:Fault>` +
    ENVELOPE_CLOSE
  );
}

const wsdlCache = new Map<string, { text: string; parameters: string[] }>();

/** The shipped WSDL of a service and its declared request parameters in order. */
export function loadWsdl(service: string, dir = WSDL_DIR): { text: string; parameters: string[] } {
  const key = path.join(dir, service);
  let entry = wsdlCache.get(key);
  if (!entry) {
    const text = readFileSync(path.join(dir, `${service}.wsdl`), 'utf8');
    const element = new RegExp(`<element name='${service}'>([\\s\\S]*?)</sequence>`).exec(text);
    if (!element) throw new Error(`${service}.wsdl declares no ${service} element`);
    const parameters = [...element[1].matchAll(/<element [^>]*name='([^']+)'/g)].map((m) => m[1]);
    entry = { text, parameters };
    wsdlCache.set(key, entry);
  }
  return entry;
}

/** The WSDL as a server at `baseUrl` serves it: soap:address and soapAction point at itself. */
export function servedWsdl(service: string, baseUrl: string, dir = WSDL_DIR): string {
  return loadWsdl(service, dir).text.replace(/https?:\/\/[^'"\s]+\/ws\//g, `${baseUrl}/ws/`);
}
