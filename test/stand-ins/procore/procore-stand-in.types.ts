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

/**
 * The standard columns a budget view can show, by the display names Procore keys detail rows with
 * (test/fixtures/procore/list-budget-view-detail-rows.json), in the published order.
 */
export const STANDARD_VIEW_COLUMNS = [
  'Approved COs',
  'Committed Costs',
  'Direct Costs',
  'Pending Budget Changes',
  'Pending Cost Changes',
  'Estimated Cost at Completion',
  'Job to Date Costs',
  'Projected Budget',
  'Projected Costs',
  'Projected over Under',
  'Revised Budget',
] as const;

export type StandardViewColumn = (typeof STANDARD_VIEW_COLUMNS)[number];

/** A view column: a standard column by its display name, or one renamed (`{name: 'Revised
 * Estimate', source: 'Revised Budget'}`), as views can rename columns. */
export type BudgetViewColumn = StandardViewColumn | { name: string; source: StandardViewColumn };

export interface StandInBudgetView {
  id: number;
  project_id: number;
  name: string;
  description: string | null;
  /** Display name → the standard column it shows. */
  columns: Array<{ name: string; source: StandardViewColumn }>;
}

export interface StandInUserRef {
  id: number;
  login: string;
  name: string;
}

/** One budget line as the stand-in holds it; amounts are exact decimal text. */
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
  original_budget_amount: string;
  /** Budget modifications (transfers): destroyed by an unlock without
   * `destroy_all_budget_line_item_transfers=false`. */
  budget_modifications: string;
  approved_cos: string;
  approved_budget_changes: string;
  pending_budget_changes: string;
  committed_costs: string;
  direct_costs: string;
  pending_cost_changes: string;
  /** original + modifications + approved COs + approved budget changes, unless seeded otherwise. */
  revised_budget: string;
}

export interface BudgetLineInput {
  id?: number;
  /** Full cost code, e.g. `"01-100"`; created in the project when new. */
  costCode: string;
  /** Name for a new cost code. */
  costCodeName?: string;
  /** Line item type code (`"L"`) or name (`"Labor"`); created for the company when new. */
  category: string;
  originalBudget: string | number;
  budgetModifications?: string | number;
  approvedCos?: string | number;
  approvedBudgetChanges?: string | number;
  pendingBudgetChanges?: string | number;
  committedCosts?: string | number;
  directCosts?: string | number;
  /** Overrides the computed revised budget (to model a view formula). */
  revisedBudget?: string | number;
}

export interface StandInBudgetChange {
  id: number;
  project_id: number;
  number: number;
  title: string;
  status: 'draft' | 'approved' | 'under_review' | 'void';
  erp_status: string | null;
  /** Exact decimal text; sent as a JSON number, as the reference types it. */
  amount: string;
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

/** A webhook hook, company-level (`project_id` null) or project-level. `destination_headers` are
 * held unmasked here; the API lists them masked. */
export interface StandInHook {
  id: string;
  company_id: number;
  project_id: number | null;
  namespace: string;
  destination_url: string;
  destination_headers: Record<string, string>;
  payload_version: string;
  created_at: string;
}

export type WebhookEventType = 'create' | 'update' | 'delete';

export interface StandInTrigger {
  id: string;
  hook_id: string;
  resource_name: string;
  /** Held in its canonical form; the API lists it as `webhooks.eventTypeStyle` says. */
  event_type: WebhookEventType;
  created_at: string;
}

/** A resource a hook of some scope may trigger on (`GET …/webhooks/resources`). */
export interface WebhookResource {
  name: string;
  category: string;
  tool: string;
  actions: WebhookEventType[];
}

export interface WebhookBehaviour {
  /** `v2`: the v2.0 and v1.0 hooks APIs answer; `v1`: the v2.0 hooks endpoints answer 404 (a
   * company where only the developer guide's v1.0 hooks API is available). Default `v2`. */
  api: 'v2' | 'v1';
  /** Listed hooks show `Authorization` as five asterisks and its last 5 characters (inferred from
   * the reference's wording). Default true. */
  maskSecrets: boolean;
  /** How triggers list their event types: `past-upper` (`CREATED`, the v2.0 reference's example),
   * `upper` (`CREATE`, the v1.0 enum) or `lower` (as created). v1.0 lists use `upper` unless
   * `lower`. Default `past-upper`. */
  eventTypeStyle: 'past-upper' | 'upper' | 'lower';
  /** Resources offered to company-level hooks. Default: the sandbox listing's (no budget
   * resources; Projects create/update). */
  companyResources: WebhookResource[];
  /** Resources offered to project-level hooks. Default: the budget and cost-code resources. */
  projectResources: WebhookResource[];
}

/** The body Procore POSTs to a hook (payload v2, as plan_your_app/webhooks.md publishes it). */
export interface WebhookEvent {
  id: number | string;
  ulid: string;
  timestamp: string;
  metadata: Record<string, unknown>;
  user_id: number | null;
  company_id: number;
  project_id: number | null;
  api_version: string;
  event_type: string;
  resource_name: string;
  resource_id: number;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** The parsed JSON body of an API request (never the token request's form). */
  body?: unknown;
  /** 0 while unanswered, or when the connection was dropped. */
  status: number;
  /** Epoch milliseconds at arrival. */
  at: number;
  durationMs: number;
  /** The client hung up before the answer was sent (e.g. its timeout). */
  aborted: boolean;
  /** The answer's headers (its `Date` included), once sent. */
  headers?: Record<string, string>;
}

/** One `DELETE …/budget/lock` that reached the budget (whatever its answer). */
export interface UnlockRequest {
  projectId: number;
  /** The query parameter as sent, or null when absent (Procore's default: true). */
  destroyAllBudgetLineItemTransfers: string | null;
  /** Whether the budget's modifications were destroyed. */
  destroyedModifications: boolean;
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
