import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { BadRequestError } from '../../common/app-error';
import { Public } from '../../users/auth.decorators';
import { parseWebhookPayload } from './webhook-payload';
import { WebhookReceiver } from './webhook-receiver.service';

@ApiTags('webhooks')
@Controller('webhooks')
export class ProcoreWebhookController {
  constructor(private readonly receiver: WebhookReceiver) {}

  /** Procore v2 deliveries. Authenticated by the hook's Authorization header, not a bearer token. */
  @Post('procore')
  @Public()
  @HttpCode(202)
  @ApiOperation({ summary: 'Procore webhook (payload v2): checked, stored once, answered at once, processed from the queue' })
  async receive(@Headers('authorization') authorization: string | undefined, @Body() body: unknown) {
    this.receiver.authorize(authorization);
    const parsed = parseWebhookPayload(body);
    if ('problems' in parsed) throw new BadRequestError(`Not a Procore v2 webhook payload: ${parsed.problems.join('; ')}`);
    const { eventId, duplicate } = await this.receiver.receive(parsed.delivery);
    return { received: true, eventId, duplicate };
  }
}
