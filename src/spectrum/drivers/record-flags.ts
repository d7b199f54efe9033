import type { SpectrumRow } from '../../budgets/submission-row.entity';
import { EXPORT_ERROR_CODES } from '../export.errors';
import { ExportLedger } from '../export-ledger';
import { RowFlag } from '../export-plan';

/**
 * The rows flagged before the first AddPhase fail with their reason; every other row fails as
 * `blocked`, naming the flags: nothing is written while any is left (the retry checks again).
 */
export async function recordFlags(flags: RowFlag[], rows: SpectrumRow[], ledger: ExportLedger): Promise<void> {
  const byRow = new Map<string, RowFlag[]>();
  for (const flag of flags) byRow.set(flag.row.id, [...(byRow.get(flag.row.id) ?? []), flag]);
  const reasons = [...new Set(flags.map((flag) => flag.message))];
  const summary = `${reasons.slice(0, 3).join('; ')}${reasons.length > 3 ? `; and ${reasons.length - 3} more` : ''}`;
  for (const row of rows) {
    const own = byRow.get(row.id);
    const error = own
      ? { code: own[0].code, message: own.map((flag) => flag.message).join('; '), column: own[0].column }
      : {
          code: EXPORT_ERROR_CODES.blocked,
          message: `Not written: the export writes nothing while ${byRow.size} row(s) need fixing first (${summary})`,
          column: null,
        };
    await ledger.record({ rowId: row.id, outcome: 'failed', error });
  }
}
