import { Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '../../common/auth.decorators';
import { readWebhookBody, WEBHOOK_BODY_TIMEOUT_MS } from './webhook-body';
import { webhookDeadline } from './webhook-deadline';
import { ReceivedWebhook, WebhookReceiver } from './webhook-receiver.service';
import { ApiErrors } from '../../common/api-docs';
import { WebhookReceiptDto } from './webhook.responses';

/** The route Procore delivers to; the global JSON body parser skips it (see bootstrap). */
export const WEBHOOK_PATH = '/webhooks/procore';

@ApiTags('webhooks')
@Controller('webhooks')
export class ProcoreWebhookController {
  constructor(private readonly receiver: WebhookReceiver) {}

  /**
   * Procore deliveries. Authenticated by the hook's Authorization header (not a bearer token),
   * checked before the body is read; once it checks out, always 202 — unless nothing can be stored.
   * One deadline (WEBHOOK_ANSWER_DEADLINE_MS, under Procore's 5 s) covers the body read and the store.
   */
  @Post('procore')
  @Public()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Procore webhook: checked, stored once, answered at once, processed from the queue',
    description:
      '401 for a wrong or missing Authorization header (nothing is read or stored). Otherwise 202, always: a delivery the connector cannot use is stored as unusable with the reason (GET /api/v1/webhook-events?status=unusable). 503 only when the database cannot store anything.',
  })
  @ApiHeader({ name: 'Authorization', required: true, description: "The hook's destination header: PROCORE_WEBHOOK_SECRET (or PROCORE_WEBHOOK_SECRET_PREVIOUS while rotating)" })
  @ApiBody({
    description: "Procore's delivery (payload v2 or v4), read as raw bytes: any body is accepted once the header checks out",
    required: false,
    schema: { type: 'object', additionalProperties: true },
    examples: {
      v2: {
        summary: 'A budget view snapshot created (payload v2)',
        value: {
          id: 123456789, ulid: '01JDX3K7Q2M8PZ4W6Y9B0C1D2E', timestamp: '2026-11-25T10:00:00Z', user_id: 7001, company_id: 8,
          project_id: 1001, api_version: 'v2', event_type: 'create', resource_name: 'Budget View Snapshots', resource_id: 555, metadata: {},
        },
      },
    },
  })
  @ApiAcceptedResponse({ type: WebhookReceiptDto, description: 'Stored (or recognised as a redelivery); an unusable one with the reason' })
  @ApiErrors(401, 503)
  async receive(@Headers('authorization') authorization: string | undefined, @Req() request: Request): Promise<ReceivedWebhook> {
    const deadline = webhookDeadline();
    this.receiver.authorize(authorization);
    const body = await readWebhookBody(request, { timeoutMs: Math.min(WEBHOOK_BODY_TIMEOUT_MS, deadline.remainingMs()) });
    return this.receiver.receive(body, deadline);
  }
}
