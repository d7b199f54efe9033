import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto';
import { DETAIL_PER_PAGE } from '../budget-queries.service';
import { SUBMISSION_STATUSES, SubmissionStatus } from '../submission-status';

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

export class ReconciliationQueryDto {
  @ApiPropertyOptional({ enum: ['json', 'csv', 'html'], default: 'json' })
  @IsOptional() @IsIn(['json', 'csv', 'html'], { message: 'format must be json, csv or html' })
  format?: 'json' | 'csv' | 'html';
}

const pageNumber = (name: string) => [
  IsOptional(),
  Type(() => Number),
  IsInt({ message: `${name} must be a whole number` }),
  Min(1, { message: `${name} must be 1 or more` }),
  Max(1_000_000, { message: `${name} must be at most 1000000` }),
];
const perPage = (name: string) => [
  IsOptional(),
  Type(() => Number),
  IsInt({ message: `${name} must be a whole number` }),
  Min(1, { message: `${name} must be from 1 to ${DETAIL_PER_PAGE}` }),
  Max(DETAIL_PER_PAGE, { message: `${name} must be from 1 to ${DETAIL_PER_PAGE}` }),
];
const apply = (decorators: PropertyDecorator[]): PropertyDecorator => (target, key) => decorators.forEach((decorate) => decorate(target, key));

export class DetailsQueryDto {
  @ApiPropertyOptional({ default: 1, minimum: 1 })
  @apply(pageNumber('linesPage'))
  linesPage?: number;

  @ApiPropertyOptional({ default: DETAIL_PER_PAGE, minimum: 1, maximum: DETAIL_PER_PAGE })
  @apply(perPage('linesPerPage'))
  linesPerPage?: number;

  @ApiPropertyOptional({ default: 1, minimum: 1 })
  @apply(pageNumber('rowsPage'))
  rowsPage?: number;

  @ApiPropertyOptional({ default: DETAIL_PER_PAGE, minimum: 1, maximum: DETAIL_PER_PAGE })
  @apply(perPage('rowsPerPage'))
  rowsPerPage?: number;
}

export class DetailPageQueryDto {
  @ApiPropertyOptional({ default: 1, minimum: 1 })
  @apply(pageNumber('page'))
  page?: number;

  @ApiPropertyOptional({ default: DETAIL_PER_PAGE, minimum: 1, maximum: DETAIL_PER_PAGE })
  @apply(perPage('perPage'))
  perPage?: number;
}
