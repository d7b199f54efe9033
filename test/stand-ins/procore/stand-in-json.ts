/**
 * The stand-in's response bodies, built on the published shapes in test/fixtures/procore: every
 * object the stand-in sends has exactly the key set (and order) of its fixture's example, so the
 * stand-in cannot drift from what Procore publishes. A value the stand-in does not supply for a
 * published key, or a key it adds, is a bug in the stand-in and throws.
 */
import { procoreFixture } from '../../fixtures/procore';
import { Scaled, fromScaled, sumScaled, toScaled } from './stand-in-decimal';
import type {
  StandardViewColumn,
  StandInBudgetChange,
  StandInBudgetLine,
  StandInCostCode,
  StandInLineItemType,
  StandInUser,
  StandInUserRef,
} from './procore-stand-in.types';

type Json = Record<string, unknown>;

/** `values` laid out on the published key set of `template`. */
export function conform(template: Json, values: Json, what: string): Json {
  const out: Json = {};
  for (const key of Object.keys(template)) {
    if (!(key in values)) throw new Error(`stand-in: ${what} has no value for the published key "${key}"`);
    out[key] = values[key];
  }
  for (const key of Object.keys(values)) {
    if (!(key in template)) throw new Error(`stand-in: ${what} would send "${key}", which the published shape lacks`);
  }
  return out;
}

const detailFixture = procoreFixture('list-budget-view-detail-rows');
const VIEW_COLUMN_NAMES = new Set<string>(detailFixture.viewColumns as string[]);
/** The detail row's own keys (the published row without its view columns). */
export const DETAIL_ROW_TEMPLATE: Json = Object.fromEntries(
  Object.entries(detailFixture.response.body[0] as Json).filter(([key]) => !VIEW_COLUMN_NAMES.has(key)),
);
export const LINE_ITEM_TEMPLATE: Json = procoreFixture('show-budget-line-item').response.body;
export const BUDGET_VIEW_TEMPLATE: Json = procoreFixture('list-budget-views').response.body[0];
export const PROJECT_TEMPLATE: Json = procoreFixture('list-projects').response.body[0];
export const COST_CODE_TEMPLATE: Json = procoreFixture('list-cost-codes').response.body[0];
export const LINE_ITEM_TYPE_TEMPLATE: Json = procoreFixture('list-line-item-types').response.body[0];
export const COMPANY_USER_TEMPLATE: Json = procoreFixture('list-company-users').response.body[0];
export const BUDGET_CHANGE_TEMPLATE: Json = procoreFixture('list-budget-changes').response.body.data[0];
export const TOKEN_TEMPLATE: Json = procoreFixture('oauth-token').response.body;
export const WEBHOOK_EVENT_TEMPLATE: Json = procoreFixture('webhook-event').current;

/** How amounts are written: as Procore's published examples show them (text), or as JSON
 * numbers (the reference schema's type). */
export type AmountFormat = 'text' | 'number';

/** Detail rows: at least two decimals (`"45000.00"`, `"12933.36"`), more when held. */
export function detailAmount(value: Scaled, format: AmountFormat): string | number {
  const text = fromScaled(value);
  return format === 'number' ? Number(text) : text;
}

/** Budget line items: at least one decimal, no trailing zeros (`"45000.0"`, `"12933.36"`, `"-20.0"`). */
export function lineItemAmount(value: Scaled, format: AmountFormat): string | number {
  const text = fromScaled(value).replace(/(\.\d*?[1-9])0+$|\.0+$/, (_, kept: string | undefined) => kept ?? '.0');
  return format === 'number' ? Number(text) : text;
}

/** The standard columns of a budget line, computed the way the published example's figures
 * relate (Revised 45000.00, Direct 12933.36 → Projected Costs 12933.36, Over/Under 32066.64). */
export function columnValues(line: StandInBudgetLine): Record<StandardViewColumn, Scaled> {
  const revised = toScaled(line.revised_budget);
  const pending = toScaled(line.pending_budget_changes);
  const committed = toScaled(line.committed_costs);
  const direct = toScaled(line.direct_costs);
  const pendingCosts = toScaled(line.pending_cost_changes);
  const projectedBudget = sumScaled(revised, pending);
  const projectedCosts = sumScaled(committed, direct, pendingCosts);
  return {
    'Approved COs': toScaled(line.approved_cos),
    'Committed Costs': committed,
    'Direct Costs': direct,
    'Pending Budget Changes': pending,
    'Pending Cost Changes': pendingCosts,
    'Estimated Cost at Completion': projectedCosts,
    'Job to Date Costs': direct,
    'Projected Budget': projectedBudget,
    'Projected Costs': projectedCosts,
    'Projected over Under': projectedBudget - projectedCosts,
    'Revised Budget': revised,
  };
}

/** A cost code's division: its first segment (`"01"` of `"01-100"`). */
export function divisionOf(costCode: StandInCostCode): string {
  return costCode.full_code.split('-')[0] || costCode.full_code;
}

export interface DetailRowContext {
  company: { id: number; name: string };
  project: { id: number; name: string };
  costCode: StandInCostCode;
  division: { id: number; code: string; name: string };
  columns: Array<{ name: string; source: StandardViewColumn }>;
  format: AmountFormat;
}

