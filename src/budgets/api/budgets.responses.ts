import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageFields } from '../../common/api-docs';
import { VARIANCE_STATUSES } from '../reconciliation.entity';
import { ROW_EXPORT_STATES } from '../submission-row.entity';
import { SUBMISSION_STATUSES } from '../submission-status';
import { SUBMISSION_SOURCES } from '../submission.entity';

/**
 * The answers of `api/v1/budgets` as the OpenAPI document describes them (the shapes
 * submission.presenter.ts, BudgetPreview and the reconciliation report produce). Ids are strings;
 * money is a string with exactly two decimals.
 */
export class PersonDto {
  @ApiProperty({ example: '3' }) id!: string;
  @ApiProperty({ example: 'Dana Whitfield' }) name!: string;
  @ApiProperty({ example: 'dana.whitfield@summit-builders.example' }) email!: string;
}

export class TotalsDto {
  @ApiProperty({ example: '8704976.28' }) originalBudget!: string;
  @ApiProperty({ example: '155840.50' }) budgetChanges!: string;
  @ApiProperty({ example: '8860816.78' }) revisedEstimate!: string;
}

export class SubmissionDto {
  @ApiProperty({ example: '12' }) id!: string;
  @ApiProperty({ enum: SUBMISSION_STATUSES, example: 'ready_to_export' }) status!: string;
  @ApiProperty({ example: '1001' }) procoreProjectId!: string;
  @ApiProperty({ example: 'Riverside Medical Office Building' }) projectName!: string;
  @ApiProperty({ nullable: true, description: 'The Spectrum job; null while unknown', example: '26-101' }) job!: string | null;
  @ApiProperty({ enum: SUBMISSION_SOURCES, description: 'How it arrived: explicit send, webhook or polling', example: 'webhook' }) source!: string;
  @ApiProperty({ type: PersonDto, nullable: true, description: 'Who sent it (none for a poll)' }) sentBy!: PersonDto | null;
  @ApiProperty({ type: PersonDto, nullable: true, description: "The budget's creator in Procore where known, else the sender" }) createdBy!: PersonDto | null;
  @ApiProperty({ example: '2026-11-27T14:02:06.612Z' }) sentAt!: string;
  @ApiProperty({ type: PersonDto, nullable: true }) decidedBy!: PersonDto | null;
  @ApiProperty({ nullable: true, example: null }) decidedAt!: string | null;
  @ApiProperty({ nullable: true, example: null }) rejectionReason!: string | null;
  @ApiProperty({ example: '2026-11-27T14:02:11.860Z' }) statusChangedAt!: string;
  @ApiProperty({ nullable: true, example: null }) unlockedAt!: string | null;
  @ApiProperty({ type: PersonDto, nullable: true }) unlockedBy!: PersonDto | null;
  @ApiProperty({ nullable: true, description: 'Why ingestion failed (ingest_failed)', example: null }) ingestError!: string | null;
  @ApiProperty({ description: 'Procore budget lines', example: 38 }) lineCount!: number;
  @ApiProperty({ description: 'Spectrum rows they map to', example: 38 }) rowCount!: number;
  @ApiProperty({ description: 'Flagged lines and rows: a budget with problems cannot be accepted', example: 0 }) problemCount!: number;
  @ApiProperty({ type: TotalsDto }) totals!: TotalsDto;
}

export class SubmissionPageDto extends PageFields {
  @ApiProperty({ type: [SubmissionDto] }) data!: SubmissionDto[];
}

export class SentBudgetDto extends SubmissionDto {
  @ApiProperty({ description: 'True (200) when the open submission already held this very budget: nothing was created', example: false }) unchanged!: boolean;
  @ApiPropertyOptional({ nullable: true, description: 'The ready_to_export submission this send superseded', example: '11' }) supersededSubmissionId?: string | null;
  @ApiPropertyOptional({ type: PersonDto, nullable: true, description: "Who sent the superseded one, when it was someone else's" }) supersededSentBy?: PersonDto | null;
  @ApiPropertyOptional({ description: "Says whose submission this send replaced, when it was someone else's", example: 'This replaces budget submission 11, sent by Dana Whitfield' }) notice?: string;
}

