import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ArrivedAt, CurrentUser, RequirePermission } from '../../common/auth.decorators';
import { ParseIdPipe } from '../../common/id';
import { ACTION_PERMISSIONS } from '../../users/permissions';
import { User } from '../../users/user.entity';
import { BudgetQueries } from '../budget-queries.service';
import { AcceptSubmission } from '../use-cases/accept-submission';
import { AcknowledgeVariance } from '../use-cases/acknowledge-variance';
import { RejectSubmission } from '../use-cases/reject-submission';
import { RetrieveSubmission } from '../use-cases/retrieve-submission';
import { RetrySubmission } from '../use-cases/retry-submission';
import { UnlockSubmission } from '../use-cases/unlock-submission';
import { DetailPageQueryDto, DetailsQueryDto, ListBudgetsQueryDto, ReasonDto } from './budgets.dto';
import { ApiAuthenticatedErrors, ApiErrors } from '../../common/api-docs';
import { JsonAnswer, ReadCache } from './read-cache';
import { DecisionDto, LinePageDto, RejectedDto, RowPageDto, SubmissionDetailsDto, SubmissionPageDto, UnlockRequestedDto } from './budgets.responses';

@ApiTags('budgets')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api/v1/budgets')
export class BudgetsController {
  constructor(
    private readonly queries: BudgetQueries,
    private readonly cache: ReadCache,
    private readonly acceptSubmission: AcceptSubmission,
    private readonly rejectSubmission: RejectSubmission,
    private readonly retrySubmission: RetrySubmission,
    private readonly retrieveSubmission: RetrieveSubmission,
    private readonly acknowledgeVariance: AcknowledgeVariance,
    private readonly unlockSubmission: UnlockSubmission,
  ) {}

  @Get()
  @RequirePermission('view')
  @ApiOperation({ summary: 'List budget submissions, newest first' })
  @ApiOkResponse({ type: SubmissionPageDto })
  @ApiErrors(400, 403)
  async list(@Query() query: ListBudgetsQueryDto, @ArrivedAt() arrivedAt: number | undefined, @Res({ passthrough: true }) response: Response): Promise<string> {
    const key = `list:${JSON.stringify([query.status, query.procoreProjectId, query.page, query.perPage])}`;
    return send(response, await this.cache.answer(key, 'list', async () => ({ value: await this.queries.list(query) }), arrivedAt));
  }

  @Get(':id')
  @RequirePermission('view')
  @ApiOperation({
    summary: 'Details: Budget Updates lines, Spectrum rows, totals, problems, history',
    description: 'lines and rows come a page at a time (linesPage/linesPerPage, rowsPage/rowsPerPage; up to 1,000 each, the default) with linesTotal/rowsTotal; totals and problems cover the whole budget',
  })
  @ApiOkResponse({ type: SubmissionDetailsDto })
  @ApiErrors(400, 403, 404)
  async details(
    @Param('id', ParseIdPipe) id: string,
    @Query() query: DetailsQueryDto,
    @ArrivedAt() arrivedAt: number | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    const key = `details:${id}:${JSON.stringify([query.linesPage, query.linesPerPage, query.rowsPage, query.rowsPerPage])}`;
    const read = async () => {
      const { details, rowSpan } = await this.queries.details(id, query);
      return { value: details, shows: { submissionId: id, rows: rowSpan } };
    };
    return send(response, await this.cache.answer(key, { submissionId: id }, read, arrivedAt));
  }

  @Get(':id/lines')
  @RequirePermission('view')
  @ApiOperation({ summary: 'One page of the Budget Updates lines: {data, page, perPage, total}; perPage up to 1,000 (the default)' })
  @ApiOkResponse({ type: LinePageDto })
  @ApiErrors(400, 403, 404)
  lines(@Param('id', ParseIdPipe) id: string, @Query() query: DetailPageQueryDto) {
    return this.queries.lines(id, query.page, query.perPage);
  }

