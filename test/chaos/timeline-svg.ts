import type { ChaosEvent, EventKind } from './checks';

/**
 * The chaos run's timeline as an SVG drawn by hand (no chart library): Spectrum rows written per
 * second (what the stand-in applied, and what the ledger committed), injected faults, calls in
 * flight against the cap, and the run's events — kills, restarts, graceful stops, Redis,
 * PostgreSQL and SMTP outages — marked where they happened.
 */
export interface TimelineData {
  title: string;
  subtitle?: string;
  /** Epoch ms of second 0. */
  start: number;
  /** Rows Spectrum applied per second. */
  applied: number[];
  /** Rows the ledger committed as written per second. */
  committed: number[];
  /** Injected faults per second. */
  faults: number[];
  /** Max SOAP calls in flight per second. */
  concurrency: number[];
  cap: number;
  events: ChaosEvent[];
}

const WIDTH = 1280;
const MARGIN = { left: 64, right: 24, top: 190, bottom: 58 };
const RATE_HEIGHT = 300;
const GAP = 36;
const CONC_HEIGHT = 110;
const HEIGHT = MARGIN.top + RATE_HEIGHT + GAP + CONC_HEIGHT + MARGIN.bottom;

const BANDS: Array<{ from: EventKind; to: EventKind; label: string; color: string }> = [
  { from: 'smtp-down', to: 'smtp-up', label: 'SMTP down', color: '#9ca3af' },
  { from: 'redis-down', to: 'redis-up', label: 'Redis restart', color: '#f59e0b' },
  { from: 'pg-down', to: 'pg-up', label: 'PostgreSQL restart', color: '#3b82f6' },
  { from: 'term', to: 'exit', label: 'graceful stop', color: '#a855f7' },
];

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export function timelineSvg(data: TimelineData): string {
  const seconds = Math.max(1, data.applied.length, data.committed.length, data.concurrency.length, ...data.events.map((e) => Math.ceil((e.at - data.start) / 1000) + 1));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const x = (second: number) => MARGIN.left + (second / seconds) * plotWidth;
  const xAt = (at: number) => x((at - data.start) / 1000);
  const rateMax = niceMax(Math.max(1, ...data.applied, ...data.committed));
  const rateTop = MARGIN.top;
  const rateBottom = rateTop + RATE_HEIGHT;
  const yRate = (value: number) => rateBottom - (value / rateMax) * RATE_HEIGHT;
  const concTop = rateBottom + GAP;
  const concBottom = concTop + CONC_HEIGHT;
  const concMax = Math.max(data.cap + 2, ...data.concurrency);
  const yConc = (value: number) => concBottom - (value / concMax) * CONC_HEIGHT;
  const out: string[] = [];
  const push = (line: string) => out.push(line);

  push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`);
  push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  push(`<text x="${MARGIN.left}" y="24" font-size="17" font-weight="bold">${escapeXml(data.title)}</text>`);
  wrap(data.subtitle ?? '', 170).forEach((line, i) => push(`<text x="${MARGIN.left}" y="${44 + i * 16}" fill="#374151">${escapeXml(line)}</text>`));

  // Outage bands behind everything.
  for (const band of BANDS) {
    for (const [from, to] of pairs(data.events, band.from, band.to)) {
      const left = xAt(from.at);
      const right = Math.max(left + 2, xAt(to?.at ?? data.start + seconds * 1000));
      push(`<rect x="${fmt(left)}" y="${rateTop}" width="${fmt(right - left)}" height="${concBottom - rateTop}" fill="${band.color}" fill-opacity="0.18"/>`);
      push(`<text x="${fmt(left + 3)}" y="${rateTop + 14}" fill="${band.color}" font-size="11" font-weight="bold">${escapeXml(band.label)}${from.target ? ` ${escapeXml(from.target)}` : ''}</text>`);
    }
  }

  // Axes and grid.
  for (const [top, bottom, max, label] of [
    [rateTop, rateBottom, rateMax, 'rows / s'],
    [concTop, concBottom, concMax, 'calls in flight'],
  ] as const) {
    push(`<line x1="${MARGIN.left}" y1="${bottom}" x2="${MARGIN.left + plotWidth}" y2="${bottom}" stroke="#111827"/>`);
    push(`<line x1="${MARGIN.left}" y1="${top}" x2="${MARGIN.left}" y2="${bottom}" stroke="#111827"/>`);
    for (const tick of ticks(max)) {
      const y = bottom - (tick / max) * (bottom - top);
      push(`<line x1="${MARGIN.left}" y1="${fmt(y)}" x2="${MARGIN.left + plotWidth}" y2="${fmt(y)}" stroke="#e5e7eb"/>`);
      push(`<text x="${MARGIN.left - 6}" y="${fmt(y + 4)}" text-anchor="end" fill="#4b5563">${tick}</text>`);
    }
    push(`<text x="14" y="${fmt((top + bottom) / 2)}" transform="rotate(-90 14 ${fmt((top + bottom) / 2)})" text-anchor="middle" fill="#111827">${label}</text>`);
  }
  const step = secondsStep(seconds);
  for (let second = 0; second <= seconds; second += step) {
    push(`<text x="${fmt(x(second))}" y="${concBottom + 16}" text-anchor="middle" fill="#4b5563">${second}</text>`);
  }
  push(`<text x="${MARGIN.left + plotWidth / 2}" y="${concBottom + 34}" text-anchor="middle" fill="#111827">seconds since the run started</text>`);

  // Rows applied per second (bars), ledger commits per second (line), faults (red bars).
  const barWidth = Math.max(1, plotWidth / seconds - 1);
  data.applied.forEach((value, second) => {
    if (value > 0) push(`<rect x="${fmt(x(second))}" y="${fmt(yRate(value))}" width="${fmt(barWidth)}" height="${fmt(rateBottom - yRate(value))}" fill="#10b981" fill-opacity="0.75"/>`);
  });
  data.faults.forEach((value, second) => {
    if (value > 0) push(`<rect x="${fmt(x(second))}" y="${fmt(yRate(value))}" width="${fmt(barWidth)}" height="${fmt(rateBottom - yRate(value))}" fill="#dc2626" fill-opacity="0.8"/>`);
  });
  push(`<polyline fill="none" stroke="#1d4ed8" stroke-width="1.6" points="${data.committed.map((value, second) => `${fmt(x(second + 0.5))},${fmt(yRate(value))}`).join(' ')}"/>`);

  // Calls in flight per second against the cap.
  push(`<line x1="${MARGIN.left}" y1="${fmt(yConc(data.cap))}" x2="${MARGIN.left + plotWidth}" y2="${fmt(yConc(data.cap))}" stroke="#dc2626" stroke-dasharray="6 4"/>`);
  push(`<text x="${MARGIN.left + plotWidth - 4}" y="${fmt(yConc(data.cap) - 4)}" text-anchor="end" fill="#dc2626">SPECTRUM_CONCURRENCY = ${data.cap}</text>`);
  push(`<polyline fill="none" stroke="#7c3aed" stroke-width="1.4" points="${data.concurrency.map((value, second) => `${fmt(x(second + 0.5))},${fmt(yConc(value))}`).join(' ')}"/>`);

  // Point events: kills, restarts, phases.
  for (const event of data.events) {
    const ex = xAt(event.at);
    if (event.kind === 'kill') {
      push(`<line x1="${fmt(ex)}" y1="${rateTop}" x2="${fmt(ex)}" y2="${concBottom}" stroke="#dc2626" stroke-width="1" stroke-dasharray="3 3"/>`);
      push(`<text x="${fmt(ex)}" y="${rateTop - 4}" text-anchor="middle" fill="#dc2626" font-size="13" font-weight="bold">✕</text>`);
      push(`<text x="${fmt(ex + 3)}" y="${rateTop - 16}" transform="rotate(-60 ${fmt(ex + 3)} ${rateTop - 16})" fill="#dc2626" font-size="10">kill ${escapeXml(event.target ?? '')}</text>`);
    } else if (event.kind === 'restart') {
      push(`<path d="M ${fmt(ex - 4)} ${concBottom + 6} L ${fmt(ex + 4)} ${concBottom + 6} L ${fmt(ex)} ${concBottom - 1} Z" fill="#059669"/>`);
    } else if (['send', 'accept', 'synced', 'chaos-end', 'daily-summary', 'reject'].includes(event.kind)) {
      push(`<line x1="${fmt(ex)}" y1="${rateTop}" x2="${fmt(ex)}" y2="${concBottom}" stroke="#111827" stroke-width="1"/>`);
      push(`<text x="${fmt(ex + 3)}" y="${rateBottom - 6}" transform="rotate(-90 ${fmt(ex + 3)} ${rateBottom - 6})" fill="#111827" font-size="11">${escapeXml(phaseLabel(event))}</text>`);
    }
  }

  // Legend.
  const legend: Array<[string, string, string]> = [
    ['rect', '#10b981', 'rows Spectrum applied / s'],
    ['line', '#1d4ed8', 'rows the ledger committed / s'],
    ['rect', '#dc2626', 'injected faults / s'],
    ['line', '#7c3aed', 'max calls in flight / s'],
    ['kill', '#dc2626', 'worker SIGKILLed'],
    ['tri', '#059669', 'worker restarted'],
  ];
  let lx = MARGIN.left;
  const ly = 88;
  for (const [shape, color, label] of legend) {
    if (shape === 'rect') push(`<rect x="${lx}" y="${ly - 9}" width="14" height="10" fill="${color}"/>`);
    else if (shape === 'line') push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 14}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    else if (shape === 'kill') push(`<text x="${lx + 7}" y="${ly}" text-anchor="middle" fill="${color}" font-weight="bold">✕</text>`);
    else push(`<path d="M ${lx + 3} ${ly} L ${lx + 11} ${ly} L ${lx + 7} ${ly - 8} Z" fill="${color}"/>`);
    push(`<text x="${lx + 19}" y="${ly}" fill="#111827">${escapeXml(label)}</text>`);
    lx += 26 + label.length * 6.6;
  }
  let bx = MARGIN.left;
  for (const band of BANDS) {
    push(`<rect x="${bx}" y="${ly + 9}" width="14" height="10" fill="${band.color}" fill-opacity="0.35"/>`);
    push(`<text x="${bx + 19}" y="${ly + 18}" fill="#111827">${escapeXml(band.label)}</text>`);
    bx += 40 + band.label.length * 6.6;
  }
  push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Lines of at most `width` characters, broken at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.slice(0, 2);
}

function phaseLabel(event: ChaosEvent): string {
  const names: Partial<Record<EventKind, string>> = {
    send: 'budgets sent',
    accept: 'all accepted',
    synced: 'all synced',
    'chaos-end': 'chaos ends',
    'daily-summary': 'daily summary',
    reject: 'rejections',
  };
  return `${names[event.kind] ?? event.kind}${event.detail ? ` (${event.detail})` : ''}`;
}

/** Each `from` event with the next `to` event of the same target (or of any, when untargeted). */
function pairs(events: ChaosEvent[], from: EventKind, to: EventKind): Array<[ChaosEvent, ChaosEvent | undefined]> {
  const sorted = [...events].sort((a, b) => a.at - b.at);
  return sorted
    .filter((event) => event.kind === from)
    .map((start) => [start, sorted.find((event) => event.kind === to && event.at >= start.at && (event.target ?? null) === (start.target ?? null))]);
}

function niceMax(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const factor of [1, 2, 2.5, 5, 10]) if (factor * magnitude >= value) return factor * magnitude;
  return 10 * magnitude;
}

function ticks(max: number): number[] {
  const step = max / 5;
  return Array.from({ length: 6 }, (_, i) => Math.round(i * step * 100) / 100);
}

function secondsStep(seconds: number): number {
  for (const step of [1, 2, 5, 10, 15, 20, 30, 60, 120, 300]) if (seconds / step <= 24) return step;
  return 600;
}

const fmt = (value: number) => (Math.round(value * 10) / 10).toString();
