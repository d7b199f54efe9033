import { Body, Controller, Get, Param, Post, Query, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { Response } from 'express';
import { ReasonDto } from '../budgets/api/budgets.dto';
import { BudgetsException, movedOnMeanwhile } from '../budgets/budgets.exception';
import { AcceptSubmission } from '../budgets/use-cases/accept-submission';
import { AcknowledgeVariance } from '../budgets/use-cases/acknowledge-variance';
import { RejectSubmission } from '../budgets/use-cases/reject-submission';
import { RetrieveSubmission } from '../budgets/use-cases/retrieve-submission';
import { RetrySubmission } from '../budgets/use-cases/retry-submission';
import { UnlockSubmission } from '../budgets/use-cases/unlock-submission';
import { AppConfig } from '../config/app-config';
import { ConnectorException, InputException, InputExceptionCode } from '../common/connector.exception';
import { ParseIdPipe } from '../common/id';
import { toCents } from '../common/money';
import { displayDate } from '../notifications/template-renderer';
import { ReconciliationReports } from '../reconciliation/reconciliation-reports.service';
import { csvField, reportToCsv, reportToHtml, text as spreadsheetSafe } from '../reconciliation/reconciliation-report';
import { BudgetPreview } from '../spectrum/budget-preview.service';
import { SpectrumException } from '../spectrum/client/spectrum.errors';
import { UsersException, UsersExceptionCode } from '../users/users.exception';
import { BudgetRemap } from '../procore/remap/budget-remap.service';
import { Public } from '../common/auth.decorators';
import { FanOutRateLimit } from '../security/rate-limits';
import { ACTION_PERMISSIONS, barredAsSender, BudgetAction, can, REFUSALS } from '../users/permissions';
import { offeredActions, PAST_TENSE } from './budget-actions';
import { ConsoleAuthGuard, Session } from './console-auth.guard';
import { ConsoleBudgetsReader, LINES_PER_PAGE, LIST_FILTERS, LIST_PER_PAGE, ListFilter, ROWS_PER_PAGE } from './console-budgets.reader';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { ConsolePages } from './console-pages';
import { ActiveSession, ConsoleSessions } from './console-sessions.service';
import { STATUS_LABELS } from './console-views';
import { HTML_REPORT_CSP } from '../security/security-headers';

const PREVIEW_PER_PAGE = 25;

/**
 * The budget pages of the console. Reads come from the same services as the API; every action
 * goes through the same use case as the API's route (the state machine, its audit trail and the
 * work it causes), after the same permission check.
 */
@ApiExcludeController()
@Public() // Console sessions, not bearer tokens: ConsoleAuthGuard.
@UseGuards(ConsoleAuthGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console/budgets')
export class BudgetsPagesController {
  constructor(
    private readonly reader: ConsoleBudgetsReader,
    private readonly acceptSubmission: AcceptSubmission,
    private readonly rejectSubmission: RejectSubmission,
    private readonly retrySubmission: RetrySubmission,
    private readonly retrieveSubmission: RetrieveSubmission,
    private readonly acknowledgeVariance: AcknowledgeVariance,
    private readonly unlockSubmission: UnlockSubmission,
    private readonly previews: BudgetPreview,
    private readonly remapper: BudgetRemap,
    private readonly reports: ReconciliationReports,
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessions,
    private readonly config: AppConfig,
  ) {}

  @Get()
  async list(@Session() session: ActiveSession, @Query() query: Record<string, unknown>, @Res() response: Response) {
    const filter: ListFilter = LIST_FILTERS.some((f) => f.key === query.status) ? (query.status as ListFilter) : 'ready_to_export';
    const search = typeof query.q === 'string' ? query.q.trim().slice(0, 100) : '';
    const page = pageOf(query.page);
    const result = await this.reader.list(filter, search, page);
    const base = `/console/budgets?status=${filter}${search ? `&q=${encodeURIComponent(search)}` : ''}`;
    this.html(response, await this.pages.page(session, 'budgets', {
      title: `Budgets — ${LIST_FILTERS.find((f) => f.key === filter)!.label}`,
      nav: 'budgets',
      ...result,
      filter,
      search,
      base,
      pager: pager(base, result.page, result.pages, result.total, LIST_PER_PAGE, 'budget', 'budgets'),
    }));
  }

  @Get(':id')
  async budget(
    @Session() session: ActiveSession,
    @Param('id', ParseIdPipe) id: string,
    @Query() query: Record<string, unknown>,
    @Res() response: Response,
  ) {
    const submission = await this.reader.submission(id);
    const linesPage = pageOf(query.linesPage);
    const rowsPage = pageOf(query.rowsPage);
    const lineFilter = query.lines === 'problems' ? 'problems' : null;
    const rowFilter = query.rows === 'failed' || query.rows === 'problems' ? query.rows : null;
    const [lines, rows, problems, noteCount, jobs, history, progress, reconciliation, unlockRefusal] = await Promise.all([
      this.reader.lines(id, linesPage, lineFilter === 'problems'),
      this.reader.rows(id, rowsPage, rowFilter),
      this.reader.problems(id),
      this.reader.noteCount(id),
      this.reader.jobs(id),
      this.reader.history(id),
      this.reader.progress(id),
      this.reader.reconciliation(submission),
      submission.status === 'synced' ? this.reader.unlockRefusal(id) : Promise.resolve('not synced'),
    ]);
    const budget = {
      id: submission.id,
      status: submission.status,
      projectName: submission.projectName || `Procore project ${submission.procoreProjectId}`,
      procoreProjectId: submission.procoreProjectId,
      job: jobs.join(', ') || submission.job || null,
      source: submission.source,
      sentBy: submission.sentBy ? { name: submission.sentBy.name } : null,
      createdBy: submission.createdBy ? { name: submission.createdBy.name } : null,
      sentAt: submission.sentAt,
      decidedBy: submission.decidedBy ? { name: submission.decidedBy.name } : null,
      decidedAt: submission.decidedAt ?? null,
      rejectionReason: submission.rejectionReason ?? null,
      ingestError: submission.ingestError ?? null,
      unlockedAt: submission.unlockedAt ?? null,
      unlockedBy: submission.unlockedBy ? { name: submission.unlockedBy.name } : null,
      lineCount: submission.lineCount,
      rowCount: submission.rowCount,
      totals: { originalBudget: submission.originalBudget, budgetChanges: submission.budgetChanges, revisedEstimate: submission.revisedEstimate },
    };
    const actions = offeredActions(session.user, {
      status: submission.status,
      sentById: submission.sentBy?.id ?? null,
      unlocked: !!submission.unlockedAt,
      unlockRefusal,
      remappable: submission.remappable,
      requireIndependentApprover: this.config.requireIndependentApprover,
    });
    const base = `/console/budgets/${id}`;
    const keep = { linesPage, rowsPage, lines: lineFilter, rows: rowFilter };
    const link = (changes: Record<string, unknown>) => pageUrl(base, { ...keep, ...changes });
    this.html(response, await this.pages.page(session, 'budget', {
      title: `${budget.projectName} — budget ${id}`,
      nav: 'budgets',
      budget,
      problems,
      noteCount,
      lines,
      rows,
      lineFilter,
      rowFilter,
      history,
      progress,
      reconciliation,
      actions,
      acceptBlocked: actions.accept && problems.length > 0,
      // Separation of duties: say why Accept is not offered to the sender.
      senderMayNotAccept:
        submission.status === 'ready_to_export' &&
        can(session.user, ACTION_PERMISSIONS.accept) &&
        barredAsSender(this.config.requireIndependentApprover, session.user, submission.sentBy?.id),
      // What an export would write matters while one is still to come.
      showPreview: ['ready_to_export', 'failed_to_export', 'out_of_sync'].includes(submission.status),
      unlockNote: submission.status === 'synced' && !submission.unlockedAt && unlockRefusal ? unlockRefusal : null,
      spectrumCompany: this.config.spectrum.companyCode,
      links: {
        linesAll: link({ lines: null, linesPage: 1 }),
        linesProblems: link({ lines: 'problems', linesPage: 1 }),
        rowsAll: link({ rows: null, rowsPage: 1 }),
        rowsFailed: link({ rows: 'failed', rowsPage: 1 }),
        rowsProblems: link({ rows: 'problems', rowsPage: 1 }),
      },
      linesPager: pager(link({}), lines.page, lines.pages, lines.total, LINES_PER_PAGE, 'line', 'lines', 'linesPage', '#lines'),
      rowsPager: pager(link({}), rows.page, rows.pages, rows.total, ROWS_PER_PAGE, 'row', 'rows', 'rowsPage', '#rows'),
    }));
  }

  /** For the page's script: where the export or reconciliation stands. */
  @Get(':id/progress')
  async progress(@Param('id', ParseIdPipe) id: string) {
    const progress = await this.reader.progress(id);
    return { ...progress, statusLabel: STATUS_LABELS[progress.status] };
  }

  /**
   * The preview against Spectrum, as a fragment the page loads (it reads Spectrum, so it is not part
   * of the page). Limited per user like the API's preview (RATE_LIMIT_FAN_OUT).
   */
  @Get(':id/preview')
  @FanOutRateLimit()
  async preview(@Param('id', ParseIdPipe) id: string, @Query() query: Record<string, unknown>, @Res() response: Response) {
    let preview;
    try {
      preview = await this.previews.preview(id);
    } catch (error) {
      // Spectrum busy or unreadable: the page says so where the preview would be.
      if (error instanceof SpectrumException) {
        return this.html(response, this.pages.fragment('preview', { error: error.message }), 503);
      }
      throw error;
    }
    // Rows with a problem first, then what the export changes; unchanged rows only when something is to be said about them.
    const rank = (row: (typeof preview.rows)[number]) => (row.problems.length ? 0 : ({ removed: 1, changed: 2, new: 3, unchanged: 4 } as Record<string, number>)[row.change] ?? 9);
    const changes = preview.rows
      .filter((row) => row.change !== 'unchanged' || row.problems.length || row.notes.length)
      .map((row, index) => ({ row, index }))
      .sort((a, b) => rank(a.row) - rank(b.row) || a.index - b.index)
      .map(({ row }) => row);
    const page = pageOf(query.page);
    const pages = Math.max(1, Math.ceil(changes.length / PREVIEW_PER_PAGE));
    this.html(response, this.pages.fragment('preview', {
      preview,
      summary: Object.entries(preview.summary as Record<string, number>)
        .filter(([change, count]) => (change !== 'flagged' && change !== 'removed') || count > 0)
        .map(([change, count]) => ({ change, count, drops: change === 'removed' && count > 0 ? preview.removedTotal : null })),
      changes: changes.slice((page - 1) * PREVIEW_PER_PAGE, page * PREVIEW_PER_PAGE).map((row) => ({
        ...row,
        // What the export moves Spectrum's current estimate by (a new row starts from nothing).
        difference: toCents(row.revisedEstimate) - (row.spectrumEstimated === null ? 0n : toCents(row.spectrumEstimated)),
      })),
      changeCount: changes.length,
      page,
      pages,
      previous: page > 1 ? `/console/budgets/${id}/preview?page=${page - 1}` : null,
      next: page < pages ? `/console/budgets/${id}/preview?page=${page + 1}` : null,
    }));
  }

  @Get(':id/reconciliation.csv')
  async reconciliationCsv(@Param('id', ParseIdPipe) id: string, @Res() response: Response) {
    const report = await this.reports.latest(id);
    response.setHeader('Content-Disposition', `attachment; filename="reconciliation-${id}-${report.ranAt.slice(0, 10)}.csv"`);
    response.type('text/csv; charset=utf-8').send(reportToCsv(report));
  }

  @Get(':id/reconciliation.html')
  async reconciliationHtml(@Param('id', ParseIdPipe) id: string, @Res() response: Response) {
    const report = await this.reports.latest(id);
    response.setHeader('Content-Security-Policy', HTML_REPORT_CSP);
    response.type('text/html; charset=utf-8').send(reportToHtml(report));
  }

  /** The Budget Updates lines as CSV, every one of them. */
  @Get(':id/lines.csv')
  async linesCsv(@Param('id', ParseIdPipe) id: string, @Res() response: Response) {
    await this.reader.submission(id);
    response.setHeader('Content-Disposition', `attachment; filename="budget-${id}-lines.csv"`);
    response.type('text/csv; charset=utf-8');
    response.write('costCode,category,description,originalBudget,budgetChanges,revisedEstimate,job,phase,costType,problems,notes\r\n');
    for await (const lines of this.reader.allLines(id)) {
      const chunk = lines.map((line) =>
        [
          spreadsheetSafe(line.costCode),
          spreadsheetSafe(line.category),
          spreadsheetSafe(line.description),
          line.originalBudget,
          line.budgetChanges,
          line.revisedEstimate,
          spreadsheetSafe(line.job ?? ''),
          spreadsheetSafe(line.phase ?? ''),
          spreadsheetSafe(line.costType ?? ''),
          spreadsheetSafe(line.problems.join('; ')),
          spreadsheetSafe(line.notes.join('; ')),
        ]
          .map(csvField)
          .join(','),
      );
      response.write(chunk.join('\r\n') + '\r\n');
    }
    response.end();
  }

  @Post(':id/accept')
  accept(@Session() s: ActiveSession, @Param('id', ParseIdPipe) id: string, @Res() r: Response) {
    return this.act(s, id, 'accept', r, () => this.acceptSubmission.execute({ submissionId: id, user: s.user }), 'Accepted: the budget is being exported to Spectrum.');
  }

  @Post(':id/reject')
  async reject(@Session() s: ActiveSession, @Param('id', ParseIdPipe) id: string, @Body() body: Record<string, unknown>, @Res() r: Response) {
    return this.act(s, id, 'reject', r, async () => this.rejectSubmission.execute({ submissionId: id, user: s.user, reason: await reasonOf(body) }), 'Rejected: the budget is unlocked in Procore and its sender is told why.');
  }

  @Post(':id/retry')
  retry(@Session() s: ActiveSession, @Param('id', ParseIdPipe) id: string, @Res() r: Response) {
    return this.act(s, id, 'retry', r, () => this.retrySubmission.execute({ submissionId: id, user: s.user }), 'Exporting again.');
  }

  @Post(':id/retrieve')
  retrieve(@Session() s: ActiveSession, @Param('id', ParseIdPipe) id: string, @Res() r: Response) {
    return this.act(s, id, 'retrieve', r, () => this.retrieveSubmission.execute({ submissionId: id, user: s.user }), 'Retrieved: the budget is unlocked in Procore.');
  }

  @Post(':id/acknowledge')
  async acknowledge(@Session() s: ActiveSession, @Param('id', ParseIdPipe) id: string, @Body() body: Record<string, unknown>, @Res() r: Response) {
    return this.act(s, id, 'acknowledge', r, async () => this.acknowledgeVariance.execute({ submissionId: id, user: s.user, reason: await reasonOf(body) }), 'Variance acknowledged: the budget counts as synced.');
  }

  @Post(':id/unlock')
  unlock(@Session() s: ActiveSession, @Param('id', ParseIdPipe) id: string, @Res() r: Response) {
    return this.act(s, id, 'unlock', r, () => this.unlockSubmission.execute({ submissionId: id, user: s.user }), 'Unlock requested: the budget is being unlocked in Procore.');
  }

  @Post(':id/remap')
  remap(@Session() s: ActiveSession, @Param('id', ParseIdPipe) id: string, @Res() r: Response) {
    let said = '';
    return this.act(s, id, 'remap', r, async () => {
      const result = await this.remapper.remap(id, s.user);
      said =
        `Mapped again with the mapping in force: ${result.rowCount} Spectrum row(s), ${result.problemCount} problem(s)` +
        (result.removedRows ? `; ${result.removedRows} row(s) written under the old mapping will be set to 0.00 by the next export.` : '.');
    }, () => said);
  }

  /**
   * Runs an action with the API's permission check, then back to the budget page with what
   * happened. A refusal is shown there; a lost race says who got there first, and when.
   */
  private async act(session: ActiveSession, id: string, action: BudgetAction, response: Response, run: () => Promise<unknown>, done: string | (() => string)) {
    try {
      const permission = ACTION_PERMISSIONS[action];
      if (!can(session.user, permission)) throw new UsersException(UsersExceptionCode.NotAllowed, REFUSALS[permission]);
      await run();
      await this.sessions.setFlash(session.id, 'notice', typeof done === 'string' ? done : done());
    } catch (error) {
      if (!(error instanceof ConnectorException)) throw error;
      await this.sessions.setFlash(session.id, 'error', movedOnMeanwhile(error) ? await this.explainConflict(id, error) : error.message);
    }
    response.redirect(303, `/console/budgets/${id}`);
  }

  private async explainConflict(id: string, error: BudgetsException): Promise<string> {
    const latest = await this.reader.latestTransition(id).catch(() => null);
    if (!latest?.to) return error.message;
    const who = latest.actor?.name && latest.actor.name !== 'user' ? latest.actor.name : 'The connector';
    const verb = PAST_TENSE[latest.action] ?? latest.action;
    const when = displayDate(new Date(latest.at), this.config.schedules.dailySummaryTz);
    return `${who} ${verb} this budget first, at ${when}; it is now ${STATUS_LABELS[latest.to as keyof typeof STATUS_LABELS]?.toLowerCase() ?? latest.to}. Nothing was changed by your request.`;
  }

  private html(response: Response, html: string, status = 200): void {
    response.status(status).type('html').send(html);
  }
}

async function reasonOf(body: Record<string, unknown>): Promise<string> {
  const dto = plainToInstance(ReasonDto, { reason: body.reason });
  const errors = await validate(dto);
  if (errors.length) throw new InputException(InputExceptionCode.InvalidInput, Object.values(errors[0].constraints ?? {})[0] ?? 'reason is required');
  return dto.reason;
}

function pageOf(value: unknown): number {
  const page = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : 1;
  return page >= 1 ? page : 1;
}

function pageUrl(base: string, params: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === '' || value === 1) continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `${base}?${text}` : base;
}

/** Previous / next links and "101–200 of 2,000 lines". */
function pager(base: string, page: number, pages: number, total: number, size: number, one: string, many: string, param = 'page', anchor = '') {
  const url = (p: number) => {
    const [path, search = ''] = base.split('?');
    const params = new URLSearchParams(search);
    if (p === 1) params.delete(param);
    else params.set(param, String(p));
    const text = params.toString();
    return `${path}${text ? `?${text}` : ''}${anchor}`;
  };
  const from = total === 0 ? 0 : (page - 1) * size + 1;
  const to = Math.min(total, page * size);
  return {
    show: pages > 1,
    label: total === 0 ? `No ${many}` : `${from.toLocaleString('en-US')}–${to.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} ${total === 1 ? one : many}`,
    previous: page > 1 ? url(page - 1) : null,
    next: page < pages ? url(page + 1) : null,
    page,
    pages,
  };
}
