import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Matches } from 'class-validator';

const MESSAGE = 'procoreProjectId must be a Procore project id such as "1001"';

export class SendBudgetDto {
  @ApiProperty({ example: '1001', description: 'The Procore project whose budget is sent (text or a whole number)' })
  @Transform(({ value }) => (typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value))
  @IsString({ message: MESSAGE })
  @Matches(/^[1-9]\d{0,14}$/, { message: MESSAGE })
  procoreProjectId: string;
}
