import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSpectrumAgent, SpectrumHttpTransport } from '../../src/spectrum/client/spectrum-http.transport';
import { SpectrumResponseScanner } from '../../src/spectrum/client/spectrum-response.parser';
import { SpectrumSoapClient } from '../../src/spectrum/client/spectrum-soap.client';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { waitFor } from '../support/wait';

/**
 * GetPhase answers are read as they arrive (issue 12, "Reconciliation memory"): the records reach
 * the reader while the answer is still coming, whatever the pieces it arrives in, and the
 * tolerant reading (cut-off answers, a record itself cut off) is unchanged.
 */

const ROWS = 60;

/** Relays each call to the stand-in and sends its answer back in pieces, as `deliver` decides. */
class PieceRelay {
  private server?: http.Server;
  deliver: (body: Buffer, response: http.ServerResponse) => Promise<void> = async (body, response) => void response.end(body);

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    this.server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        // A fresh connection per call; whatever the stand-in sends (even an answer it cuts off) is relayed.
        const upstream = http.request(`${this.target}${request.url}`, { method: 'POST', agent: false, headers: request.headers }, (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (part: Buffer) => parts.push(part));
          answer.on('error', () => undefined);
          answer.on('close', () => {
            const body = Buffer.concat(parts);
            response.writeHead(answer.statusCode ?? 502, { 'Content-Type': answer.headers['content-type'] ?? 'text/xml; charset=utf-8', 'Content-Length': body.length });
            void this.deliver(body, response);
          });
        });
        upstream.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

function write(response: http.ServerResponse, piece: Buffer): Promise<void> {
  return new Promise((resolve) => response.write(piece, () => setImmediate(resolve)));
}

describe('Spectrum answers read as they arrive', () => {
  let standIn: SpectrumStandIn;
  let relay: PieceRelay;
  let relayUrl: string;

  beforeAll(async () => {
    standIn = await SpectrumStandIn.start();
    standIn.addJob({ jobNumber: '26-101', description: 'Riverside Medical Office Building' });
    for (const code of ['L', 'M']) standIn.addCostType(code);
    for (let i = 0; i < ROWS; i++) {
      standIn.setPhase({
        jobNumber: '26-101',
        phaseCode: String(1000 + i * 10).padStart(5, '0'),
        costType: i % 2 ? 'M' : 'L',
        description: `Béton coulé n° ${i}`, // two-byte UTF-8 characters, split between pieces below
        originalEstCost: BigInt(10_000 + i),
        currentEstCost: BigInt(20_000 + i),
      });
    }
    relay = new PieceRelay(standIn.url);
    relayUrl = await relay.start();
  });
  afterAll(async () => {
    await relay.stop();
    await standIn.stop();
  });

  it('hands the records to the reader while the answer is still arriving (the answer is never held whole)', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = true;
    relay.deliver = async (body, response) => {
      const half = body.indexOf('</response>', Math.floor(body.length / 2)) + '</response>'.length;
      await write(response, body.subarray(0, half));
      // The rest comes once the reader has seen the first half's records, or after 15 s at the latest.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([released, new Promise((resolve) => (timer = setTimeout(resolve, 15_000)))]);
      clearTimeout(timer);
      held = false;
      response.end(body.subarray(half));
    };
    const transport = new SpectrumHttpTransport({ agent: createSpectrumAgent(relayUrl, 1), timeoutMs: 10_000 });
    let seenWhileHeld = 0;
    const scanner = new SpectrumResponseScanner(() => {
      if (held) seenWhileHeld++;
    });
    const envelope =
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
      '<GetPhase xmlns="http://www.northgate-is.com/proiv/webservices/types"><Authorization_ID>API</Authorization_ID><GUID/>' +
      '<pCompany_Code>ABC</pCompany_Code><pCost_Type/><pJob_Number>26-101</pJob_Number><pStatus_Code/><pCost_Center/><pSort_By/>' +
      '</GetPhase></soap:Body></soap:Envelope>';
    const answered = transport.post(`${relayUrl}/ws/GetPhase`, envelope, { 'Content-Type': 'text/xml; charset=utf-8' }, 'GetPhase', scanner);
    // Counted only while the relay holds the second half back: what the reader got before the answer was whole.
    await waitFor(() => seenWhileHeld >= ROWS / 2 || !held, 'the first half of the answer read while the rest is held', { intervalMs: 5 });
    release();
    const answer = await answered;
    expect(seenWhileHeld).toBeGreaterThanOrEqual(ROWS / 2);
    expect(answer.body).toBe('');
    expect(scanner.end()).toMatchObject({ recordCount: ROWS, complete: true, truncation: 'none' });
    transport.agent.destroy();
  });

  it('reads an answer arriving a few bytes at a time (characters split between pieces) exactly as a whole one', async () => {
    const client = new SpectrumSoapClient({ ...standIn.clientOptions(), retry: { attempts: 1 } });
    const expected = await client.getPhases('26-101');
    relay.deliver = async (body, response) => {
      for (let at = 0; at < body.length; at += 7) await write(response, body.subarray(at, at + 7));
      response.end();
    };
    const pieced = new SpectrumSoapClient({ ...standIn.clientOptions(), url: relayUrl, retry: { attempts: 1 } });
    try {
      const rows = await pieced.getPhases('26-101');
      expect(rows).toHaveLength(ROWS);
      expect(rows).toEqual(expected);
      expect(rows[1].description).toBe('Béton coulé n° 1');
    } finally {
      await Promise.all([client.close(), pieced.close()]);
    }
  });

  it('still reads a cut-off answer again, and still detects a record cut off inside (the last piece ends mid-record)', async () => {
    relay.deliver = async (body, response) => void response.end(body);
    const client = new SpectrumSoapClient({ ...standIn.clientOptions(), url: relayUrl, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, logger: { warn: () => undefined } });
    try {
      standIn.clearRecords();
      standIn.truncateNext(1, { services: ['GetPhase'], mode: 'inside-record', keepRecords: 10, delivery: 'drop' });
      standIn.truncateNext(1, { services: ['GetPhase'], mode: 'between-records', keepRecords: 20 });
      const rows = await client.getPhases('26-101');
      expect(rows).toHaveLength(ROWS);
      expect(standIn.requests('GetPhase').map((r) => r.outcome)).toEqual(['truncated', 'truncated', 'ok', 'ok']);
    } finally {
      await client.close();
    }
  });
});
