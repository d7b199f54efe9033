import { timelineSvg } from './timeline-svg';

const T = 1_800_000_000_000;

describe('the chaos timeline picture', () => {
  const svg = timelineSvg({
    title: 'Chaos run <ci> & more',
    start: T,
    applied: [0, 120, 240, 0],
    committed: [0, 100, 250, 10],
    faults: [0, 12, 20, 0],
    concurrency: [0, 4, 4, 1],
    cap: 4,
    events: [
      { at: T + 500, kind: 'send', detail: '3 budgets' },
      { at: T + 1_200, kind: 'kill', target: 'worker-2' },
      { at: T + 2_200, kind: 'restart', target: 'worker-2' },
      { at: T + 1_500, kind: 'redis-down' },
      { at: T + 2_500, kind: 'redis-up' },
      { at: T + 3_000, kind: 'pg-down' },
    ],
  });

  it('is one well-formed SVG document with its text escaped', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Chaos run &lt;ci&gt; &amp; more');
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('marks the kill, the restart and the outages where they happened', () => {
    expect(svg).toContain('kill worker-2');
    expect(svg).toMatch(/<path d="M [\d.]+ \d+ L [\d.]+ \d+ L [\d.]+ \d+ Z" fill="#059669"\/>/);
    expect(svg).toContain('>Redis restart</text>');
    // PostgreSQL never came back in this data: its band runs to the end of the chart.
    expect(svg).toContain('PostgreSQL restart');
    expect(svg).toContain('SPECTRUM_CONCURRENCY = 4');
  });

  it('draws one bar per second with rows written', () => {
    expect(svg.match(/fill="#10b981" fill-opacity="0.75"/g)).toHaveLength(2);
  });
});