export function detailRowJson(line: StandInBudgetLine, ctx: DetailRowContext): Json {
  const division = `${ctx.division.code} - ${ctx.division.name}`;
  const costCode = `${ctx.costCode.full_code} - ${ctx.costCode.name}`;
  const row = conform(
    DETAIL_ROW_TEMPLATE,
    {
      id: line.id,
      budget_row_id: String(line.id),
      biller_id: ctx.project.id,
      root_cost_code_id: ctx.division.id,
      cost_code_level_1_id: ctx.division.id,
      cost_code_level_2_id: ctx.costCode.id,
      cost_code_level_3_id: 0,
      cost_code_level_4_id: 0,
      cost_code_level_5_id: 0,
      cost_code_level_1: division,
      cost_code_level_2: costCode,
      cost_code_level_3: 'None',
      cost_code_level_4: 'None',
      cost_code_level_5: 'None',
      cost_code_id: line.cost_code_id,
      category_id: line.category_id,
      biller: ctx.project.name,
      biller_type: 'Project',
      root_cost_code: division,
      cost_code: costCode,
      category: line.category,
      cost_code_origin_id: line.cost_code_origin_id,
      project_id: ctx.project.id,
      project: ctx.project.name,
      company_id: ctx.company.id,
      company: ctx.company.name,
      budget_modifications: detailAmount(toScaled(line.budget_modifications), ctx.format),
      original_budget_amount: detailAmount(toScaled(line.original_budget_amount), ctx.format),
    },
    'a detail row',
  );
  const values = columnValues(line);
  for (const column of ctx.columns) row[column.name] = detailAmount(values[column.source], ctx.format);
  return row;
}

export function lineItemJson(
  line: StandInBudgetLine,
  ctx: { costCode: StandInCostCode; division: { id: number; code: string; name: string }; type: StandInLineItemType; format: AmountFormat },
): Json {
  const values = columnValues(line);
  const amount = (value: Scaled) => lineItemAmount(value, ctx.format);
  return conform(
    LINE_ITEM_TEMPLATE,
    {
      id: line.id,
      approved_budget_changes: amount(toScaled(line.approved_budget_changes)),
      budget_modifications: amount(toScaled(line.budget_modifications)),
      committed_costs: amount(values['Committed Costs']),
      cost_code: { id: ctx.costCode.id, name: ctx.costCode.name, code: ctx.costCode.code, full_code: ctx.costCode.full_code },
      direct_costs: amount(values['Direct Costs']),
      division: { id: ctx.division.id, name: ctx.division.name, full_code: ctx.division.code },
      estimated_cost_at_completion: amount(values['Estimated Cost at Completion']),
      line_item_type: { id: ctx.type.id, name: ctx.type.name },
      original_budget_amount: amount(toScaled(line.original_budget_amount)),
      pending_budget_changes: amount(values['Pending Budget Changes']),
      pending_cost_changes: amount(values['Pending Cost Changes']),
      projected_budget: amount(values['Projected Budget']),
      projected_costs: amount(values['Projected Costs']),
      projected_over_under: amount(values['Projected over Under']),
      revised_budget: amount(values['Revised Budget']),
      budget_forecast: amount(0n),
    },
    'a budget line item',
  );
}

export function costCodeJson(code: StandInCostCode): Json {
  return conform(
    COST_CODE_TEMPLATE,
    {
      id: code.id,
      code: code.code,
      full_code: code.full_code,
      name: code.name,
      origin_id: code.origin_id,
      sortable_code: code.full_code,
      biller_id: code.project_id,
      biller_type: 'Project',
    },
    'a cost code',
  );
}

export function lineItemTypeJson(type: StandInLineItemType): Json {
  return conform(
    LINE_ITEM_TYPE_TEMPLATE,
    { id: type.id, name: type.name, code: type.code, base_type: type.base_type, origin_data: null, origin_id: type.origin_id },
    'a line item type',
  );
}

export function companyUserJson(user: StandInUser): Json {
  return conform(
    COMPANY_USER_TEMPLATE,
    {
      id: user.id,
      name: user.name,
      first_name: user.first_name,
      last_name: user.last_name,
      email_address: user.email_address,
      is_active: user.is_active,
      is_employee: true,
      erp_integrated_accountant: user.erp_integrated_accountant,
      job_title: user.job_title,
    },
    'a company user',
  );
}

export function budgetChangeJson(change: StandInBudgetChange): Json {
  return conform(
    BUDGET_CHANGE_TEMPLATE,
    {
      id: change.id,
      number: change.number,
      status: change.status,
      title: change.title,
      description: `<p>${change.title.replace(/[<>&]/g, '')}</p>`,
      erp_status: change.erp_status,
      prime_contract_id: null,
      amount: Number(fromScaled(toScaled(change.amount))),
      change_event_line_item_ids: [],
    },
    'a budget change',
  );
}

export function budgetViewJson(
  view: { id: number; name: string; description: string | null; project_id: number },
  baseUrl: string,
  createdBy: StandInUserRef,
  createdAt: string,
): Json {
  const link = (kind: string) => `${baseUrl}/rest/v1.0/budget_views/${view.id}/${kind}?project_id=${view.project_id}`;
  return conform(
    BUDGET_VIEW_TEMPLATE,
    {
      id: view.id,
      created_at: createdAt,
      description: view.description,
      name: view.name,
      updated_at: createdAt,
      role: 'budgeting',
      links: { detail_rows: link('detail_rows'), summary_rows: link('summary_rows') },
      created_by: { ...createdBy },
    },
    'a budget view',
  );
}

export function projectJson(
  project: { id: number; name: string; project_number: string | null; active: boolean; origin_id: string | null },
  company: { id: number; name: string },
): Json {
  return conform(
    PROJECT_TEMPLATE,
    {
      id: project.id,
      name: project.name,
      display_name: project.project_number ? `${project.project_number} - ${project.name}` : project.name,
      project_number: project.project_number,
      active: project.active,
      origin_id: project.origin_id,
      origin_code: null,
      company: { id: company.id, name: company.name },
    },
    'a project',
  );
}
