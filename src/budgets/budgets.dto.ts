import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Min } from 'class-validator';
import { PageQueryDto } from '../common/page-query.dto';
import { SUBMISSION_STATUSES, SubmissionStatus } from './submission-status';

const trim = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

export class ListBudgetsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: SUBMISSION_STATUSES, description: 'Like the tool\'s "Filter Estimates By"' })
  @IsOptional() @IsIn(SUBMISSION_STATUSES, { message: `status must be one of ${SUBMISSION_STATUSES.join(', ')}` })
  status?: SubmissionStatus;

  @ApiPropertyOptional({ example: '1001' })
  @IsOptional() @Matches(/^[1-9]\d{0,17}$/, { message: 'procoreProjectId must be a positive whole number' })
  procoreProjectId?: string;
}

export class ReasonDto {
  @ApiProperty({ minLength: 1, maxLength: 2000, example: 'Phase 03-300 is double counted; please fix and resend.' })
  @trim()
  @IsString({ message: 'reason must be text' })
  @Length(1, 2000, { message: 'reason is required: 1 to 2,000 characters after trimming' })
  reason: string;
}

export class SendBudgetDto {
  @ApiProperty({ example: 1001, description: 'The Procore project whose budget is sent' })
  @Type(() => Number)
  @IsInt({ message: 'procoreProjectId must be a positive whole number' })
  @Min(1, { message: 'procoreProjectId must be a positive whole number' })
  procoreProjectId: number;
}

export class ReconciliationQueryDto {
  @ApiPropertyOptional({ enum: ['json', 'csv', 'html'], default: 'json' })
  @IsOptional() @IsIn(['json', 'csv', 'html'], { message: 'format must be json, csv or html' })
  format?: 'json' | 'csv' | 'html';
}
