/*
 * Longer than 400 lines because the renderer, its Handlebars helpers and the start-up check of
 * every template share one environment per format (HTML, text); each function is short.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Handlebars from 'handlebars';
import { Cents, formatMoney } from '../common/money';
import { budgetLinks, EMAIL_KINDS, EmailKind, EmailModels, EmailPerson, VarianceStatus } from './email-content';

/**
 * Renders the notification emails from the Handlebars files in `templates/`:
 *
 *   layouts/html.hbs, layouts/text.hbs     the shared frame of every email (a partial block)
 *   partials/html/*.hbs, partials/text/*.hbs
 *   <kind>/subject.hbs, <kind>/html.hbs, <kind>/text.hbs
 *
 * Everything is read, parsed, compiled and checked once, in the constructor: a syntax error, a missing file,
 * an unknown partial or helper, or an unescaped `{{{ }}}` in an HTML template stops the service
 * at start, not at 7 am. Templates run in strict mode, so a missing value throws instead of
 * rendering blank. HTML parts escape every value; text parts and subjects come from a second
 * Handlebars environment with `noEscape`, so a reason reads exactly as it was typed.
 */

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export interface TemplateRendererOptions {
  /** Base of every link (PUBLIC_URL). */
  publicUrl: string;
  /** IANA zone dates are shown in (DAILY_SUMMARY_TZ). */
  timeZone: string;
  /** Defaults to `templates/` beside this file (the build copies the .hbs files to dist/). */
  templatesDir?: string;
}

export class TemplateRenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateRenderError';
  }
}

type Part = 'subject' | 'html' | 'text';
type Mode = 'html' | 'text';
type Env = typeof Handlebars;
type Template = Handlebars.TemplateDelegate;

interface Loaded {
  file: string;
  mode: Mode;
  ast: hbs.AST.Program;
  template: Template;
}

const PARTS: readonly Part[] = ['subject', 'html', 'text'];
const STRICT_BUILTINS = ['if', 'unless', 'each', 'with'] as const;
const NONE = '—';

export class TemplateRenderer {
  private readonly envs: Record<Mode, Env>;
  private readonly templates = new Map<EmailKind, Record<Part, Template>>();

  constructor(private readonly options: TemplateRendererOptions) {
    const dir = options.templatesDir ?? join(__dirname, 'templates');
    if (!existsSync(dir)) throw new TemplateRenderError(`email templates not found in ${dir}`);
    // Fails early on an unknown zone rather than on the first email.
    dateFormatter(options.timeZone);

    this.envs = { html: this.createEnv('html'), text: this.createEnv('text') };
    const loaded: Loaded[] = [];
    const load = (mode: Mode, file: string): Template => {
      const item = this.load(this.envs[mode], mode, file);
      loaded.push(item);
      return item.template;
    };
    for (const mode of ['html', 'text'] as const) {
      const env = this.envs[mode];
      env.registerPartial('layout', load(mode, join(dir, 'layouts', `${mode}.hbs`)));
      const partialsDir = join(dir, 'partials', mode);
      for (const file of readdirSync(partialsDir).filter((f) => f.endsWith('.hbs')).sort()) {
        env.registerPartial(basename(file, '.hbs'), load(mode, join(partialsDir, file)));
      }
    }
    for (const kind of EMAIL_KINDS) {
      const compiled = {} as Record<Part, Template>;
      for (const part of PARTS) compiled[part] = load(part === 'html' ? 'html' : 'text', join(dir, kind, `${part}.hbs`));
      this.templates.set(kind, compiled);
    }
    // Checked once everything is registered, so partials may use each other in any order.
    for (const item of loaded) {
      try {
        checkTemplate(item.ast, this.envs[item.mode], item.mode);
      } catch (error) {
        throw new TemplateRenderError(`${item.file}: ${(error as Error).message}`);
      }
    }
  }

