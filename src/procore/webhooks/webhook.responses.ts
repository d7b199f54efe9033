import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageFields } from '../../common/api-docs';
import { WEBHOOK_EVENT_STATUSES } from '../webhook-event.entity';

/** The webhook routes' answers as the OpenAPI document describes them. */
export class WebhookReceiptDto {
  @ApiProperty({ enum: [true], example: true }) received!: true;
  @ApiProperty({ example: '41' }) eventId!: string;
  @ApiProperty({ description: 'True when this delivery had been received before (deliveries are at least once)', example: false }) duplicate!: boolean;
  @ApiProperty({ enum: WEBHOOK_EVENT_STATUSES, example: 'received' }) status!: string;
  @ApiPropertyOptional({ description: 'Why the delivery cannot be used (status unusable)', example: "the body is not valid JSON: JSON value expected but got 'n' at position 0" })
  reason?: string;
}

export class WebhookEventDto {
  @ApiProperty({ example: '41' }) id!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_STATUSES, example: 'processed' }) status!: string;
  @ApiProperty({ example: '2026-11-27T14:13:39.189Z' }) receivedAt!: string;
  @ApiProperty({ nullable: true, example: '2026-11-27T14:13:40.521Z' }) processedAt!: string | null;
  @ApiProperty({ nullable: true, description: 'ulid:<ulid>, else id:<id>', example: 'ulid:01JDX3K7Q2M8' }) dedupeKey!: string | null;
  @ApiProperty({ nullable: true, example: '01JDX3K7Q2M8' }) ulid!: string | null;
  @ApiProperty({ nullable: true, description: "Procore's event id, as text (it can exceed 2^53)", example: '5982324300946918154' }) procoreEventId!: string | null;
  @ApiProperty({ nullable: true, example: 'Budget View Snapshots' }) resourceName!: string | null;
  @ApiProperty({ nullable: true, example: 'create' }) eventType!: string | null;
  @ApiProperty({ nullable: true, example: '555' }) resourceId!: string | null;
  @ApiProperty({ nullable: true, example: '1001' }) projectId!: string | null;
  @ApiProperty({ nullable: true, example: '8' }) companyId!: string | null;
  @ApiProperty({ nullable: true, example: '7001' }) procoreUserId!: string | null;
  @ApiProperty({ nullable: true, description: 'What processing did, or why the delivery is unusable', example: 'the budget is not locked in Procore; nothing to send' }) outcome!: string | null;
  @ApiProperty({ nullable: true, description: 'What arrived: the payload, or the first 100 kB of a body that is not a JSON object', example: '{"id": 5, "ulid": "01JDX3K7Q2M8", "project_id": 1001}' })
  body!: string | null;
}

export class WebhookEventPageDto extends PageFields {
  @ApiProperty({ type: [WebhookEventDto] }) data!: WebhookEventDto[];
}
