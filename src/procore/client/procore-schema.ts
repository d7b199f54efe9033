/**
 * Small boundary validators for Procore responses. A check returns the (lightly normalised) value
 * or throws a {@link ShapeError} naming the path of the offending field. Objects keep the fields
 * they do not declare, so view columns and newer Procore fields pass through.
 */
import { MoneyFormatError, parseMoney } from '../../common/money';
import type {
  ProcoreBudgetChange,
  ProcoreBudgetLineItem,
  ProcoreBudgetLock,
  ProcoreBudgetView,
  ProcoreCompanyRef,
  ProcoreCompanyUser,
  ProcoreCostCode,
  ProcoreDetailRow,
  ProcoreLineItemType,
  ProcoreMoney,
  ProcoreProject,
  ProcoreWebhookHook,
  ProcoreWebhookResource,
  ProcoreWebhookTrigger,
} from './procore.types';

export class ShapeError extends Error {
  constructor(
    readonly at: string,
    readonly expected: string,
    readonly actual: unknown,
  ) {
    super(`${at || 'body'}: expected ${expected}, got ${describe(actual)}`);
  }
}

export type Check<T> = (value: unknown, at: string) => T;

/** A Procore id: a positive whole number (digit text is accepted and converted). */
export const id: Check<number> = (value, at) => {
  const number = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number <= 0) {
    throw new ShapeError(at, 'an id (positive whole number)', value);
  }
  return number;
};

/** A v2.0 id: text or a whole number, returned as text. */
export const textId: Check<string> = (value, at) => {
  if (typeof value === 'string' && value.trim()) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  throw new ShapeError(at, 'an id', value);
};

export const text: Check<string> = (value, at) => {
  if (typeof value !== 'string') throw new ShapeError(at, 'text', value);
  return value;
};

export const flag: Check<boolean> = (value, at) => {
  if (typeof value !== 'boolean') throw new ShapeError(at, 'true or false', value);
  return value;
};

/** An amount: a finite JSON number or decimal text that `parseMoney` reads. Returned as sent. */
export const money: Check<ProcoreMoney> = (value, at) => {
  if (typeof value === 'number' || typeof value === 'string') {
    try {
      parseMoney(value);
      return value;
    } catch (error) {
      if (!(error instanceof MoneyFormatError)) throw error;
    }
  }
  throw new ShapeError(at, 'an amount (number or decimal text)', value);
};

/** Something that may be an amount: text or a finite JSON number, returned as sent for the mapping
 * to parse (it flags a line whose amount is not one). Anything else is a shape error. */
export const amountLike: Check<ProcoreMoney> = (value, at) => {
  if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return value;
  throw new ShapeError(at, 'an amount (number or decimal text)', value);
};

/** An external (ERP) id: text, or a number converted to text; empty → null. */
export const originId: Check<string | null> = (value, at) => {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new ShapeError(at, 'an origin id (text)', value);
};

/** Absent or null → null; otherwise the inner check. */
export function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, at) => (value === null || value === undefined ? null : check(value, at));
}

/** Absent or null → `fallback`. */
export function withDefault<T>(check: Check<T>, fallback: T): Check<T> {
  return (value, at) => (value === null || value === undefined ? fallback : check(value, at));
}

type Shape = Record<string, Check<unknown>>;
type Checked<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> } & Record<string, unknown>;

export function object<S extends Shape>(shape: S): Check<Checked<S>> {
  return (value, at) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw new ShapeError(at, 'an object', value);
    }
    const source = value as Record<string, unknown>;
    const result: Record<string, unknown> = { ...source };
    for (const [key, check] of Object.entries(shape)) {
      result[key] = check(source[key], at ? `${at}.${key}` : key);
    }
    return result as Checked<S>;
  };
}

export function list<T>(check: Check<T>): Check<T[]> {
  return (value, at) => {
    if (!Array.isArray(value)) throw new ShapeError(at, 'a list', value);
    return value.map((item, index) => check(item, `${at}[${index}]`));
  };
}

/** A body Procore always wraps in `{"data": …}` (a bare payload is a shape error). */
export function wrapped<T>(check: Check<T>): Check<T> {
  return (value, at) => {
    if (!value || typeof value !== 'object' || Array.isArray(value) || !('data' in value)) {
      throw new ShapeError(at, 'an object with "data"', value);
    }
    return check((value as { data: unknown }).data, at ? `${at}.data` : 'data');
  };
}

