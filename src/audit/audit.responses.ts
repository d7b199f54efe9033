import { ApiProperty } from '@nestjs/swagger';
import { PageFields } from '../common/api-docs';

/** `GET /api/v1/audit-events` as the OpenAPI document describes it (presentAuditEvent). */
export class AuditEventDto {
  @ApiProperty({ example: '16' }) id!: string;
  @ApiProperty({ example: '2026-11-27T14:13:37.969Z' }) at!: string;
  @ApiProperty({ description: "{id, name, email}; id and email null for the connector's own actions", example: { id: '1', name: 'Alex Approver', email: 'alex@summit-builders.example' } })
  actor!: { id: string | null; name: string; email: string | null };
  @ApiProperty({ example: 'token.revoke' }) action!: string;
  @ApiProperty({ nullable: true, description: 'user:<id>, token:<id> or submission:<id>', example: 'user:2' }) subject!: string | null;
  @ApiProperty({ nullable: true, description: 'The status left (budget events)', example: null }) from!: string | null;
  @ApiProperty({ nullable: true, description: 'The status entered (budget events)', example: null }) to!: string | null;
  @ApiProperty({ nullable: true, example: 'psc_cJa1ey' }) note!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, example: { userId: '2', tokenId: '4' } }) data!: Record<string, unknown> | null;
}

export class AuditEventPageDto extends PageFields {
  @ApiProperty({ type: [AuditEventDto] }) data!: AuditEventDto[];
}
