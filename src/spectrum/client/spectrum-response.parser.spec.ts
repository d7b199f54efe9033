import { decodeXmlText, scanSpectrumResponse } from './spectrum-response.parser';

const OPEN =
  "<SOAP-ENV:Envelope SOAP-ENV:encodingStyle='http://schemas.xmlsoap.org/soap/encoding/' xmlns:xsd='http://www.w3.org/2001/XMLSchema' " +
  "xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'>" +
  "<SOAP-ENV:Header></SOAP-ENV:Header><SOAP-ENV:Body><nis:GetPhaseResponse xmlns:nis='http://www.northgate-is.com/proiv/webservices/types'>" +
  '<returnArray><returnData>\n\n<getPhase>\n';
const CLOSE = '</getPhase>\n</returnData></returnArray></nis:GetPhaseResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>';

function record(phase: string, amount: string): string {
  return (
    '    <response>\n' +
    '        <Company_Code>ABC</Company_Code>\n' +
    `        <Phase_Code>${phase}</Phase_Code>\n` +
    '        <Unit_of_Measure/>\n' +
    `        <Current_Estimate_Dollars>${amount}</Current_Estimate_Dollars>\n` +
    '        <Error_Code> </Error_Code>\n' +
    '    </response>\n'
  );
}

describe('scanSpectrumResponse', () => {
  const whole = OPEN + record('01100', '.00') + record('02200', '859.51') + record('03300', '-12.5') + CLOSE;

  it('reads every record of a complete response as text', () => {
    const scanned = scanSpectrumResponse(whole);
    expect(scanned.truncation).toBe('none');
    expect(scanned.complete).toBe(true);
    expect(scanned.records).toEqual([
      { Company_Code: 'ABC', Phase_Code: '01100', Unit_of_Measure: '', Current_Estimate_Dollars: '.00', Error_Code: ' ' },
      { Company_Code: 'ABC', Phase_Code: '02200', Unit_of_Measure: '', Current_Estimate_Dollars: '859.51', Error_Code: ' ' },
      { Company_Code: 'ABC', Phase_Code: '03300', Unit_of_Measure: '', Current_Estimate_Dollars: '-12.5', Error_Code: ' ' },
    ]);
  });

  it('reads the whole records of a response cut off between records, and flags it incomplete', () => {
    const cut = whole.slice(0, whole.indexOf(CLOSE) - record('03300', '-12.5').length);
    const scanned = scanSpectrumResponse(cut);
    expect(scanned.records.map((r) => r.Phase_Code)).toEqual(['01100', '02200']);
    expect(scanned.truncation).toBe('between-records');
    expect(scanned.complete).toBe(false);
  });

  it('detects a record that is itself cut off', () => {
    const cut = whole.slice(0, whole.indexOf('<Phase_Code>03300') + 15);
    const scanned = scanSpectrumResponse(cut);
    expect(scanned.records.map((r) => r.Phase_Code)).toEqual(['01100', '02200']);
    expect(scanned.truncation).toBe('inside-record');
    expect(scanned.complete).toBe(false);
  });

  it('detects a cut inside a closing </response> tag', () => {
    const cut = whole.slice(0, whole.lastIndexOf('</response>') + 6);
    expect(scanSpectrumResponse(cut).truncation).toBe('inside-record');
  });

  it('accepts a response cut only after </returnArray> as complete', () => {
    const cut = whole.slice(0, whole.indexOf('</returnArray>') + '</returnArray>'.length);
    const scanned = scanSpectrumResponse(cut);
    expect(scanned.truncation).toBe('after-records');
    expect(scanned.complete).toBe(true);
    expect(scanned.records).toHaveLength(3);
  });

  it('flags a response cut before the record list started', () => {
    const scanned = scanSpectrumResponse(OPEN.slice(0, 200));
    expect(scanned.truncation).toBe('before-records');
    expect(scanned.complete).toBe(false);
  });

  it('reads an empty complete list', () => {
    const scanned = scanSpectrumResponse(OPEN + CLOSE);
    expect(scanned).toMatchObject({ records: [], complete: true, truncation: 'none' });
  });

  it('reads a SOAP fault', () => {
    const fault =
      "<SOAP-ENV:Envelope xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'><SOAP-ENV:Body><SOAP-ENV:Fault>" +
      '<faultcode>SOAP-ENV:Server</faultcode><faultstring>Error executing Web Service</faultstring>' +
      '</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>';
    expect(scanSpectrumResponse(fault).fault).toEqual({ code: 'SOAP-ENV:Server', message: 'Error executing Web Service' });
  });

  it('says when a body is not SOAP at all', () => {
    expect(scanSpectrumResponse('<html><body>Bad gateway</body></html>').soap).toBe(false);
  });

  it('decodes entities, numeric references and CDATA in values; reads lower-case write records', () => {
    const body =
      OPEN.replace('getPhase', 'addPhase') +
      '    <response>\n        <error_code>I</error_code>\n' +
      '        <desc>Doors &amp; Frames &lt;Type A&gt; B&#233;ton &#xE9; <![CDATA[a < b]]></desc>\n' +
      "        <column attr='x'>Description</column>\n    </response>\n" +
      CLOSE.replace('getPhase', 'addPhase');
    expect(scanSpectrumResponse(body).records).toEqual([
      { error_code: 'I', desc: 'Doors & Frames <Type A> Béton é a < b', column: 'Description' },
    ]);
  });

  it('reads a self-closing response record as empty', () => {
    const scanned = scanSpectrumResponse(OPEN + '<response/>\n' + CLOSE);
    expect(scanned.records).toEqual([{}]);
    expect(scanned.complete).toBe(true);
  });
});

describe('decodeXmlText', () => {
  it('leaves text without entities alone and keeps unknown references', () => {
    expect(decodeXmlText('plain')).toBe('plain');
    expect(decodeXmlText('&unknown; &#0;')).toBe('&unknown; &#0;');
  });
});
