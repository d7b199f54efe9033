/**
 * Local stand-in for Procore (login host + REST API on one URL) and sample data. Every response has
 * the shape Procore publishes (test/fixtures/procore; README there).
 *
 *   const procore = new ProcoreStandIn({ rateLimits: { spike: { limit: 25, windowSeconds: 10 } } });
 *   await procore.start();                       // http://127.0.0.1:<port>
 *   seedSampleProject(procore, { locked: true }); // project 1001 "Riverside Medical Office Building"
 *   Object.assign(process.env, procore.environment()); // PROCORE_API_URL, _LOGIN_URL, _CLIENT_ID, …
 *   procore.addBudgetView(1001, { name: 'Costs', columns: ['Approved COs', { name: 'Revised Estimate', source: 'Revised Budget' }] });
 *   procore.columnAmounts(lineId)['Revised Budget'];   // what the view shows for a line
 *   procore.unlockRequests;                      // each DELETE …/budget/lock with its destroy_all_budget_line_item_transfers
 *   procore.setAmountFormat('number');           // amounts as JSON numbers instead of published text
 *   procore.setPagingHeaders({ link: false, total: false });
 *   procore.setClockSkew(3_600_000);             // Date and X-Rate-Limit-Reset follow a clock an hour ahead
 *   procore.setWebhookBehaviour({ api: 'v1', maskSecrets: true, eventTypeStyle: 'past-upper' });
 *   procore.failNext(2, 503, { retryAfterSeconds: 1 });
 *   await procore.deliverWebhook({ project_id: 1001, user_id: 7001, resource_name: 'Budget View Snapshots' });
 *   await procore.stop();
 */
export * from './procore-stand-in';
export * from './procore-stand-in.types';
export * from './sample-project';
export type { BucketConfig, RateLimitConfig } from './stand-in-rate-limits';
