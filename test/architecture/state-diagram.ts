import { TRANSITIONS, TransitionWorkKind } from '../../src/budgets/submission-status';

/**
 * The submission state machine as a Mermaid diagram, drawn from the transitions table
 * (src/budgets/submission-status.ts, the table SubmissionStateMachine enforces): one arrow per
 * (status left, event), labelled with the event and the work it causes. docs/architecture.md holds
 * this text between its `mermaid` fences; test/architecture/docs.spec.ts fails when they differ.
 * Print it after changing the table: `npx ts-node --transpile-only test/architecture/state-diagram.ts`.
 */
export function stateDiagram(): string {
  const lines = ['stateDiagram-v2', '    [*] --> ingesting: open (send, webhook, poll)'];
  for (const [event, rule] of Object.entries(TRANSITIONS)) {
    const causes = rule.causes as readonly TransitionWorkKind[];
    const label = causes.length ? `${event} / ${causes.join(', ')}` : event;
    for (const from of rule.from) lines.push(`    ${from} --> ${rule.to}: ${label}`);
  }
  return lines.join('\n');
}

/** The arrows of a diagram (`from --> to: label` lines), for a readable difference. */
export function arrowsOf(diagram: string): string[] {
  return diagram
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.includes('-->'));
}

if (require.main === module) process.stdout.write(`${stateDiagram()}\n`);
