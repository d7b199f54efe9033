import * as path from 'node:path';
import * as soap from 'soap';

/**
 * The SOAP side of the Spectrum client: one soap client per service, built from the shipped WSDL and
 * pointed at `${url}/ws/<Service>`, and the exact form of the request envelope.
 */

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

export type SoapAsyncMethod = (args: unknown, options?: unknown, extraHeaders?: unknown) => Promise<unknown>;

export interface ServiceBinding {
  service: SpectrumService;
  endpoint: string;
  /** Declared request parameters, in WSDL order. */
  parameters: readonly string[];
  invoke: SoapAsyncMethod;
}

// Characters XML 1.0 cannot carry at all; Spectrum could not store them either.
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const XML_INVALID_ALL = new RegExp(XML_INVALID.source, 'g');

export interface BindingOptions {
  wsdlDir: string;
  endpoint: string;
  /** soap's HTTP client: the client's own transport. */
  httpClient: unknown;
}

/** Loads the service's WSDL and checks it declares every parameter the client fills. */
export async function createBinding(service: SpectrumService, options: BindingOptions): Promise<ServiceBinding> {
  const wsdlPath = path.join(options.wsdlDir, `${service}.wsdl`);
  const endpoint = options.endpoint;
  const client = await soap.createClientAsync(wsdlPath, {
    httpClient: options.httpClient as soap.IOptions['httpClient'],
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

/** Every declared parameter in WSDL order, blank when not given. */
export function buildArgs(binding: ServiceBinding, params: Record<string, string | undefined>, authorizationId: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const name of binding.parameters) {
    const value = name === 'Authorization_ID' ? authorizationId : params[name];
    args[name] = value === undefined || value === null ? '' : safeValue(value);
  }
  return args;
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
