import { findJob } from '../../src/spectrum/export-plan';
import { SpectrumSoapClient } from '../../src/spectrum/client/spectrum-soap.client';
import type { AddPhaseFields } from '../../src/spectrum/client/spectrum-records';
import { DEMO_JOB, seedDemoSpectrum, SpectrumStandIn } from '../stand-ins/spectrum';

const TYPES = 'http://www.northgate-is.com/proiv/webservices/types';
const ENVELOPE =
  "<SOAP-ENV:Envelope SOAP-ENV:encodingStyle='http://schemas.xmlsoap.org/soap/encoding/' xmlns:xsd='http://www.w3.org/2001/XMLSchema' " +
  "xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'>" +
  '<SOAP-ENV:Header></SOAP-ENV:Header><SOAP-ENV:Body>';
const FAULT =
  ENVELOPE +
  '<SOAP-ENV:Fault><faultcode>SOAP-ENV:Server</faultcode><faultstring>Error executing Web Service</faultstring></SOAP-ENV:Fault>' +
  '</SOAP-ENV:Body></SOAP-ENV:Envelope>';

function getPhaseEnvelope(children: string, root = `<GetPhase xmlns="${TYPES}">`, close = '</GetPhase>'): string {
  return `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>${root}${children}${close}</soap:Body></soap:Envelope>`;
}
const ALL_GET_PHASE =
  '<Authorization_ID>API</Authorization_ID><GUID/><pCompany_Code>ABC</pCompany_Code><pCost_Type/>' +
  '<pJob_Number>26-101</pJob_Number><pStatus_Code/><pCost_Center/><pSort_By/>';

