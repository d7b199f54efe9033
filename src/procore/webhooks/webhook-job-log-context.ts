import { Injectable, OnModuleInit } from '@nestjs/common';
import { JobObserver } from '../../queue/job-observer';
import { WebhookEventRepository } from './webhook-event.repository';

/** Each line of a job processing a webhook event carries the event's Procore project. */
@Injectable()
export class WebhookJobLogContext implements OnModuleInit {
  constructor(
    private readonly observer: JobObserver,
    private readonly events: WebhookEventRepository,
  ) {}

  onModuleInit(): void {
    this.observer.addContextResolver(async (payload) =>
      typeof payload.webhookEventId === 'string' ? { procoreProjectId: await this.events.projectOf(payload.webhookEventId) } : {},
    );
  }
}
