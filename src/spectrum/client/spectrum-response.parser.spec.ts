import { decodeXmlText, RawRecord, scanSpectrumResponse, SpectrumResponseScanner } from './spectrum-response.parser';

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

/** Scans `body` fed in the given pieces, as the transport feeds an answer while it arrives. */
function scanInPieces(pieces: string[]) {
  const records: RawRecord[] = [];
  const scanner = new SpectrumResponseScanner((record) => records.push(record));
  const seenBeforeEnd: number[] = [];
  for (const piece of pieces) {
    scanner.write(piece);
    seenBeforeEnd.push(records.length);
  }
  const summary = scanner.end();
  return { records, seenBeforeEnd, truncation: summary.truncation, complete: summary.complete, soap: summary.soap, fault: summary.fault, recordCount: summary.recordCount };
}

describe('SpectrumResponseScanner (the answer read as it arrives)', () => {
  const whole = OPEN + record('01100', '.00') + record('02200', 'Doors &amp; Frames') + record('03300', '-12.5') + CLOSE;
  const FAULT =
    "<SOAP-ENV:Envelope xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'><SOAP-ENV:Body><SOAP-ENV:Fault>" +
    '<faultcode>SOAP-ENV:Server</faultcode><faultstring>Error executing Web Service</faultstring>' +
    '</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>';
  // Every way the answer can be cut: whole, after the list, between records, inside a record,
  // inside a tag, before the list; a fault and a page that is not SOAP.
  const bodies = [
    whole,
    whole.slice(0, whole.indexOf('</returnArray>') + '</returnArray>'.length),
    whole.slice(0, whole.lastIndexOf('    <response>')),
    whole.slice(0, whole.indexOf('<Phase_Code>03300') + 15),
    whole.slice(0, whole.lastIndexOf('</response>') + 6),
    whole.slice(0, whole.lastIndexOf('<response') + 5),
    OPEN.slice(0, 200),
    OPEN + '<response/>\n' + CLOSE,
    FAULT,
    '<html><body>Bad gateway</body></html>',
  ];

  it('finds what the whole-body scan finds wherever the pieces are split (every split point, one character at a time)', () => {
    for (const body of bodies) {
      const expected = scanSpectrumResponse(body);
      const reference = { records: expected.fault ? [] : expected.records, truncation: expected.truncation, complete: expected.complete, soap: expected.soap, fault: expected.fault };
      const expectedJson = JSON.stringify(reference);
      for (let at = 0; at <= body.length; at++) {
        const split = scanInPieces([body.slice(0, at), body.slice(at)]);
        const found = { records: split.fault ? [] : split.records, truncation: split.truncation, complete: split.complete, soap: split.soap, fault: split.fault };
        // Compared as text (thousands of splits); toEqual shows the difference when one differs.
        if (JSON.stringify(found) !== expectedJson) expect({ at, ...found }).toEqual({ at, ...reference });
      }
      const bytes = scanInPieces([...body]);
      expect({ records: bytes.fault ? [] : bytes.records, truncation: bytes.truncation, complete: bytes.complete, soap: bytes.soap, fault: bytes.fault }).toEqual(reference);
    }
  });

  it('hands each record on as soon as it is whole, before the answer ends', () => {
    const at = whole.indexOf('</response>') + '</response>'.length;
    const scan = scanInPieces([whole.slice(0, at), whole.slice(at)]);
    expect(scan.seenBeforeEnd[0]).toBe(1);
    expect(scan.records.map((r) => r.Phase_Code)).toEqual(['01100', '02200', '03300']);
    expect(scan.records[1].Current_Estimate_Dollars).toBe('Doors & Frames');
  });

  it('keeps only what follows the last whole record (memory does not grow with the answer)', () => {
    const records = Array.from({ length: 2000 }, (_, i) => record(String(i).padStart(5, '0'), '1.00')).join('');
    const body = OPEN + records + CLOSE;
    const scanner = new SpectrumResponseScanner(() => undefined);
    let largest = 0;
    for (let i = 0; i < body.length; i += 4096) {
      scanner.write(body.slice(i, i + 4096));
      largest = Math.max(largest, (scanner as unknown as { buffer: string }).buffer.length);
    }
    expect(scanner.end()).toMatchObject({ recordCount: 2000, complete: true });
    expect(largest).toBeLessThan(4096 + record('00000', '1.00').length);
  });
});

describe('decodeXmlText', () => {
  it('leaves text without entities alone and keeps unknown references', () => {
    expect(decodeXmlText('plain')).toBe('plain');
    expect(decodeXmlText('&unknown; &#0;')).toBe('&unknown; &#0;');
  });
});