  /** The subject, HTML and text parts of one email. */
  render<K extends EmailKind>(kind: K, model: EmailModels[K]): RenderedEmail {
    const templates = this.templates.get(kind);
    if (!templates) throw new TemplateRenderError(`unknown email kind: ${String(kind)}`);
    const hole = findUndefined(model, 'model');
    if (hole) throw new TemplateRenderError(`${kind}: ${hole} is undefined (use null for "none")`);

    const run = (part: Part): string => {
      try {
        return templates[part](model);
      } catch (error) {
        throw new TemplateRenderError(`${kind}/${part}.hbs: ${(error as Error).message}`);
      }
    };
    return {
      // One line, no header injection: CR/LF and runs of blanks become one space.
      subject: run('subject').replace(/\s+/g, ' ').trim(),
      html: run('html'),
      text: tidyText(run('text')),
    };
  }

  private load(env: Env, mode: Mode, file: string): Loaded {
    if (!existsSync(file)) throw new TemplateRenderError(`email template missing: ${file}`);
    try {
      const ast = env.parse(readFileSync(file, 'utf8'));
      const template = env.compile(ast, compileOptions(mode));
      // Handlebars compiles lazily, on first use; setting the template up compiles it now, so
      // every error surfaces at start and rendering only runs cached code.
      (template as Template & { _setup?: (options: object) => unknown })._setup?.({});
      return { file, mode, ast, template };
    } catch (error) {
      throw new TemplateRenderError(`${file}: ${(error as Error).message}`);
    }
  }

  private createEnv(mode: Mode): Env {
    const env = Handlebars.create();
    const links = budgetLinks(this.options.publicUrl);
    const timeZone = this.options.timeZone;

    // Built-in block helpers throw on a missing value instead of treating it as false or empty.
    // (Only the check is wrapped by naming(): errors from the block's own content pass untouched.)
    for (const name of STRICT_BUILTINS) {
      const builtin = env.helpers[name] as HelperFn;
      const check = naming((value: unknown) => {
        if (value === undefined) throw new Error(`{{#${name}}} got a missing value`);
      });
      env.registerHelper(name, function (this: unknown, ...args: unknown[]) {
        if (args.length !== 2) throw new Error(`{{#${name}}} takes exactly one value`);
        check(args[0], args[1]);
        return builtin.apply(this, args);
      });
    }

    const helpers: Record<string, HelperFn> = {
      /** `1,234,567.89`, `-12.05`; null renders as a dash. */
      money: (value: unknown) => (value === null ? NONE : displayMoney(cents('money', value))),
      /** Like money with an explicit sign: `+1,000.00`, `-5.00`, `0.00`. */
      signedMoney: (value: unknown) => {
        const amount = cents('signedMoney', value);
        return amount > 0n ? `+${displayMoney(amount)}` : displayMoney(amount);
      },
      negative: (value: unknown) => value !== null && cents('negative', value) < 0n,
      /** Sum of one money field over a list. */
      total: (list: unknown, field: unknown) => {
        if (!Array.isArray(list) || typeof field !== 'string') throw new Error('{{total}} needs a list and a field name');
        return list.reduce<Cents>((sum, item: Record<string, unknown>) => sum + cents('total', item[field]), 0n);
      },
      /** `Mon, Mar 10, 2025, 7:05 AM CDT` in the configured zone. */
      date: (value: unknown) => displayDate(value, timeZone),
      /** `Monday, March 10, 2025`. */
      day: (value: unknown) => displayDay(value, timeZone),
      /** `3 budgets await`: plural n "budget awaits" "budgets await". */
      plural: (count: unknown, one: unknown, many: unknown) => {
        if (typeof count !== 'number') throw new Error('{{plural}} needs a number');
        return `${count.toLocaleString('en-US')} ${count === 1 ? String(one) : String(many)}`;
      },
      inc: (value: unknown) => {
        if (typeof value !== 'number') throw new Error('{{inc}} needs a number');
        return value + 1;
      },
      eq: (a: unknown, b: unknown) => a === b,
      concat: (...args: unknown[]) => {
        const parts = args.slice(0, -1);
        if (parts.some((part) => part === undefined || part === null)) throw new Error('{{concat}} got a missing value');
        return parts.map(String).join('');
      },
      /** Left-aligns a label in text columns. */
      pad: (value: unknown, width: unknown) => String(value).padEnd(Number(width)),
      /** A person's name, or the fallback for null. */
      person: (value: unknown, fallback: unknown) => {
        const person = personOrNull('person', value);
        return person ? person.name : String(fallback);
      },
      /** `Dana Ruiz (dana@example.com)`, or the fallback for null. */
      contact: (value: unknown, fallback: unknown) => {
        const person = personOrNull('contact', value);
        if (!person) return String(fallback);
        return person.email ? `${person.name} (${person.email})` : person.name;
      },
      capitalize: (value: unknown) => {
        const word = text('capitalize', value);
        return word.charAt(0).toUpperCase() + word.slice(1);
      },
      /** A text-part heading rule as long as its title. */
      underline: (value: unknown) => '='.repeat(text('underline', value).length),
      varianceStatus: (value: unknown) => varianceLabel(value),
      budgetUrl: (id: unknown) => links.budget(text('budgetUrl', id)),
      budgetListUrl: (status: unknown) => links.budgetList(text('budgetListUrl', status)),
      reconciliationUrl: (id: unknown) => links.reconciliation(text('reconciliationUrl', id)),
      publicUrl: () => links.home,
      /** Free text over several lines: escaped, lines kept (as <br> in HTML). */
      multiline: (value: unknown) => {
        const raw = text('multiline', value).replace(/\r\n?/g, '\n');
        if (mode === 'text') return raw;
        const escaped = raw.split('\n').map((line) => env.Utils.escapeExpression(line));
        return new env.SafeString(escaped.join('<br>\n'));
      },
    };
    for (const [name, helper] of Object.entries(helpers)) env.registerHelper(name, naming(helper));
    return env;
  }
}