describe('Spectrum stand-in', () => {
  let standIn: SpectrumStandIn;
  let client: SpectrumSoapClient;

  const post = async (service: string, body: string) => {
    const response = await fetch(`${standIn.url}/ws/${service}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `${standIn.url}/ws/${service}` },
      body,
    });
    return { status: response.status, body: await response.text() };
  };
  const add = (fields: Partial<AddPhaseFields>) =>
    client.addPhase({ jobNumber: '26-101', phaseCode: '04000', costType: 'L', ...fields });

  beforeAll(async () => {
    standIn = await SpectrumStandIn.start();
    client = new SpectrumSoapClient({ ...standIn.clientOptions(), retry: { attempts: 1 } });
  });
  afterAll(async () => {
    await client.close();
    await standIn.stop();
  });
  beforeEach(() => {
    standIn.reset();
    standIn.configure({ currentEstimateDisplayOnly: false });
    seedDemoSpectrum(standIn);
  });

  describe('wire format', () => {
    it('answers in the captured style, byte for byte', async () => {
      standIn.reset();
      standIn.addJob({ jobNumber: '26-101', description: 'Riverside' });
      standIn.addCostType('L');
      standIn.setPhase({ jobNumber: '26-101', phaseCode: '01100', costType: 'L', description: 'General Conditions', currentEstCost: '0', jtdActualDollars: '1250.40' });
      const { status, body } = await post('GetPhase', getPhaseEnvelope(ALL_GET_PHASE));
      expect(status).toBe(200);
      expect(body).toBe(
        ENVELOPE +
          `<nis:GetPhaseResponse xmlns:nis='${TYPES}'><returnArray><returnData>\n\n<getPhase>\n` +
          '    <response>\n' +
          '        <Company_Code>ABC</Company_Code>\n' +
          '        <Job_Number>26-101</Job_Number>\n' +
          '        <Phase_Code>01100</Phase_Code>\n' +
          '        <Cost_Type>L</Cost_Type>\n' +
          '        <Description>General Conditions</Description>\n' +
          '        <Status_Code>A</Status_Code>\n' +
          '        <Unit_of_Measure/>\n' +
          '        <JTD_Quantity>.00</JTD_Quantity>\n' +
          '        <JTD_Hours>.00</JTD_Hours>\n' +
          '        <JTD_Actual_Dollars>1250.40</JTD_Actual_Dollars>\n' +
          '        <Projected_Quantity>.00</Projected_Quantity>\n' +
          '        <Projected_Hours>.00</Projected_Hours>\n' +
          '        <Projected_Dollars>.00</Projected_Dollars>\n' +
          '        <Estimated_Quantity>.00</Estimated_Quantity>\n' +
          '        <Estimated_Hours>.00</Estimated_Hours>\n' +
          '        <Current_Estimate_Dollars>.00</Current_Estimate_Dollars>\n' +
          '        <Cost_Center/>\n' +
          '        <Error_Code> </Error_Code>\n' +
          '        <Error_Description> </Error_Description>\n' +
          '        <Error_Column> </Error_Column>\n' +
          '    </response>\n' +
          '</getPhase>\n</returnData></returnArray></nis:GetPhaseResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>',
      );
    });

    it('answers AddPhase with lower-case error_code/desc/column records', async () => {
      const body = (await post('AddPhase', '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
        `<AddPhase xmlns="${TYPES}"><Authorization_ID>API</Authorization_ID><GUID/><Company_Code>ABC</Company_Code>` +
        '<Job_Number>26-101</Job_Number><Phase_Code>04000</Phase_Code><Cost_Type>Q</Cost_Type><Description>x</Description>' +
        '<Status_Code/><Unit_of_Measure/><Original_Est_Quantity/><Original_Est_Hours/><Original_Est_Cost/><Current_Est_Quantity/>' +
        '<Current_Est_Hours/><Current_Est_Cost/><Bid_Item_Number/><Alt_Phase_Code/><Work_Comp_Code/><Phase_Cost_Center/>' +
        '<Price_Method_Code>J</Price_Method_Code></AddPhase></soap:Body></soap:Envelope>')).body;
      expect(body).toContain(
        `<nis:AddPhaseResponse xmlns:nis='${TYPES}'><returnArray><returnData>\n\n<addPhase>\n    <response>\n` +
          '        <error_code>I</error_code>\n        <desc>Cost type Q is not on file</desc>\n        <column>Cost_Type</column>\n' +
          '    </response>\n</addPhase>\n</returnData></returnArray></nis:AddPhaseResponse>',
      );
    });

    it('faults like the real server when a declared parameter element is missing', async () => {
      const withoutSortBy = ALL_GET_PHASE.replace('<pSort_By/>', '');
      expect(await post('GetPhase', getPhaseEnvelope(withoutSortBy))).toEqual({ status: 500, body: FAULT });
      expect(standIn.lastRequest('GetPhase')!.outcome).toBe('fault');
    });

    it('faults like the real server when the declared parameters are not in WSDL order, or one comes twice', async () => {
      const swapped = ALL_GET_PHASE.replace('<pCost_Type/><pJob_Number>26-101</pJob_Number>', '<pJob_Number>26-101</pJob_Number><pCost_Type/>');
      expect(await post('GetPhase', getPhaseEnvelope(swapped))).toEqual({ status: 500, body: FAULT });
      expect(standIn.lastRequest('GetPhase')).toMatchObject({ outcome: 'fault', order: expect.arrayContaining(['pJob_Number', 'pCost_Type']) });
      expect((await post('GetPhase', getPhaseEnvelope(ALL_GET_PHASE + '<pSort_By/>'))).status).toBe(500);
      expect((await post('GetPhase', getPhaseEnvelope(ALL_GET_PHASE))).status).toBe(200);
    });

    it('faults on a prefixed root with unqualified children (not the known-working form)', async () => {
      const prefixed = getPhaseEnvelope(ALL_GET_PHASE, `<tns:GetPhase xmlns:tns="${TYPES}">`, '</tns:GetPhase>');
      expect((await post('GetPhase', prefixed)).status).toBe(500);
      standIn.configure({ requireDefaultNamespace: false });
      try {
        expect((await post('GetPhase', prefixed)).status).toBe(200);
      } finally {
        standIn.configure({ requireDefaultNamespace: true });
      }
    });

    it('serves each WSDL pointing at itself', async () => {
      const response = await fetch(`${standIn.url}/wsdls/AddPhase.jws`);
      const text = await response.text();
      expect(response.status).toBe(200);
      expect(text).toContain(`<soap:address location='${standIn.url}/ws/AddPhase'>`);
      expect(text).toContain(`soapAction='${standIn.url}/ws/AddPhase'`);
      expect(text).not.toContain('spectrum.example.com');
    });

    it('answers 404 for unknown services', async () => {
      expect((await post('ManageJobPhase', getPhaseEnvelope(''))).status).toBe(404);
    });
  });

  describe('AddPhase validations', () => {
    it.each<[string, Partial<AddPhaseFields>, string, string, string]>([
      ['unknown job', { jobNumber: '99-999' }, 'I', 'Job_Number', 'Job 99-999 does not exist'],
      ['Complete job', { jobNumber: '24-310' }, 'I', 'Job_Number', 'Job 24-310 is complete'],
      ['job over 10', { jobNumber: '26-101-0001' }, 'I', 'Job_Number', 'Job Number exceeds 10 characters'],
      ['unknown cost type', { costType: 'Z' }, 'I', 'Cost_Type', 'Cost type Z is not on file'],
      ['cost type over 3', { costType: 'LABR' }, 'I', 'Cost_Type', 'Cost Type exceeds 3 characters'],
      ['phase with dashes', { phaseCode: '04-000' }, 'I', 'Phase_Code', 'Phase code may not contain dashes'],
      ['phase over 20', { phaseCode: '123456789012345678901' }, 'I', 'Phase_Code', 'Phase Code exceeds 20 characters'],
      ['description over 25', { description: 'A description that is too long' }, 'I', 'Description', 'Description exceeds 25 characters'],
      ['bad price method', { priceMethodCode: 'X' }, 'I', 'Price_Method_Code', 'Invalid price method X'],
      ['non-numeric quantity', { originalEstQuantity: '12a' }, 'I', 'Original_Est_Quantity', 'Original Est Quantity must be numeric'],
      ['amount over 12', { originalEstCost: 100000000000n }, 'I', 'Original_Est_Cost', 'Original Est Cost exceeds 12 characters'],
    ])('refuses %s', async (_, fields, code, column, message) => {
      const result = await add({ description: 'Masonry', priceMethodCode: 'J', ...fields });
      expect(result.ok).toBe(false);
      expect(result.errors).toContainEqual({ code, column, message });
      expect(standIn.applied()).toHaveLength(0);
    });

    it('requires a description for a new phase only', async () => {
      expect((await add({ priceMethodCode: 'J' })).errors).toEqual([
        { code: 'M', column: 'Description', message: 'Description is required for a new phase' },
      ]);
      // 01000 exists (with L and O): a new cost type of it needs no description, but a price method.
      expect((await add({ phaseCode: '01000', costType: 'M' })).errors).toEqual([
        { code: 'M', column: 'Price_Method_Code', message: 'Price method is required for a new phase' },
      ]);
      expect((await add({ phaseCode: '01000', costType: 'M', priceMethodCode: 'U' })).ok).toBe(true);
      // An existing row needs neither.
      expect((await add({ phaseCode: '01000', costType: 'L', originalEstCost: 100n })).ok).toBe(true);
    });

    it('accepts 999999999.99, the largest 12-character amount', async () => {
      expect((await add({ description: 'Big', priceMethodCode: 'J', originalEstCost: 99999999999n })).ok).toBe(true);
    });
  });

  describe('AddPhase semantics', () => {
    it('sets values: the same row twice leaves the same result', async () => {
      const fields = { description: 'Masonry', priceMethodCode: 'J', originalEstCost: 120000n, currentEstCost: 130000n };
      await add(fields);
      const first = standIn.getPhase('26-101', '04000', 'L');
      await add(fields);
      expect(standIn.getPhase('26-101', '04000', 'L')).toEqual(first);
      expect(first).toMatchObject({ originalEstCost: 120000n, currentEstCost: 130000n, priceMethodCode: 'J', statusCode: 'A' });
    });

    it('leaves blank fields as they are', async () => {
      await add({ description: 'Masonry', priceMethodCode: 'J', originalEstCost: 120000n, currentEstCost: 130000n, unitOfMeasure: 'SF' });
      await add({ originalEstCost: 125000n });
      expect(standIn.getPhase('26-101', '04000', 'L')).toMatchObject({
        description: 'Masonry',
        unitOfMeasure: 'SF',
        originalEstCost: 125000n,
        currentEstCost: 130000n,
        priceMethodCode: 'J',
      });
    });

    it('lets the original flow into a blank current estimate', async () => {
      await add({ description: 'Masonry', priceMethodCode: 'J', originalEstCost: 120000n });
      expect(standIn.getPhase('26-101', '04000', 'L')!.currentEstCost).toBe(120000n);
    });

    it('rewrites the description for every cost type of the phase', async () => {
      await add({ phaseCode: '03300', costType: 'M', description: 'Concrete' });
      expect(standIn.getPhase('26-101', '03300', 'M')!.description).toBe('Concrete');
      expect(standIn.getPhase('26-101', '03300', 'S')!.description).toBe('Concrete');
    });

    it('silently ignores current estimates when "Current Estimate display only" is on', async () => {
      standIn.configure({ currentEstimateDisplayOnly: true });
      const result = await add({ phaseCode: '03300', costType: 'M', originalEstCost: 200000_00n, currentEstCost: 200000_00n });
      expect(result).toEqual({ ok: true, warnings: [], errors: [] });
      expect(standIn.getPhase('26-101', '03300', 'M')).toMatchObject({ originalEstCost: 200000_00n, currentEstCost: 182000_00n });
      // A new row still gets its original as current.
      await add({ description: 'Masonry', priceMethodCode: 'J', originalEstCost: 5000n, currentEstCost: 6000n });
      expect(standIn.getPhase('26-101', '04000', 'L')!.currentEstCost).toBe(5000n);
    });

    it("stores a phase code shorter than the job's phase mask filled with zeroes (the job's phaseMask), and answers the stored form", async () => {
      standIn.addJob({ jobNumber: '26-500', description: 'Masked', phaseMask: { length: 5 } });
      standIn.addJob({ jobNumber: '26-501', description: 'Right-filled', phaseMask: { length: 6, side: 'right' } });
      expect(await client.addPhase({ jobNumber: '26-500', phaseCode: '110', costType: 'L', description: 'General', priceMethodCode: 'J', originalEstCost: 100n })).toMatchObject({ ok: true });
      expect(await client.addPhase({ jobNumber: '26-500', phaseCode: '00110', costType: 'M', priceMethodCode: 'J', originalEstCost: 200n })).toMatchObject({ ok: true });
      expect(await client.addPhase({ jobNumber: '26-501', phaseCode: '11', costType: 'L', description: 'Right', priceMethodCode: 'J' })).toMatchObject({ ok: true });
      expect(standIn.listPhases('26-500').map((r) => [r.phaseCode, r.costType, r.description])).toEqual([
        ['00110', 'L', 'General'],
        ['00110', 'M', 'General'],
      ]);
      expect(standIn.listPhases('26-501').map((r) => r.phaseCode)).toEqual(['110000']);
      expect((await client.getPhases('26-500')).map((r) => r.phaseCode)).toEqual(['00110', '00110']);
      const tooLong = await client.addPhase({ jobNumber: '26-500', phaseCode: '123456', costType: 'L', description: 'x', priceMethodCode: 'J' });
      expect(tooLong.errors).toEqual([{ code: 'I', message: 'Phase code does not fit the phase mask', column: 'Phase_Code' }]);
    });

    it('counts AddPhase calls per row and the writes applied', async () => {
      await add({ description: 'Masonry', priceMethodCode: 'J' });
      await add({ costType: 'M', priceMethodCode: 'J' });
      await add({ costType: 'Z' });
      expect(standIn.addPhaseCalls({ jobNumber: '26-101', phaseCode: '04000' })).toHaveLength(3);
      expect(standIn.addPhaseCalls({ phaseCode: '04000', costType: 'L' })).toHaveLength(1);
      expect(standIn.applied({ phaseCode: '04000' }).map((a) => [a.costType, a.createdRow, a.createdPhase])).toEqual([
        ['L', true, true],
        ['M', true, false],
      ]);
      expect(standIn.addPhaseCountsByRow()).toEqual(
        new Map([
          ['26-101|04000|L', 1],
          ['26-101|04000|M', 1],
          ['26-101|04000|Z', 1],
        ]),
      );
    });
  });

  describe('demo seed', () => {
    it('has job 26-101 with cost types L M S E O and a few phases', async () => {
      expect(DEMO_JOB).toEqual({ jobNumber: '26-101', description: 'Riverside Medical Office Building' });
      const job = findJob(await client.getJobs(), '26-101');
      expect(job).toMatchObject({ description: 'Riverside Medical Office Building', statusCode: 'A' });
      expect([...standIn.store.costTypes.keys()]).toEqual(['L', 'M', 'S', 'E', 'O']);
      const rows = await client.getPhases('26-101');
      expect(rows.map((r) => `${r.phaseCode}/${r.costType}`)).toEqual(['01000/L', '01000/O', '03300/M', '03300/S', '08100/M']);
      expect(rows.find((r) => r.phaseCode === '08100')!.description).toBe('Doors & Frames');
    });
  });

  it('faults above maxConcurrent and records the peak', async () => {
    standIn.configure({ latencyMs: 30, maxConcurrent: 2 });
    try {
      const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => client.getJobs()));
      expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(2);
      expect(standIn.peakConcurrent).toBeGreaterThanOrEqual(3);
    } finally {
      standIn.configure({ latencyMs: 0, maxConcurrent: undefined });
      await standIn.idle();
    }
  });
});
