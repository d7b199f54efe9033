/** State held by the Procore stand-in, and the inputs used to seed it. */

export interface StandInCompany {
  id: number;
  name: string;
}

export interface StandInProject {
  id: number;
  name: string;
  project_number: string | null;
  active: boolean;
  /** The ERP job number when the project came from the ERP. */
  origin_id: string | null;
}

export interface StandInCostCode {
  id: number;
  project_id: number;
  /** The last segment, e.g. `"100"`. */
  code: string;
  /** e.g. `"01-100"`. */
  full_code: string;
  name: string;
  origin_id: string | null;
}

export interface StandInLineItemType {
  id: number;
  name: string;
  code: string;
  base_type: string;
  origin_id: string | null;
}

/** Optional columns a budget view shows (and its detail rows then carry). */
export type BudgetViewColumn = 'approved_cos' | 'revised_budget' | 'pending_budget_changes';

export interface StandInBudgetView {
  id: number;
  project_id: number;
  name: string;
  description: string | null;
  columns: BudgetViewColumn[];
}

export interface StandInUserRef {
  id: number;
  login: string;
  name: string;
}

/** One budget line; amounts are exact decimal text. */
export interface StandInBudgetLine {
  id: number;
  project_id: number;
  cost_code_id: number;
  /** As detail rows show it: `"01-100 - General Conditions"`. */
  cost_code: string;
  cost_code_origin_id: string | null;
  category_id: number;
  /** The category (line item type) name. */
  category: string;
  description: string | null;
  original_budget_amount: string;
  budget_modifications: string;
  approved_cos: string;
  pending_budget_changes: string;
  /** original + modifications + approved COs, unless seeded otherwise. */
  revised_budget: string;
  uom: string | null;
  quantity: string | null;
  unit_cost: string | null;
  created_at: string;
  created_by: StandInUserRef | null;
}

export interface BudgetLineInput {
  id?: number;
  /** Full cost code, e.g. `"01-100"`; created in the project when new. */
  costCode: string;
  /** Name for a new cost code. */
  costCodeName?: string;
  /** Line item type code (`"L"`) or name (`"Labor"`); created for the company when new. */
  category: string;
  description?: string | null;
  originalBudget: string | number;
  budgetModifications?: string | number;
  approvedCos?: string | number;
  pendingBudgetChanges?: string | number;
  /** Overrides the computed revised budget (to model a view formula). */
  revisedBudget?: string | number;
  uom?: string | null;
  quantity?: string | number | null;
  unitCost?: string | number | null;
  createdAt?: string;
  createdBy?: StandInUserRef | null;
}

export interface StandInBudgetChange {
  id: number;
  project_id: number;
  number: string;
  title: string;
  status: 'draft' | 'approved' | 'under_review' | 'void';
  erp_status: string | null;
  amount: string;
  created_at: string;
}

export interface StandInUser {
  id: number;
  name: string;
  first_name: string | null;
  last_name: string | null;
  email_address: string;
  is_active: boolean;
  erp_integrated_accountant: boolean;
  job_title: string | null;
}

export interface StandInHook {
  id: string;
  company_id: number;
  namespace: string;
  destination_url: string;
  destination_headers: Record<string, string>;
  payload_version: string;
  created_at: string;
}

export interface StandInTrigger {
  id: string;
  hook_id: string;
  resource_name: string;
  event_type: string;
  created_at: string;
}

export interface WebhookEvent {
  id: number;
  ulid: string;
  timestamp: string;
  user_id: number | null;
  company_id: number;
  project_id: number | null;
  api_version: 'v2';
  event_type: string;
  resource_name: string;
  resource_id: number;
  metadata: Record<string, unknown>;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** 0 while unanswered, or when the connection was dropped. */
  status: number;
  /** Epoch milliseconds at arrival. */
  at: number;
  durationMs: number;
  /** The client hung up before the answer was sent (e.g. its timeout). */
  aborted: boolean;
}

export interface RequestFilter {
  method?: string;
  /** Text contained in the path, or a pattern tested against it. */
  path?: string | RegExp;
  status?: number;
}

export interface FaultFilter {
  method?: string;
  /** Text contained in the path, or a pattern. Default: every API path (not `/oauth/token`). */
  path?: string | RegExp;
  /** Let this many matching requests through before the fault applies. */
  skip?: number;
}