type HelperFn = (...args: unknown[]) => unknown;

/**
 * Wraps a helper so its errors name the values it was given, e.g. "{{money}} needs bigint
 * cents, got undefined (submissions.1.revisedEstimate)". Templates are compiled with `trackIds`,
 * which hands helpers the paths of their arguments.
 */
function naming(helper: HelperFn): HelperFn {
  return function (this: unknown, ...args: unknown[]) {
    try {
      return helper.apply(this, args);
    } catch (error) {
      const options = args[args.length - 1] as { ids?: unknown[]; data?: { contextPath?: unknown } } | undefined;
      const base = typeof options?.data?.contextPath === 'string' ? options.data.contextPath : '';
      const paths = (options?.ids ?? [])
        .filter((id): id is string => typeof id === 'string' && id !== '')
        .map((id) => (base && !/^(\.\.\/|@)/.test(id) ? `${base}.${id}` : id));
      const message = (error as Error).message;
      throw new Error(paths.length ? `${message} (${paths.join(', ')})` : message);
    }
  };
}

/** Accounting display of cents: grouped thousands, two decimals, a leading minus when negative. */
export function displayMoney(amount: Cents): string {
  const plain = formatMoney(amount);
  const negative = plain.startsWith('-');
  const [whole, fraction] = (negative ? plain.slice(1) : plain).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}.${fraction}`;
}

/** `Mon, Mar 10, 2025, 7:05 AM CDT`. */
export function displayDate(value: unknown, timeZone: string): string {
  return plainSpaces(dateFormatter(timeZone).format(validDate('date', value)));
}

/** `Monday, March 10, 2025`. */
export function displayDay(value: unknown, timeZone: string): string {
  return plainSpaces(dayFormatter(timeZone).format(validDate('day', value)));
}

const VARIANCE_LABELS: Record<VarianceStatus, string> = {
  matched: 'Matches',
  amount_differs: 'Amount differs',
  missing_in_spectrum: 'Missing in Spectrum',
  not_in_budget: 'Not in the budget',
  duplicate_in_budget: 'Two budget rows on one Spectrum row',
  duplicate_in_spectrum: 'Several records in Spectrum',
  unreadable: 'Could not be read',
};

function varianceLabel(value: unknown): string {
  const label = Object.hasOwn(VARIANCE_LABELS, String(value)) ? VARIANCE_LABELS[value as VarianceStatus] : undefined;
  if (!label) throw new Error(`{{varianceStatus}} got an unknown status: ${String(value)}`);
  return label;
}

function compileOptions(mode: Mode): CompileOptions & { trackIds: boolean } {
  // trackIds: helpers learn the paths of their arguments, for error messages (see naming()).
  return { strict: true, noEscape: mode === 'text', trackIds: true };
}

function personOrNull(helper: string, value: unknown): EmailPerson | null {
  if (value === null) return null;
  if (!value || typeof value !== 'object' || typeof (value as EmailPerson).name !== 'string') {
    throw new Error(`{{${helper}}} needs a person or null, got ${describe(value)}`);
  }
  return value as EmailPerson;
}

function cents(helper: string, value: unknown): Cents {
  if (typeof value !== 'bigint') throw new Error(`{{${helper}}} needs bigint cents, got ${describe(value)}`);
  return value;
}

function text(helper: string, value: unknown): string {
  if (typeof value !== 'string') throw new Error(`{{${helper}}} needs a string, got ${describe(value)}`);
  return value;
}

function validDate(helper: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new Error(`{{${helper}}} needs a valid Date, got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (value instanceof Date) return 'an invalid Date';
  return typeof value;
}