export class LineDto {
  @ApiProperty({ nullable: true, example: '500001' }) procoreLineId!: string | null;
  @ApiProperty({ example: '01-100' }) costCode!: string;
  @ApiProperty({ example: 'Labor' }) category!: string;
  @ApiProperty({ example: 'General Conditions' }) description!: string;
  @ApiProperty({ example: '412500.00' }) originalBudget!: string;
  @ApiProperty({ example: '0.00' }) budgetChanges!: string;
  @ApiProperty({ example: '412500.00' }) revisedEstimate!: string;
  @ApiProperty({ nullable: true, example: '26-101' }) job!: string | null;
  @ApiProperty({ nullable: true, example: '01100' }) phase!: string | null;
  @ApiProperty({ nullable: true, example: 'L' }) costType!: string | null;
  @ApiProperty({ type: [String], description: 'Why the line cannot be exported as it is', example: [] }) problems!: string[];
  @ApiProperty({ type: [String], description: 'E.g. an amount rounded to the cent', example: [] }) notes!: string[];
}

export class RowErrorDto {
  @ApiProperty({ description: "Spectrum's error code (A, I, M) or the connector's", example: 'I' }) code!: string;
  @ApiProperty({ example: 'Cost type X is not on file' }) message!: string;
  @ApiPropertyOptional({ nullable: true, example: 'Cost_Type' }) column?: string | null;
}

export class RowDto {
  @ApiProperty({ nullable: true, example: '26-101' }) job!: string | null;
  @ApiProperty({ nullable: true, example: '01100' }) phase!: string | null;
  @ApiProperty({ nullable: true, example: 'L' }) costType!: string | null;
  @ApiProperty({ example: 'General Conditions' }) description!: string;
  @ApiProperty({ example: '412500.00' }) originalBudget!: string;
  @ApiProperty({ example: '412500.00' }) revisedEstimate!: string;
  @ApiProperty({ description: 'Budget lines summed into the row', example: 1 }) lineCount!: number;
  @ApiProperty({ type: [String], example: [] }) problems!: string[];
  @ApiProperty({ enum: ROW_EXPORT_STATES, description: 'The export ledger: a written row is never sent again', example: 'written' }) exportState!: string;
  @ApiProperty({ type: RowErrorDto, nullable: true }) error!: RowErrorDto | null;
  @ApiProperty({ description: 'A row an earlier export wrote that this version lacks: the export sets it to 0.00', example: false }) removed!: boolean;
  @ApiProperty({ nullable: true, description: 'For a removed row: the amount it held', example: null }) removedEstimate!: string | null;
  @ApiProperty({ nullable: true, example: '2026-11-27T14:05:12.004Z' }) writtenAt!: string | null;
}

export class HistoryEntryDto {
  @ApiProperty({ example: '2026-11-27T14:02:06.659Z' }) at!: string;
  @ApiProperty({ description: "{id, name, email}; id and email null for the connector's own actions", example: { id: '1', name: 'Alex Approver', email: 'alex@summit-builders.example' } })
  actor!: { id: string | null; name: string; email: string | null };
  @ApiProperty({ example: 'accept' }) action!: string;
  @ApiProperty({ nullable: true, example: 'ready_to_export' }) from!: string | null;
  @ApiProperty({ nullable: true, example: 'exporting' }) to!: string | null;
  @ApiProperty({ nullable: true, example: null }) note!: string | null;
}

