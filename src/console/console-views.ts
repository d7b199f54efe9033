import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Handlebars from 'handlebars';
import { Cents, formatMoney, toCents } from '../common/money';
import { displayDate } from '../notifications/template-renderer';
import { SubmissionStatus } from '../budgets/submission-status';

/**
 * The console's server-rendered pages: Handlebars files in `views/` (a layout, partials, one file
 * per page), read and compiled once at start. Every value is escaped: a template that outputs raw
 * HTML (`{{{ }}}`) is refused at start. Only the layout receives the rendered page as SafeString.
 */

export const STATUS_LABELS: Record<SubmissionStatus, string> = {
  ingesting: 'Ingesting',
  ingest_failed: 'Ingestion failed',
  ready_to_export: 'Ready to export',
  exporting: 'Exporting',
  exported: 'Exported, awaiting reconciliation',
  synced: 'Synced',
  out_of_sync: 'Out of sync',
  failed_to_export: 'Failed to export',
  rejected: 'Rejected',
  retrieved: 'Retrieved',
  superseded: 'Superseded',
};

/** Audit actions as the history reads them; others are shown as recorded. */
const ACTION_LABELS: Record<string, string> = {
  send: 'Sent',
  ingested: 'Ingested',
  ingestFailed: 'Ingestion failed',
  accept: 'Accepted',
  reject: 'Rejected',
  retry: 'Export retried',
  retrieve: 'Retrieved',
  supersede: 'Superseded by a newer send',
  exported: 'Exported',
  exportFailed: 'Export failed',
  reconciledSynced: 'Reconciled: in sync',
  reconciledOutOfSync: 'Reconciled: out of sync',
  acknowledge: 'Variance acknowledged',
  unlock: 'Unlock requested',
  remap: 'Remapped',
  'procore.lock': 'Locked in Procore',
  'procore.unlock': 'Unlocked in Procore',
};

export type PageName = string;

export class ConsoleViews {
  private readonly env = Handlebars.create();
  private readonly pages = new Map<string, Handlebars.TemplateDelegate>();
  private readonly layout: Handlebars.TemplateDelegate;

  constructor(
    private readonly options: { timeZone: string; dir?: string },
  ) {
    const dir = options.dir ?? join(__dirname, 'views');
    if (!existsSync(dir)) throw new Error(`console views not found in ${dir}`);
    this.registerHelpers();
    for (const file of readdirSync(join(dir, 'partials')).filter((f) => f.endsWith('.hbs')).sort()) {
      this.env.registerPartial(basename(file, '.hbs'), this.compile(join(dir, 'partials', file)));
    }
    this.layout = this.compile(join(dir, 'layout.hbs'));
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.hbs') && f !== 'layout.hbs')) {
      this.pages.set(basename(file, '.hbs'), this.compile(join(dir, file)));
    }
  }

  /** A whole page: the named view inside the layout. */
  page(name: PageName, model: Record<string, unknown>): string {
    const body = this.fragment(name, model);
    return this.layout({ ...model, body: new this.env.SafeString(body) });
  }

  /** A view alone (for the parts the page's script loads later). */
  fragment(name: PageName, model: Record<string, unknown>): string {
    const template = this.pages.get(name);
    if (!template) throw new Error(`unknown console view: ${name}`);
    return template(model);
  }

  private compile(file: string): Handlebars.TemplateDelegate {
    const source = readFileSync(file, 'utf8');
    if (/\{\{\{|\{\{&/.test(source)) throw new Error(`${file}: console views escape every value; {{{ }}} is not allowed`);
    const template = this.env.compile(source, { strict: false, knownHelpersOnly: false });
    // Compile now, so a syntax error stops the start rather than the first request.
    (template as Handlebars.TemplateDelegate & { _setup?: (options: object) => unknown })._setup?.({});
    return template;
  }

  private registerHelpers(): void {
    const env = this.env;
    const zone = this.options.timeZone;
    const helpers: Record<string, (...args: unknown[]) => unknown> = {
      /** Money as people read it: thousands separators, two decimals, negatives marked. */
      money: (value: unknown) => {
        if (value === null || value === undefined || value === '') return new env.SafeString('<span class="none">—</span>');
        const cents = typeof value === 'bigint' ? value : toCents(String(value));
        return new env.SafeString(moneySpan(cents, false));
      },
      /** With an explicit + for increases (variances, changes). */
      signedMoney: (value: unknown) => {
        if (value === null || value === undefined || value === '') return new env.SafeString('<span class="none">—</span>');
        const cents = typeof value === 'bigint' ? value : toCents(String(value));
        return new env.SafeString(moneySpan(cents, true));
      },
      /** `Mon, Mar 10, 2025, 7:05 AM CDT` in DAILY_SUMMARY_TZ. */
      date: (value: unknown) => (value ? displayDate(value instanceof Date ? value : new Date(String(value)), zone) : '—'),
      isoDate: (value: unknown) => (value ? (value instanceof Date ? value : new Date(String(value))).toISOString() : ''),
      statusLabel: (status: unknown) => STATUS_LABELS[status as SubmissionStatus] ?? String(status).replace(/_/g, ' '),
      actionLabel: (action: unknown) => ACTION_LABELS[String(action)] ?? String(action).replace(/[._]/g, ' '),
      eq: (a: unknown, b: unknown) => a === b,
      ne: (a: unknown, b: unknown) => a !== b,
      not: (a: unknown) => !a,
      and: (...args: unknown[]) => args.slice(0, -1).every(Boolean),
      or: (...args: unknown[]) => args.slice(0, -1).some(Boolean),
      gt: (a: unknown, b: unknown) => Number(a) > Number(b),
      number: (value: unknown) => (typeof value === 'number' ? value.toLocaleString('en-US') : String(value ?? '')),
      plural: (count: unknown, one: unknown, many: unknown) =>
        `${Number(count).toLocaleString('en-US')} ${Number(count) === 1 ? String(one) : String(many)}`,
      person: (value: unknown, fallback: unknown) => {
        const person = value as { name?: string } | null | undefined;
        return person?.name ?? (typeof fallback === 'string' ? fallback : '—');
      },
      /** A link to the same page with some query parameters changed: (query base "page" 2 …). */
      query: (base: unknown, ...rest: unknown[]) => {
        const pairs = rest.slice(0, -1);
        const [path, search = ''] = String(base).split('?');
        const params = new URLSearchParams(search);
        for (let i = 0; i + 1 < pairs.length; i += 2) {
          const value = pairs[i + 1];
          if (value === null || value === undefined || value === '') params.delete(String(pairs[i]));
          else params.set(String(pairs[i]), String(value));
        }
        const text = params.toString();
        return text ? `${path}?${text}` : path;
      },
      json: (value: unknown) => JSON.stringify(value ?? null),
    };
    for (const [name, helper] of Object.entries(helpers)) env.registerHelper(name, helper);
  }
}

/** `1,234,567.89`; negatives as `-1,234.50` in a marked span (colour is not the only cue). */
export function groupMoney(cents: Cents, signed = false): string {
  const plain = formatMoney(cents);
  const negative = plain.startsWith('-');
  const [whole, fraction] = (negative ? plain.slice(1) : plain).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const sign = negative ? '-' : signed && cents > 0n ? '+' : '';
  return `${sign}${grouped}.${fraction}`;
}

function moneySpan(cents: Cents, signed: boolean): string {
  const text = groupMoney(cents, signed);
  return cents < 0n ? `<span class="money negative">${text}</span>` : `<span class="money">${text}</span>`;
}
