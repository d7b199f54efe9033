import { SpectrumSoapClient } from '../../src/spectrum/client/spectrum-soap.client';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { loadWsdl } from '../stand-ins/spectrum/spectrum-stand-in.xml';

const TYPES = 'http://www.northgate-is.com/proiv/webservices/types';

/** What goes on the wire, captured raw at the stand-in. */
describe('Spectrum SOAP client: the request on the wire', () => {
  let standIn: SpectrumStandIn;
  let client: SpectrumSoapClient;

  beforeAll(async () => {
    standIn = await SpectrumStandIn.start();
    client = new SpectrumSoapClient({ ...standIn.clientOptions(), timeoutMs: 5000 });
  });
  afterAll(async () => {
    await client.close();
    await standIn.stop();
  });
  beforeEach(() => {
    standIn.reset();
    standIn.addJob({ jobNumber: '26-101', description: 'Riverside Medical Office Building' });
    for (const code of ['L', 'M']) standIn.addCostType(code);
  });

  it('sends GetPhase byte for byte in the captured known-working form', async () => {
    await client.getPhases('26-101');
    // Two reads: blank status (Active and Inactive), then `C` (Complete).
    const [request, complete] = standIn.requests('GetPhase');
    expect(complete.rawBody).toBe(request.rawBody.replace('<pStatus_Code/>', '<pStatus_Code>C</pStatus_Code>'));
    // The captured request (docs/spectrum.md, "Transport"): no XML declaration, only xmlns:soap on the envelope,
    // the default namespace on the root element, every parameter in WSDL order, blanks as <X/>.
    expect(request.rawBody).toBe(
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
        `<GetPhase xmlns="${TYPES}">` +
        '<Authorization_ID>API</Authorization_ID><GUID/><pCompany_Code>ABC</pCompany_Code>' +
        '<pCost_Type/><pJob_Number>26-101</pJob_Number><pStatus_Code/><pCost_Center/><pSort_By/>' +
        '</GetPhase></soap:Body></soap:Envelope>',
    );
    expect(request.order).toEqual(loadWsdl('GetPhase').parameters);
  });

  it('sends GetJob with every parameter, blank status and no job filter', async () => {
    await client.getJobs();
    const body = standIn.lastRequest('GetJob')!.rawBody;
    expect(body).toBe(
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
        `<soap:Body><GetJob xmlns="${TYPES}">` +
        '<Authorization_ID>API</Authorization_ID><GUID/><pCompany_Code>ABC</pCompany_Code>' +
        '<pDivision/><pStatus_Code/><pProject_Manager/>' +
        '<pSuperintendent/><pEstimator/><pCustomer_Code/>' +
        '<pCost_Center/><pSort_By/></GetJob></soap:Body></soap:Envelope>',
    );
    expect(standIn.lastRequest('GetJob')!.order).toEqual(loadWsdl('GetJob').parameters);
  });

  it('sends AddPhase with all 20 parameters in WSDL order, amounts as exact decimal text', async () => {
    await client.addPhase({
      jobNumber: '26-101',
      phaseCode: '01000',
      costType: 'L',
      description: 'General Requirements',
      originalEstCost: 4850000n,
      currentEstCost: -1205n,
      priceMethodCode: 'J',
    });
    const request = standIn.lastRequest('AddPhase')!;
    expect(request.rawBody).toBe(
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
        `<soap:Body><AddPhase xmlns="${TYPES}">` +
        '<Authorization_ID>API</Authorization_ID><GUID/><Company_Code>ABC</Company_Code>' +
        '<Job_Number>26-101</Job_Number><Phase_Code>01000</Phase_Code><Cost_Type>L</Cost_Type>' +
        '<Description>General Requirements</Description><Status_Code/><Unit_of_Measure/>' +
        '<Original_Est_Quantity/><Original_Est_Hours/>' +
        '<Original_Est_Cost>48500.00</Original_Est_Cost><Current_Est_Quantity/>' +
        '<Current_Est_Hours/><Current_Est_Cost>-12.05</Current_Est_Cost>' +
        '<Bid_Item_Number/><Alt_Phase_Code/><Work_Comp_Code/>' +
        '<Phase_Cost_Center/><Price_Method_Code>J</Price_Method_Code>' +
        '</AddPhase></soap:Body></soap:Envelope>',
    );
    expect(request.order).toEqual(loadWsdl('AddPhase').parameters);
    expect(request.order).toHaveLength(20);
    // No prefixed root, no prefixed (or unqualified-under-a-prefix) children.
    expect(request.rawBody).not.toMatch(/<\w[\w.-]*:(AddPhase|Job_Number)\b/);
  });

  it('sends SOAPAction = the configured endpoint URL and text/xml UTF-8', async () => {
    await client.getPhases('26-101');
    const headers = standIn.lastRequest('GetPhase')!.headers;
    expect(headers['soapaction']).toBe(`"${standIn.url}/ws/GetPhase"`);
    expect(headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(headers['connection']).toBe('keep-alive');
    expect(headers['authorization']).toBeUndefined();
  });

  it.each([
    ['Doors & Frames <Type A>', 'Doors &amp; Frames &lt;Type A&gt;'],
    ['Béton coulé', 'Béton coulé'],
    [`O'Brien "Shop" 5/8"`, 'O&apos;Brien &quot;Shop&quot; 5/8&quot;'],
    // soap passes a CDATA-looking value through raw; the client wraps it so it stays text.
    ['<![CDATA[a]]><Evil/>]]>', '<![CDATA[<![CDATA[a]]]]><![CDATA[><Evil/>]]]]><![CDATA[>]]>'],
    // Inside CDATA, text that looks like an empty element is kept as it is.
    ['<![CDATA[<b></b>]]>', '<![CDATA[<![CDATA[<b></b>]]]]><![CDATA[>]]>'],
  ])('escapes %j on the wire and it round-trips', async (description, onTheWire) => {
    const result = await client.addPhase({
      jobNumber: '26-101',
      phaseCode: '05000',
      costType: 'M',
      description,
      originalEstCost: 100n,
      priceMethodCode: 'J',
    });
    expect(result.ok).toBe(true);
    const request = standIn.lastRequest('AddPhase')!;
    expect(request.rawBody).toContain(`<Description>${onTheWire}</Description>`);
    expect(request.fields.Description).toBe(description);
    expect(request.order).toEqual(loadWsdl('AddPhase').parameters);
    expect(standIn.getPhase('26-101', '05000', 'M')!.description).toBe(description);
    const [row] = await client.getPhases('26-101');
    expect(row.description).toBe(description);
  });

  it('sends the body as UTF-8 with a byte-exact Content-Length', async () => {
    await client.addPhase({ jobNumber: '26-101', phaseCode: '05000', costType: 'M', description: 'Béton coulé', priceMethodCode: 'J' });
    const request = standIn.lastRequest('AddPhase')!;
    expect(Number(request.headers['content-length'])).toBe(Buffer.byteLength(request.rawBody, 'utf8'));
  });

  it('drops characters XML cannot carry instead of sending invalid XML', async () => {
    const result = await client.addPhase({
      jobNumber: '26-101',
      phaseCode: '05000',
      costType: 'M',
      description: 'Bell\u0007 tower',
      priceMethodCode: 'J',
    });
    expect(result.ok).toBe(true);
    expect(standIn.getPhase('26-101', '05000', 'M')!.description).toBe('Bell tower');
  });
});
