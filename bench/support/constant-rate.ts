/**
 * An open-loop HTTP load at constant rates (as wrk2 or k6's constant-arrival-rate run it), in a
 * process of its own, for one or more targets at once:
 *   node -r ts-node/register/transpile-only bench/support/constant-rate.ts <token> <seconds> <connections> <rate> <url> [<rate> <url> …]
 * Request i of a target is due at start + i / rate and is sent then, whatever the answers before
 * it; its latency counts from when it was due, so a slow answer or a late client is never hidden
 * (no coordinated omission). Each target has up to <connections> keep-alive connections; a request
 * due while all are busy waits for one, and that wait counts too. Prints a JSON array, one object
 * per target: {url, requests, perSecond, p50, p90, p99, max, errors, timeouts, non2xx, bytesPerResponse}.
 */
import { Agent, request } from 'node:http';

const TIMEOUT_MS = 10_000;
const [token, secondsArg, connectionsArg, ...pairs] = process.argv.slice(2);
const seconds = Number(secondsArg);

interface Target {
  url: string;
  rate: number;
  agent: Agent;
  latencies: number[];
  errors: number;
  timeouts: number;
  non2xx: number;
  bytes: number;
  answered: number;
}

const targets: Target[] = [];
for (let i = 0; i < pairs.length; i += 2) {
  targets.push({ rate: Number(pairs[i]), url: pairs[i + 1], agent: new Agent({ keepAlive: true, maxSockets: Number(connectionsArg), scheduling: 'fifo' }), latencies: [], errors: 0, timeouts: 0, non2xx: 0, bytes: 0, answered: 0 });
}

function send(target: Target, due: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(target.url, { agent: target.agent, headers: { authorization: `Bearer ${token}` }, timeout: TIMEOUT_MS }, (res) => {
      res.on('data', (chunk: Buffer) => (target.bytes += chunk.length));
      res.on('end', () => {
        target.latencies.push(performance.now() - due);
        target.answered++;
        if (res.statusCode! < 200 || res.statusCode! >= 300) target.non2xx++;
        resolve();
      });
    });
    req.on('timeout', () => {
      target.timeouts++;
      req.destroy(new Error('timed out'));
    });
    req.on('error', (error) => {
      if (error.message !== 'timed out') target.errors++;
      resolve();
    });
    req.end();
  });
}

async function main(): Promise<void> {
  const start = performance.now() + 50;
  const end = start + seconds * 1000;
  // Every request of every target, in the order they fall due.
  const schedule: Array<{ target: Target; due: number }> = [];
  for (const target of targets) for (let due = start; due < end; due += 1000 / target.rate) schedule.push({ target, due });
  schedule.sort((a, b) => a.due - b.due);
  const pending: Promise<void>[] = [];
  for (const { target, due } of schedule) {
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(send(target, due));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  const round = (value: number) => Math.round(value * 10) / 10;
  const results = targets.map((target) => {
    const sorted = target.latencies.sort((a, b) => a - b);
    const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : 0);
    target.agent.destroy();
    return {
      url: target.url,
      requests: schedule.filter((item) => item.target === target).length,
      perSecond: round(target.answered / elapsed),
      p50: round(at(0.5)),
      p90: round(at(0.9)),
      p99: round(at(0.99)),
      max: round(sorted[sorted.length - 1] ?? 0),
      errors: target.errors,
      timeouts: target.timeouts,
      non2xx: target.non2xx,
      bytesPerResponse: Math.round(target.bytes / Math.max(1, target.answered)),
    };
  });
  process.stdout.write(JSON.stringify(results));
}

void main();
