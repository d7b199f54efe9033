import { Writable } from 'node:stream';

/** A log destination for tests: keeps every line the app writes. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  private partial = '';

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    const parts = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts.filter((line) => line.trim()));
    done();
  }

  get text(): string {
    return this.lines.join('\n');
  }

  /** Every line parsed (a line that is not JSON fails the test). */
  records(): Array<Record<string, any>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, any>);
  }

  clear(): void {
    this.lines.length = 0;
  }
}

/** Output of a process whose lines may be JSON: each JSON line's message, other lines as they are. */
export function readableOutput(output: string): string {
  return output
    .split('\n')
    .map((line) => {
      try {
        const parsed = JSON.parse(line) as { msg?: unknown };
        return typeof parsed?.msg === 'string' ? parsed.msg : line;
      } catch {
        return line;
      }
    })
    .join('\n');
}
