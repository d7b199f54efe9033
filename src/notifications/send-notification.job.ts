import { Injectable } from '@nestjs/common';
import { JobHandler } from '../queue/job-handler.decorator';
import { JobName, JobPayloads } from '../queue/queue.contract';
import { NotificationSender, SendResult } from './notification-sender.service';

/** Sends one email of the notification ledger (see NotificationSender). */
@Injectable()
export class SendNotificationJob {
  constructor(private readonly sender: NotificationSender) {}

  @JobHandler(JobName.SendNotification)
  handle(payload: JobPayloads[JobName.SendNotification]): Promise<SendResult> {
    return this.sender.send(payload.notificationId);
  }
}
