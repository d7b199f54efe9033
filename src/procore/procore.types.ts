/**
 * Procore resources as the public REST API sends them (snake_case, see
 * docs/spec procore-api.md). The client validates every field declared here at the boundary;
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
 * column of the view (`approved_cos`, `revised_budget`, `pending_budget_changes`, …); the
 * commonly used ones are typed, the rest stay available through the index signature. */
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
  original_budget_amount: ProcoreMoney;
  budget_modifications: ProcoreMoney | null;
  approved_cos: ProcoreMoney | null;
  revised_budget: ProcoreMoney | null;
  pending_budget_changes: ProcoreMoney | null;
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

export interface ProcoreUserRef {
  id: number;
  login: string | null;
  name: string | null;
}

export interface ProcoreBudgetLineItem {
  id: number;
  description: string | null;
  original_budget_amount: ProcoreMoney;
  approved_budget_changes: ProcoreMoney | null;
  /** Original budget + approved budget changes. */
  revised_budget: ProcoreMoney | null;
  cost_code: ProcoreCostCode | null;
  line_item_type: ProcoreLineItemType | null;
  uom: string | null;
  quantity: ProcoreMoney | null;
  unit_cost: ProcoreMoney | null;
  created_at: string | null;
  created_by: ProcoreUserRef | null;
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

/** v2.0 webhook hook. v2.0 ids are normalised to text. */
export interface ProcoreWebhookHook {
  id: string;
  namespace: string;
  destination_url: string;
  payload_version: string | null;
  [field: string]: unknown;
}

export interface ProcoreWebhookTrigger {
  id: string;
  resource_name: string;
  event_type: string;
  [field: string]: unknown;
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
