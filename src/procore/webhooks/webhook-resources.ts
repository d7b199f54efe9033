/** Project-level resources whose events may change a project's budget (docs/procore.md, "Webhooks"). */
export const PROJECT_BUDGET_RESOURCES = ['Budget Line Items', 'Budget Changes', 'Budget Modifications', 'Budget View Snapshots'] as const;

/**
 * Every resource the connector acts on. `Cost Codes` may be project- or company-level; `Projects`
 * events name the project as their resource; `Line Item Types` (categories) are company-level and
 * apply to budgets sent from then on; `ERP Requests` are offered to partners only.
 */
export const KNOWN_RESOURCES = [...PROJECT_BUDGET_RESOURCES, 'Cost Codes', 'Projects', 'Line Item Types', 'ERP Requests'] as const;

const KNOWN = new Map(KNOWN_RESOURCES.map((name) => [resourceKey(name), name]));
const PROJECT_LEVEL = new Set(PROJECT_BUDGET_RESOURCES.map(resourceKey));

/** Resource names compared without regard to case or spacing (`budget line items`, `Budget_Line_Items`). */
export function resourceKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

/** The connector's name for a resource Procore named, or undefined when the connector does not use it. */
export function knownResource(name: string): (typeof KNOWN_RESOURCES)[number] | undefined {
  return KNOWN.get(resourceKey(name));
}

/** Whether events of this resource always belong to a project (and so must carry `project_id`). */
export function isProjectLevel(name: string): boolean {
  return PROJECT_LEVEL.has(resourceKey(name));
}
