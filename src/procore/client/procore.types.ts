/**
 * Procore resources as the public REST API sends them (snake_case, see docs/procore.md and the
 * published shapes in test/fixtures/procore/). The client validates every field declared here at the boundary;
 * fields Procore sends beyond these are passed through untouched.
 */

/** Money as Procore sends it: a JSON number on some endpoints, decimal text on others. Convert
 * with `parseMoney` from `src/common/money.ts`; never do arithmetic on it directly. */
export type ProcoreMoney = string | number;

export interface ProcoreCompanyRef {
  id: number;
  name: string | null;
}

export interface ProcoreProject {
  id: number;
  name: string;
  project_number: string | null;
  active: boolean;
  /** The ERP job number when the project was synced from the ERP; normalised to text. */
  origin_id: string | null;
  company: ProcoreCompanyRef | null;
  [field: string]: unknown;
}

export interface ProcoreBudgetLock {
  locked: boolean;
}

/** Result of lock/unlock: `changed` is false when the budget already was in that state. */
export interface ProcoreBudgetLockChange {
  locked: boolean;
  changed: boolean;
}

export interface ProcoreBudgetView {
  id: number;
  name: string;
  [field: string]: unknown;
}

/** One budget line of a budget view. Besides the fields below Procore sends one key per visible
 * column of the view, keyed by the column's display name (`"Approved COs"`, `"Revised Budget"`,
 * `"Pending Budget Changes"`, …, values decimal text; test/fixtures/procore/
 * list-budget-view-detail-rows.json): read them through the index signature, by name
 * (`findColumn` in mapping/budget-mapping.ts). Amounts are checked to be text or numbers here and
 * parsed by the mapping, which flags a line whose amounts are not amounts. */
export interface ProcoreDetailRow {
  /** The budget line item id. */
  id: number;
  cost_code_id: number | null;
  /** e.g. `"01-100 - General Conditions"`. */
  cost_code: string | null;
  cost_code_origin_id: string | null;
  category_id: number | null;
  /** The category (line item type) name, e.g. `"Labor"`. */
  category: string | null;
  original_budget_amount: ProcoreMoney | null;
  budget_modifications: ProcoreMoney | null;
  [column: string]: unknown;
}

export interface ProcoreDetailRowFilters {
  costCodeIds?: number[];
  categoryIds?: number[];
}

export interface ProcoreCostCode {
  id: number;
  code: string | null;
  full_code: string | null;
  name: string | null;
  origin_id: string | null;
  [field: string]: unknown;
}

export interface ProcoreLineItemType {
  id: number;
  name: string | null;
  code: string | null;
  base_type: string | null;
  origin_id: string | null;
  [field: string]: unknown;
}

/** One budget line item (test/fixtures/procore/show-budget-line-item.json): amounts as text with
 * one or two decimals (`"45000.0"`). It has no creator, creation time or description. */
export interface ProcoreBudgetLineItem {
  id: number;
  original_budget_amount: ProcoreMoney;
  approved_budget_changes: ProcoreMoney | null;
  budget_modifications: ProcoreMoney | null;
  revised_budget: ProcoreMoney | null;
  cost_code: ProcoreCostCode | null;
  line_item_type: ProcoreLineItemType | null;
  [field: string]: unknown;
}

export type ProcoreBudgetChangeStatus = 'draft' | 'approved' | 'under_review' | 'void';

export type ProcoreErpStatus =
  | 'not_in_erp'
  | 'ready_to_export'
  | 'exporting'
  | 'failed_to_export'
  | 'rejected'
  | 'invalid'
  | 'synced'
  | 'not_integrated';

export interface ProcoreBudgetChange {
  id: number;
  /** One of {@link ProcoreBudgetChangeStatus}; kept as text so a new Procore status does not
   * break ingestion. */
  status: string;
  /** One of {@link ProcoreErpStatus}, or null. */
  erp_status: string | null;
  [field: string]: unknown;
}

export interface ProcoreCompanyUser {
  id: number;
  name: string | null;
  email_address: string | null;
  is_active: boolean;
  /** The API face of "Can Push to Accounting". Missing is read as false. */
  erp_integrated_accountant: boolean;
  [field: string]: unknown;
}

/** Where a hook lives: the company (no `projectId`) or one project. */
export interface WebhookScope {
  projectId?: number;
}

/** A webhook hook (v2.0, or v1.0 normalised to v2.0's names); ids are text. Listed hooks may show
 * `destination_headers.Authorization` masked to its last 5 characters. */
export interface ProcoreWebhookHook {
  id: string;
  namespace: string;
  destination_url: string;
  payload_version: string | null;
  destination_headers?: Record<string, unknown> | null;
  [field: string]: unknown;
}

/** A trigger of a hook. `event_type` as Procore lists it: possibly `CREATE` or `CREATED`. */
export interface ProcoreWebhookTrigger {
  id: string;
  resource_name: string;
  event_type: string;
  [field: string]: unknown;
}

/** A resource hooks of some scope may trigger on, and the event types it offers (lower case). */
export interface ProcoreWebhookResource {
  name: string;
  actions: string[];
}

export type ProcoreWebhookEventType = 'create' | 'update' | 'delete';

/** The body Procore POSTs to a hook's destination (payload version v2). */
export interface ProcoreWebhookPayload {
  id: number;
  ulid?: string;
  timestamp: string;
  user_id: number | null;
  company_id: number;
  project_id: number | null;
  api_version: 'v2';
  event_type: ProcoreWebhookEventType | string;
  resource_name: string;
  resource_id: number;
  metadata: Record<string, unknown>;
}

/** One page of a paged list. */
export interface ProcorePage<T> {
  items: T[];
  /** 1-based page number. */
  page: number;
  /** Page size Procore applied (its `Per-Page` header), else the one requested. */
  perPage: number;
  /** Procore's `Total` header, when sent. */
  total?: number;
}