/** v2.0 bodies wrap their payload in `{"data": …}`; accepts the bare payload as well. */
export function v2<T>(check: Check<T>): Check<T> {
  return (value, at) => {
    if (value && typeof value === 'object' && !Array.isArray(value) && 'data' in value) {
      return check((value as { data: unknown }).data, at ? `${at}.data` : 'data');
    }
    return check(value, at);
  };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return `text ${JSON.stringify(shown)}`;
  }
  return `${typeof value} ${String(value)}`;
}

// ---- Procore resources -------------------------------------------------------------------------

const companyRef: Check<ProcoreCompanyRef> = object({ id, name: nullable(text) });

export const projectCheck: Check<ProcoreProject> = object({
  id,
  name: text,
  project_number: nullable(text),
  active: flag,
  origin_id: originId,
  company: nullable(companyRef),
});

export const budgetLockCheck: Check<ProcoreBudgetLock> = object({ locked: flag });

export const budgetViewCheck: Check<ProcoreBudgetView> = object({ id, name: text });

export const detailRowCheck: Check<ProcoreDetailRow> = object({
  id,
  cost_code_id: nullable(id),
  cost_code: nullable(text),
  cost_code_origin_id: originId,
  category_id: nullable(id),
  category: nullable(text),
  original_budget_amount: nullable(amountLike),
  budget_modifications: nullable(amountLike),
});

export const costCodeCheck: Check<ProcoreCostCode> = object({
  id,
  code: nullable(text),
  full_code: nullable(text),
  name: nullable(text),
  origin_id: originId,
});

export const lineItemTypeCheck: Check<ProcoreLineItemType> = object({
  id,
  name: nullable(text),
  code: nullable(text),
  base_type: nullable(text),
  origin_id: originId,
});

export const budgetLineItemCheck: Check<ProcoreBudgetLineItem> = object({
  id,
  original_budget_amount: money,
  approved_budget_changes: nullable(money),
  budget_modifications: nullable(money),
  revised_budget: nullable(money),
  cost_code: nullable(costCodeCheck),
  line_item_type: nullable(lineItemTypeCheck),
});

export const budgetChangeCheck: Check<ProcoreBudgetChange> = object({
  id,
  status: text,
  erp_status: nullable(text),
});

export const companyUserCheck: Check<ProcoreCompanyUser> = object({
  id,
  name: nullable(text),
  email_address: nullable(text),
  is_active: flag,
  erp_integrated_accountant: withDefault(flag, false),
});

export const webhookHookCheck: Check<ProcoreWebhookHook> = object({
  id: textId,
  namespace: text,
  destination_url: text,
  payload_version: nullable(text),
});

/** A v1.0 hook, named as v2.0 names it (`api_version` → `payload_version`, id as text). */
export const v1WebhookHookCheck: Check<ProcoreWebhookHook> = (value, at) => {
  const hook = object({ id: textId, namespace: text, destination_url: text, api_version: nullable(text) })(value, at);
  return { ...hook, payload_version: hook.api_version };
};

export const webhookTriggerCheck: Check<ProcoreWebhookTrigger> = object({
  id: textId,
  resource_name: text,
  event_type: text,
});

const EVENT_TYPES = ['create', 'update', 'delete'];

/** A v2.0 webhook resource: `name` and the `actions` offered. */
export const webhookResourceCheck: Check<ProcoreWebhookResource> = (value, at) => {
  const item = object({ name: text, actions: list(text) })(value, at);
  return { name: item.name, actions: item.actions.map((action) => action.toLowerCase()) };
};

/** A v1.0 webhook resource: the name is `tools`; every event type is offered but those in `except`. */
export const v1WebhookResourceCheck: Check<ProcoreWebhookResource> = (value, at) => {
  const item = object({ tools: text, except: withDefault(list(text), [] as string[]) })(value, at);
  const excluded = new Set(item.except.map((event) => event.toLowerCase()));
  return { name: item.tools, actions: EVENT_TYPES.filter((event) => !excluded.has(event)) };
};