  @Get(':id/rows')
  @RequirePermission('view')
  @ApiOperation({ summary: 'One page of the Spectrum rows: {data, page, perPage, total}; perPage up to 1,000 (the default)' })
  @ApiOkResponse({ type: RowPageDto })
  @ApiErrors(400, 403, 404)
  rows(@Param('id', ParseIdPipe) id: string, @Query() query: DetailPageQueryDto) {
    return this.queries.rows(id, query.page, query.perPage);
  }

  @Post(':id/accept')
  @HttpCode(202)
  @RequirePermission(ACTION_PERMISSIONS.accept)
  @ApiOperation({ summary: 'Accept: export to Spectrum (ready_to_export → exporting)' })
  @ApiAcceptedResponse({ type: DecisionDto, description: 'Exporting: the export runs from the queue' })
  @ApiErrors(400, 403, 404, 409)
  async accept(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: User) {
    const result = await this.acceptSubmission.execute({ submissionId: id, user });
    return { id, status: result.to };
  }

  @Post(':id/reject')
  @HttpCode(200)
  @RequirePermission(ACTION_PERMISSIONS.reject)
  @ApiOperation({ summary: 'Reject with a reason: unlocks the budget in Procore and emails its creator and sender' })
  @ApiOkResponse({ type: RejectedDto })
  @ApiErrors(400, 403, 404, 409)
  async reject(@Param('id', ParseIdPipe) id: string, @Body() body: ReasonDto, @CurrentUser() user: User) {
    const result = await this.rejectSubmission.execute({ submissionId: id, user, reason: body.reason });
    return { id, status: result.to, rejectionReason: body.reason };
  }

  @Post(':id/retry')
  @HttpCode(202)
  @RequirePermission(ACTION_PERMISSIONS.retry)
  @ApiOperation({ summary: 'Export again after a failure or a variance (→ exporting)' })
  @ApiAcceptedResponse({ type: DecisionDto, description: 'Exporting again: the export runs from the queue' })
  @ApiErrors(400, 403, 404, 409)
  async retry(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: User) {
    const result = await this.retrySubmission.execute({ submissionId: id, user });
    return { id, status: result.to };
  }

  @Post(':id/retrieve')
  @HttpCode(200)
  @RequirePermission(ACTION_PERMISSIONS.retrieve)
  @ApiOperation({ summary: 'The sender (or an admin) takes the budget back before a response (→ retrieved)' })
  @ApiOkResponse({ type: DecisionDto })
  @ApiErrors(400, 403, 404, 409)
  async retrieve(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: User) {
    const result = await this.retrieveSubmission.execute({ submissionId: id, user });
    return { id, status: result.to };
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  @RequirePermission(ACTION_PERMISSIONS.acknowledge)
  @ApiOperation({ summary: 'An admin accepts the listed variance (out_of_sync → synced)' })
  @ApiOkResponse({ type: DecisionDto })
  @ApiErrors(400, 403, 404, 409)
  async acknowledge(@Param('id', ParseIdPipe) id: string, @Body() body: ReasonDto, @CurrentUser() user: User) {
    const result = await this.acknowledgeVariance.execute({ submissionId: id, user, reason: body.reason });
    return { id, status: result.to };
  }

  @Post(':id/unlock')
  @HttpCode(202)
  @RequirePermission(ACTION_PERMISSIONS.unlock)
  @ApiOperation({ summary: 'Unlock the budget in Procore; only when synced' })
  @ApiAcceptedResponse({ type: UnlockRequestedDto, description: 'Recorded; Procore is called from the queue' })
  @ApiErrors(400, 403, 404, 409)
  async unlock(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: User) {
    return { id, ...(await this.unlockSubmission.execute({ submissionId: id, user })) };
  }
}

/** Sends an answer's JSON as it is (Express would otherwise serialize it and hash it again). */
function send(response: Response, answer: JsonAnswer): string {
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.setHeader('ETag', answer.etag);
  return answer.body;
}
