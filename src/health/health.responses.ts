import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The health answers as the OpenAPI document describes them. */
export class HealthCheckDto {
  @ApiProperty({ enum: ['up', 'down'], example: 'up' }) status!: string;
  @ApiPropertyOptional({ description: 'Why it is down', example: 'no answer within 2000 ms' }) error?: string;
}

export class HealthChecksDto {
  @ApiProperty({ type: HealthCheckDto }) database!: HealthCheckDto;
  @ApiProperty({ type: HealthCheckDto }) redis!: HealthCheckDto;
}

export class HealthDto {
  @ApiProperty({ enum: ['ok', 'unavailable'], example: 'ok' }) status!: string;
  @ApiProperty({ type: HealthChecksDto }) checks!: HealthChecksDto;
}