export class SubmissionDetailsDto extends SubmissionDto {
  @ApiProperty({ type: [String], description: 'Every reason it cannot be accepted, for the whole budget', example: [] }) problems!: string[];
  @ApiProperty({ example: 38 }) linesTotal!: number;
  @ApiProperty({ example: 1 }) linesPage!: number;
  @ApiProperty({ example: 1000 }) linesPerPage!: number;
  @ApiProperty({ type: [LineDto] }) lines!: LineDto[];
  @ApiProperty({ example: 38 }) rowsTotal!: number;
  @ApiProperty({ example: 1 }) rowsPage!: number;
  @ApiProperty({ example: 1000 }) rowsPerPage!: number;
  @ApiProperty({ type: [RowDto] }) rows!: RowDto[];
  @ApiProperty({ type: [HistoryEntryDto] }) history!: HistoryEntryDto[];
}

export class LinePageDto extends PageFields {
  @ApiProperty({ type: [LineDto] }) data!: LineDto[];
}

export class RowPageDto extends PageFields {
  @ApiProperty({ type: [RowDto] }) data!: RowDto[];
}

export class DecisionDto {
  @ApiProperty({ example: '12' }) id!: string;
  @ApiProperty({ enum: SUBMISSION_STATUSES, description: 'The status it moved to', example: 'exporting' }) status!: string;
}

export class RejectedDto extends DecisionDto {
  @ApiProperty({ example: 'Phase 03-300 is double counted' }) rejectionReason!: string;
}

export class UnlockRequestedDto extends DecisionDto {
  @ApiProperty({ description: 'When the unlock was recorded; Procore is called from the queue', example: '2026-11-27T15:40:33.017Z' }) unlockRequestedAt!: string;
}

export class RemapResultDto {
  @ApiProperty({ example: '12' }) id!: string;
  @ApiProperty({ enum: ['ready_to_export', 'failed_to_export'], example: 'ready_to_export' }) status!: string;
  @ApiProperty({ nullable: true, example: '26-101' }) job!: string | null;
  @ApiProperty({ example: 38 }) rowCount!: number;
  @ApiProperty({ example: 0 }) problemCount!: number;
  @ApiProperty({ description: 'Rows written under the old mapping that the next export sets to 0.00', example: 0 }) removedRows!: number;
  @ApiProperty({ description: 'Identifies the mapping file applied', example: 'e3b0c44298fc' }) mappingVersion!: string;
}

export class PreviewJobDto {
  @ApiProperty({ example: '26-101' }) job!: string;
  @ApiProperty({ example: true }) inSpectrum!: boolean;
  @ApiProperty({ nullable: true, description: 'A, I or C', example: 'A' }) statusCode!: string | null;
  @ApiProperty({ nullable: true, example: 'Riverside Medical Office Building' }) description!: string | null;
  @ApiProperty({ example: true }) exportable!: boolean;
  @ApiProperty({ nullable: true, example: null }) problem!: string | null;
}

export class PreviewSummaryDto {
  @ApiProperty({ example: 35 }) new!: number;
  @ApiProperty({ example: 2 }) changed!: number;
  @ApiProperty({ example: 1 }) unchanged!: number;
  @ApiProperty({ example: 0 }) removed!: number;
  @ApiProperty({ example: 0 }) flagged!: number;
}

export class PreviewRowDto {
  @ApiProperty({ example: '26-101' }) job!: string;
  @ApiProperty({ example: '01100' }) phase!: string;
  @ApiProperty({ example: 'L' }) costType!: string;
  @ApiProperty({ example: 'General Conditions' }) description!: string;
  @ApiProperty({ example: '412500.00' }) originalBudget!: string;
  @ApiProperty({ example: '412500.00' }) revisedEstimate!: string;
  @ApiProperty({ nullable: true, description: "Spectrum's current estimate now", example: '398000.00' }) spectrumEstimated!: string | null;
  @ApiProperty({ nullable: true, example: 'General Conditions' }) spectrumDescription!: string | null;
  @ApiProperty({ nullable: true, description: 'The phase code as Spectrum stores it (mask-filled)', example: '01100' }) spectrumPhase!: string | null;
  @ApiProperty({ nullable: true, example: 'A' }) spectrumStatus!: string | null;
  @ApiProperty({ enum: ['new', 'changed', 'unchanged', 'removed'], example: 'changed' }) change!: string;
  @ApiProperty({ nullable: true, enum: ['new_phase', 'new_row', 'update'], example: 'update' }) spectrumAction!: string | null;
  @ApiProperty({ example: false }) removed!: boolean;
  @ApiProperty({ nullable: true, description: 'For a removed row: the amount it drops', example: null }) drops!: string | null;
  @ApiProperty({ type: [String], example: [] }) problems!: string[];
  @ApiProperty({ type: [String], example: [] }) notes!: string[];
}

