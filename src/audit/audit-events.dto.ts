import { ApiPropertyOptional } from '@nestjs/swagger';
import { Matches, IsOptional } from 'class-validator';
import { PageQueryDto } from '../common/page-query.dto';

export const SUBJECT_PATTERN = /^(user|token|submission):[1-9]\d{0,17}$/;

export class AuditEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: 'user:12',
    description: 'user:<id> (the user and its tokens), token:<id> (one token) or submission:<id>; every event when left out',
  })
  @IsOptional()
  @Matches(SUBJECT_PATTERN, { message: 'subject must be user:<id>, token:<id> or submission:<id>' })
  subject?: string;
}