const dateFormatters = new Map<string, Intl.DateTimeFormat>();
const dayFormatters = new Map<string, Intl.DateTimeFormat>();

function dateFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = dateFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      timeZoneName: 'short',
    });
    dateFormatters.set(timeZone, formatter);
  }
  return formatter;
}

function dayFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = dayFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, dateStyle: 'full' });
    dayFormatters.set(timeZone, formatter);
  }
  return formatter;
}

/** ICU puts narrow no-break spaces before AM/PM; plain spaces read better in every client. */
function plainSpaces(value: string): string {
  return value.replace(/[\u202f\u00a0]/g, ' ');
}

/** Trailing blanks off every line, at most one empty line in a row, one final newline. */
function tidyText(value: string): string {
  return `${value
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

/** The path of the first `undefined` inside a view model, if any. */
function findUndefined(value: unknown, path: string, depth = 0): string | null {
  if (value === undefined) return path;
  if (depth > 8 || value === null || typeof value !== 'object' || value instanceof Date) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hole = findUndefined(value[i], `${path}[${i}]`, depth + 1);
      if (hole) return hole;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const hole = findUndefined(item, `${path}.${key}`, depth + 1);
    if (hole) return hole;
  }
  return null;
}

interface AstNode {
  type?: string;
  [key: string]: unknown;
}

/**
 * Start-time checks on a parsed template: every partial and helper it names exists, and an HTML
 * template never outputs a value unescaped (`{{{ }}}` or `{{& }}`).
 */
function checkTemplate(ast: unknown, env: Env, mode: Mode): void {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const n = node as AstNode;
    const path = n.path as AstNode | undefined;
    const name = n.name as AstNode | undefined;
    if ((n.type === 'PartialStatement' || n.type === 'PartialBlockStatement') && name?.type === 'PathExpression') {
      const partial = String(name.original);
      if (partial !== '@partial-block' && !(partial in env.partials)) {
        throw new Error(`unknown partial "${partial}"`);
      }
    }
    if (
      (n.type === 'MustacheStatement' || n.type === 'BlockStatement' || n.type === 'SubExpression') &&
      path?.type === 'PathExpression' &&
      ((n.params as unknown[]).length > 0 || n.hash) &&
      !(String(path.original) in env.helpers)
    ) {
      throw new Error(`unknown helper "${String(path.original)}"`);
    }
    if (mode === 'html' && n.type === 'MustacheStatement' && n.escaped === false) {
      const loc = n.loc as { start?: { line: number } } | undefined;
      throw new Error(`unescaped output {{{ }}} at line ${loc?.start?.line ?? '?'}: HTML templates escape every value`);
    }
    for (const [key, child] of Object.entries(n)) {
      if (key !== 'loc' && child && typeof child === 'object') visit(child);
    }
  };
  visit(ast);
}