export class PreviewDto {
  @ApiProperty({ example: '12' }) submissionId!: string;
  @ApiProperty({ enum: SUBMISSION_STATUSES, example: 'ready_to_export' }) status!: string;
  @ApiProperty({ example: 'ABC' }) spectrumCompany!: string;
  @ApiProperty({ example: '2026-11-27T14:13:20.360Z' }) readAt!: string;
  @ApiProperty({ description: 'False when the export would write nothing (see problems)', example: true }) exportable!: boolean;
  @ApiProperty({ type: [String], example: [] }) problems!: string[];
  @ApiProperty({ type: [PreviewJobDto] }) jobs!: PreviewJobDto[];
  @ApiProperty({ type: PreviewSummaryDto }) summary!: PreviewSummaryDto;
  @ApiProperty({ example: '0.00' }) removedTotal!: string;
  @ApiProperty({ type: [PreviewRowDto] }) rows!: PreviewRowDto[];
}

export class ReconciliationTotalsDto {
  @ApiProperty({ example: '8860816.78' }) procoreRevised!: string;
  @ApiProperty({ example: '8860816.78' }) spectrumEstimated!: string;
  @ApiProperty({ example: '0.00' }) variance!: string;
}

export class ReconciliationRowDto {
  @ApiProperty({ example: '26-101' }) job!: string;
  @ApiProperty({ example: '01100' }) phase!: string;
  @ApiProperty({ example: 'L' }) costType!: string;
  @ApiProperty({ example: 'General Conditions' }) description!: string;
  @ApiProperty({ nullable: true, example: '412500.00' }) procoreRevised!: string | null;
  @ApiProperty({ nullable: true, example: '412500.00' }) spectrumEstimated!: string | null;
  @ApiProperty({ nullable: true, example: '0.00' }) variance!: string | null;
  @ApiProperty({ enum: VARIANCE_STATUSES, example: 'matched' }) status!: string;
  @ApiPropertyOptional({ nullable: true, description: 'Why the row could not be compared, or what to look at', example: null }) note?: string | null;
}

export class ReconciliationReportDto {
  @ApiProperty({ example: '7' }) id!: string;
  @ApiProperty({ example: '12' }) submissionId!: string;
  @ApiProperty({ example: 'Riverside Medical Office Building' }) projectName!: string;
  @ApiProperty({ enum: SUBMISSION_STATUSES, example: 'synced' }) submissionStatus!: string;
  @ApiProperty({ example: '2026-11-27T14:13:22.982Z' }) ranAt!: string;
  @ApiProperty({ enum: ['synced', 'out_of_sync'], example: 'synced' }) outcome!: string;
  @ApiProperty({ example: 'ABC' }) spectrumCompany!: string;
  @ApiProperty({ nullable: true, example: '26-101' }) job!: string | null;
  @ApiProperty({ example: '0.00' }) tolerance!: string;
  @ApiProperty({
    example: 'Spectrum shows the exported revised estimate for all 38 row(s) of job 26-101; the totals agree: 8860816.78 in the budget, 8860816.78 in Spectrum.',
  })
  explanation!: string;
  @ApiProperty({ example: 0 }) varianceCount!: number;
  @ApiProperty({ type: ReconciliationTotalsDto }) totals!: ReconciliationTotalsDto;
  @ApiProperty({ type: [ReconciliationRowDto] }) rows!: ReconciliationRowDto[];
}
